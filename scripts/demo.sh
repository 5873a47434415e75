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

cleanup() { $B lab down --name $LAB -q >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup

say "1. A whole cluster on one machine: fabric, 2 nodes, outside world, etcd, node agents"
run $B lab up --nodes 2 --name $LAB

say "2. Lab status (also as JSON for tools)"
run $B lab status
$B lab status -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(`healthy=${r.healthy} nodes=${r.nodes.map(n=>n.name+":"+n.agent.health).join(",")} etcd=${r.etcd.version}`)})'

say "3. Node agents (like cilium status)"
run $B status

say "4. Real packets across the lab fabric: node to node, outside world to node"
run $B lab exec node1 -- ping -c 3 -i 0.2 -W 1 172.18.0.12
run $B lab exec world -- ping -c 2 -i 0.2 -W 1 172.18.0.11
run $B lab exec world -- $B probe tcp 172.18.0.11:80 --timeout 500 || echo "(refused: nothing listens on node1:80 yet, as expected)"

say "5. The eBPF datapath on each node's uplink counted them (like cilium bpf metrics list)"
run $B bpf metrics list

say "6. Kernel features probed, not kernel versions; the ABI the codecs were generated from is the one compiled"
run $B bpf features
run node dist/scripts/gen-abi.js --check build/bpf/host.bpf.o

say "7. Errors are one line with a stable code"
$B lab status --name nosuchlab || true
$B lab up --nodez 3 || true

say "8. Host safety: traffic helpers refuse the machine's own network namespace"
$B probe tcp 127.0.0.1:9 || true

say "9. lab down removes everything it made"
run $B lab down --name $LAB
trap - EXIT
ip netns list | grep -c "^bl-$LAB-" >/dev/null && { echo "namespaces left behind!"; exit 1; }
echo "demo: ok"
