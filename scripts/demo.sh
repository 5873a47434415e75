#!/usr/bin/env bash
# The main job: shows every capability beeline has so far, on a real lab.
# Each later capability adds its act here.
set -euo pipefail
cd "$(dirname "$0")/.."
B=./bin/beeline
LAB=demo
export BEELINE_LAB=$LAB

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
pod() { local p=$1; shift; $B lab pod exec "$p" -- "$@"; }

cleanup() { $B lab down --name $LAB -q >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup

say "1. A whole cluster on one machine: fabric, 2 nodes, outside world, etcd, node agents (VXLAN tunnel routing)"
run $B lab up --nodes 2 --name $LAB

say "2. Node agents (like cilium status): eBPF on the uplink and the tunnel device, pod CIDR claimed from the cluster pool"
run $B status --node node1

say "3. Pods, created through the CNI plugin exactly as a kubelet calls it; test servers inside them"
for spec in "node1 frontend" "node1 backend" "node2 db" "node2 cache"; do
  set -- $spec
  run $B lab pod add "$1" "$2" --label app="$2"
  $B lab pod exec -d "$2" -- $B serve --http 8080 --tcp 9000 --udp 9001 >/dev/null
done
run $B lab pod list -o wide
run $B endpoint list
ip_of() { $B lab pod list -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{console.log(JSON.parse(s).find(p=>p.name===process.argv[1]).ip)})' "$1"; }
BACKEND=$(ip_of backend); DB=$(ip_of db); CACHE=$(ip_of cache)
sleep 1

say "4. Pod to pod: same node (BPF redirect into the peer), across nodes (VXLAN), by ping, TCP (curl) and UDP"
run pod frontend ping -c 2 -i 0.2 -W 1 "$BACKEND"
run pod frontend ping -c 2 -i 0.2 -W 1 "$DB"
run pod frontend curl -s "http://$DB:8080/hello"
run pod cache curl -s "http://$BACKEND:8080/"
run pod frontend $B probe udp "$CACHE:9001"
run pod frontend $B probe tcp "$DB:9000"

say "4b. Security identities: equal labels, equal identity on every node (like cilium identity list)"
run $B identity list
run $B bpf ipcache list --node node1

say "4c. Kubernetes objects into the cluster store, atomically per file, with field-path errors (kubectl verbs)"
run $B apply -f examples/starwars.yaml
run $B get po -n empire
run $B get svc -n empire
run $B get cnp -A
$B apply -f examples/invalid-service.yaml || true
$B get svc good 2>&1 || true

say "5. The datapath's maps: endpoints, ipcache (remote pod CIDRs → tunnel endpoints), connection tracking"
run $B bpf endpoint list --node node1
run $B bpf ipcache list
run $B bpf ct list --node node1

say "6. Datapath events live (like cilium monitor): a curl across nodes, then a packet to a pod IP nobody has"
$B monitor --timeout 3s > /tmp/beeline-demo-monitor.txt 2>/dev/null &
MON=$!
sleep 1
pod frontend curl -s -o /dev/null "http://$DB:8080/"
GHOST=$(echo "$BACKEND" | sed 's/\.[0-9]*$/.250/')
pod frontend ping -c 1 -W 1 "$GHOST" >/dev/null || true
wait $MON || true
grep -F ":8080" /tmp/beeline-demo-monitor.txt | head -8
grep -F "drop" /tmp/beeline-demo-monitor.txt | head -2
rm -f /tmp/beeline-demo-monitor.txt

say "7. Forward and drop counters by reason (like cilium bpf metrics list)"
run $B bpf metrics list

say "8. Restarts lose nothing: a transfer runs while both agents are killed -9; their supervisors restart them"
$B lab pod exec -d db -- iperf3 -s -1 -p 5201 >/dev/null
sleep 0.5
pod frontend iperf3 -c "$DB" -p 5201 -t 6 -i 2 &
IPERF=$!
sleep 2
for pid in $($B lab status -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).nodes.map(n=>n.agent.pid).join(" ")))'); do
  echo "kill -9 agent pid $pid"; kill -9 "$pid"
done
wait $IPERF
sleep 1
run $B lab status

say "8b. The store goes away: agents keep the datapath as it is and say so; traffic flows; they resync when it returns"
run $B lab etcd stop
sleep 3
$B status --node node1 | grep -E "Health|KVStore" || true
run pod frontend ping -c 3 -i 0.2 -W 1 "$DB"
run $B lab etcd start
sleep 3
$B status --node node1 | grep -E "Health|KVStore"

say "9. Kernel features probed, not kernel versions; the ABI the codecs were generated from is the one compiled"
run $B bpf features
run node dist/scripts/gen-abi.js --check build/bpf/host.bpf.o build/bpf/lxc.bpf.o build/bpf/overlay.bpf.o

say "10. Errors are one line with a stable code"
$B lab status --name nosuchlab || true
$B lab up --nodez 3 || true
$B lab pod add node9 x || true

say "11. Host safety: traffic helpers refuse the machine's own network namespace"
$B probe tcp 127.0.0.1:9 || true

say "12. lab down removes everything it made"
run $B lab down --name $LAB
trap - EXIT
if ip netns list | grep -q "^bl-$LAB-"; then echo "namespaces left behind!"; exit 1; fi
echo "demo: ok"
