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

# wait_ready NS N: until N pods of NS are Running and ready (60 s at most).
wait_ready() {
  for _ in $(seq 1 200); do
    n=$($B get pods -n "$1" -o json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const ps=JSON.parse(s).items;console.log(ps.filter(p=>p.status?.phase==="Running"&&(p.status.containerStatuses||[]).every(c=>c.ready)).length)})' || echo 0)
    [ "$n" -ge "$2" ] && return 0
    sleep 0.3
  done
  echo "pods of $1 not ready in time"; $B get pods -n "$1"; return 1
}
# wait_rollout NS DEPLOY: until every replica is updated and available.
wait_rollout() {
  for _ in $(seq 1 200); do
    $B get deploy -n "$1" "$2" -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const d=JSON.parse(s),r=d.spec.replicas??1,t=d.status||{};process.exit(t.updatedReplicas===r&&t.availableReplicas===r&&t.replicas===r?0:1)})' && return 0
    sleep 0.3
  done
  echo "rollout of $1/$2 did not finish"; return 1
}

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

say "4c. Kubernetes objects into the cluster store, atomically per file (any size: 10,000 objects, all or nothing); the lab's scheduler, controllers and kubelets run them"
run $B get nodes -o wide
run $B apply -f examples/starwars.yaml
wait_ready empire 4
run $B get pods -n empire -o wide
run $B get svc -n empire
run $B get endpointslices -n empire
run $B get cnp -A
$B apply -f examples/invalid-service.yaml || true
$B get svc good 2>&1 || true
# apply of any size: one etcd transaction per file (the lab's etcd runs with
# --max-txn-ops 100000), so 10,000 objects land together or not at all.
BULK=$(mktemp -d)
gen_bulk() { # gen_bulk FILE [BAD_INDEX]: 10,000 HTTPRoutes labelled bulk=demo (kept by the store, acted on by nothing yet); BAD_INDEX gets an invalid name
  node -e 'const bad=Number(process.argv[1]||-1);const o=[];for(let i=0;i<10000;i++){const n=i===bad?"Bad_Name":"route-"+String(i).padStart(5,"0");o.push(`apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: ${n}, namespace: default, labels: {bulk: demo}}\nspec:\n  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{name: svc-${i%50}, port: 8080}]}]\n`)}process.stdout.write(o.join("---\n"))' -- "${2:-}" >"$1"
}
gen_bulk "$BULK/bad.yaml" 7777
echo '$ beeline apply -f bad.yaml   # 10,000 HTTPRoutes, the 7,778th with an invalid name'
$B apply -f "$BULK/bad.yaml" 2>&1 | tail -3 || true
echo "HTTPRoutes labelled bulk=demo after the refused file: $($B get httproutes -l bulk=demo -o name 2>/dev/null | grep -c . || true)"
gen_bulk "$BULK/good.yaml"
echo '$ beeline apply -f good.yaml   # the same 10,000, all valid'
s=$(date +%s%N); $B apply -f "$BULK/good.yaml" 2>"$BULK/warnings" | tail -1; e=$(date +%s%N)
echo "applied in $(( (e - s) / 1000000 )) ms; HTTPRoutes labelled bulk=demo: $($B get httproutes -l bulk=demo -o name | grep -c .); the warnings (nothing routes by an HTTPRoute yet):"
cat "$BULK/warnings"
rm -rf "$BULK"

say "4d. Cluster DNS and exec: the cluster DNS pods (kube-system/coredns behind kube-dns); the tiefighter resolves the deathstar through kube-dns and lands (on one deathstar pod, by its IP)"
run $B get pods -n kube-system -l k8s-app=kube-dns -o wide
run $B get endpointslices -n kube-system
run $B exec -n empire tiefighter -- dig +search +short deathstar
run $B exec -n empire tiefighter -- cat /etc/resolv.conf
DS=$($B get pods -n empire -l class=deathstar -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s).items[0];console.log(p.metadata.name+" "+p.status.podIP)})')
DS_POD=${DS% *}; DS_IP=${DS#* }
run $B exec -n empire tiefighter -- curl -s -XPOST "http://$DS_IP/v1/request-landing"

say "4d2. Pods are real containers (runc, from an OCI bundle the kubelet writes): own root, PID, mount, IPC and UTS namespaces, Kubernetes' default capabilities; the agents' and etcd's sockets, the bpffs and the machine's namespaces are out of reach"
run $B exec -n empire tiefighter -- sh -c 'echo "pid 1: $(cat /proc/1/comm); capabilities: $(grep CapEff /proc/self/status | cut -f2)"
  ls -d /run/beeline 2>&1; echo "/sys/fs/bpf entries: $(ls -A /sys/fs/bpf | wc -l)"
  nsenter -t 1 -n true 2>&1 | head -1; ip link add x type dummy 2>&1; mount -t tmpfs x /mnt 2>&1; true'
echo "a hostPath volume reaching beeline's sockets is refused by the kubelet:"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: sneaky, namespace: empire}\nspec:\n  volumes: [{name: run, hostPath: {path: /run}}]\n  containers: [{name: c, image: busybox, command: [sleep, infinity], volumeMounts: [{name: run, mountPath: /host-run}]}]\n' | $B apply -f -
for _ in $(seq 1 50); do
  msg=$($B get pod -n empire sneaky -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const w=JSON.parse(s).status?.containerStatuses?.[0]?.state?.waiting;console.log(w&&w.reason!=="ContainerCreating"?w.reason+": "+w.message:"")})')
  [ -n "$msg" ] && break; sleep 0.2
done
echo "sneaky: $msg"
run $B delete pod -n empire sneaky
echo "the agent's API takes only what CNI made: an endpoint naming node1's uplink as its interface is refused (403, the field named), nothing attached:"
SOCK=/run/beeline/labs/$LAB/nodes/node1/agent.sock
EP=$(curl -s --unix-socket "$SOCK" http://agent/v1/endpoints | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const e=JSON.parse(s);const x=(e.endpoints??e).find(p=>p.pod);console.log(JSON.stringify({containerID:x.containerID,ifname:x.ifname,netns:x.netns,hostIfname:"eth0",ipv4:x.ipv4,mac:x.mac,hostMac:x.hostMac,pod:x.pod}))})')
curl -s -w ' (HTTP %{http_code})\n' --unix-socket "$SOCK" -X PUT -H 'content-type: application/json' -d "$EP" http://agent/v1/endpoints
echo "IPv6 from a pod cannot bypass policy while beeline has no IPv6 datapath: dropped as Unsupported L3 protocol"
$B lab pod exec frontend -- ping -6 -c 1 -W 1 -I eth0 ff02::2 >/dev/null 2>&1 || true
sleep 1
run $B observe --drop-reason-desc UNSUPPORTED_L3_PROTOCOL --last 1

say "4e. Two namespaces, Deployments with probes, bare pods, Services: spread over both nodes; namespace labels make identities"
run $B apply -f examples/workloads.yaml
wait_ready shop 5
wait_ready tools 2
run $B get pods -A -o wide
run $B get deploy -A
run $B exec -n tools client -- getent hosts web.shop api-headless.shop example.com
run $B identity list
sed 's/hello from web/hello v2/' examples/workloads.yaml | $B apply -f - >/dev/null
echo "(rolling update of shop/web: new pods come up before old ones go)"
wait_rollout shop web
run $B get pods -n shop -l app=web -o wide
run $B exec -n tools client -- sh -c "exit 3" || echo "exec exit status: $?"

say "4f. Services without kube-proxy: socket-level load balancing in eBPF (connect() goes straight to a backend)"
run $B service list --node node1
run $B bpf lb list --node node2
echo '$ beeline exec -n tools client -- sh -c "for i in 1..8: curl http://api.shop:8080/hostname"'
$B exec -n tools client -- sh -c 'for i in 1 2 3 4 5 6 7 8; do curl -s http://api.shop:8080/hostname; echo; done' | sort | uniq -c
echo "(the tiefighter lands through the deathstar Service now, by name)"
run $B exec -n empire tiefighter -- curl -s -XPOST http://deathstar.empire.svc.cluster.local/v1/request-landing
cat <<'EOF2' | $B apply -f - >/dev/null
apiVersion: v1
kind: Service
metadata: {name: nobody-home, namespace: shop}
spec:
  selector: {app: no-such-pods}
  ports: [{port: 80}]
EOF2
echo '$ beeline exec -n tools client -- curl http://nobody-home.shop/   (a Service without endpoints refuses at once)'
$B exec -n tools client -- curl -sS --max-time 5 http://nobody-home.shop/ || true

# node_port NS SVC: the Service's first node port.
node_port() {
  $B get svc -n "$1" "$2" -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).spec.ports[0].nodePort))'
}

say "4g. NodePort and LoadBalancer from the outside world, through either node (packet-level translation at the uplink)"
cat <<'EOF2' | $B apply -f -
apiVersion: v1
kind: Service
metadata: {name: api-nodeport, namespace: shop}
spec:
  type: NodePort
  selector: {app: api}
  ports: [{port: 8080, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: api-lb, namespace: shop}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
EOF2
sleep 2
run $B get svc -n shop
NP=$(node_port shop api-nodeport)
LBIP=""
for _ in $(seq 1 40); do
  LBIP=$($B get svc -n shop api-lb -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status?.loadBalancer?.ingress?.[0]?.ip ?? ""))')
  [ -n "$LBIP" ] && break
  sleep 0.5
done
for ip in 172.18.0.11 172.18.0.12; do
  echo "\$ beeline lab exec world -- curl http://$ip:$NP/hostname   (4 times)"
  $B lab exec world -- sh -c "for i in 1 2 3 4; do curl -s --max-time 3 http://$ip:$NP/hostname; echo; done"
done
echo "\$ beeline lab exec world -- curl http://$LBIP/clientip   (externalTrafficPolicy Local: the backend sees the outside client)"
$B lab exec world -- curl -s --max-time 3 "http://$LBIP/clientip" || true; echo

say "4h. Maglev consistent hashing (service.cilium.io/lb-algorithm: maglev): a flow picks the same backend through either node"
cat <<'EOF2' | $B apply -f -
apiVersion: v1
kind: Service
metadata:
  name: api-maglev
  namespace: shop
  annotations: {service.cilium.io/lb-algorithm: maglev}
spec:
  type: NodePort
  selector: {app: api}
  ports: [{port: 8080, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody-home-np, namespace: shop}
spec:
  type: NodePort
  selector: {app: no-such-pods}
  ports: [{port: 80}]
EOF2
sleep 2
MNP=$(node_port shop api-maglev)
$B bpf lb list --node node1 | grep -m 2 -E "Maglev"
echo "(one client in the outside world: the same source port through node1, then node2, reaches the same backend;"
echo " a small Node client, since curl --local-port cannot bind a port whose last connection sits in TIME_WAIT)"
$B lab exec world -- "$(command -v node)" -e '
  const net = require("node:net");
  const get = (host, localPort) => new Promise((resolve) => {
    let data = "";
    const s = net.connect({ host, port: '"$MNP"', localPort }, () => s.end("GET /hostname HTTP/1.0\r\n\r\n"));
    s.setTimeout(3000, () => s.destroy());
    s.on("data", (d) => (data += d));
    s.on("error", () => {});
    s.on("close", () => resolve((data.split("\r\n\r\n")[1] || "-").trim()));
  });
  (async () => {
    for (const p of [41001, 41002, 41003, 41004])
      for (const ip of ["172.18.0.11", "172.18.0.12"]) console.log(`source port ${p} → ${ip}:'"$MNP"' → ${await get(ip, p)}`);
  })();'
ENP=$(node_port shop nobody-home-np)
echo "\$ beeline lab exec world -- curl http://172.18.0.12:$ENP/   (no endpoints: the datapath answers ICMP port unreachable, so it fails at once)"
$B lab exec world -- curl -sS --max-time 5 "http://172.18.0.12:$ENP/" || true

say "4i. Identity-based network policy at L3/L4: rule1 of Cilium's Star Wars demo (applied in 4c) lets only org=empire reach the deathstar"
run $B get cnp -n empire
run $B policy get
run $B exec -n empire tiefighter -- curl -s -XPOST http://deathstar.empire.svc.cluster.local/v1/request-landing
$B monitor --type drop --type policy-verdict --timeout 5s > /tmp/beeline-demo-policy.txt 2>/dev/null &
MON=$!
sleep 1.5
echo '$ beeline exec -n empire xwing -- curl --max-time 2 -XPOST http://deathstar.empire.svc.cluster.local/v1/request-landing   (org=alliance: dropped)'
$B exec -n empire xwing -- curl -sS --max-time 2 -XPOST http://deathstar.empire.svc.cluster.local/v1/request-landing || true
wait $MON || true
echo "(the monitor: the xwing's SYN dropped by default deny, reason and deciding policy named)"
grep -m 2 -F "drop" /tmp/beeline-demo-policy.txt
rm -f /tmp/beeline-demo-policy.txt
run $B policy trace --src-pod empire/xwing --dst-pod "empire/$DS_POD" --dport 80/TCP
run $B policy trace --src-pod empire/tiefighter --dst-pod "empire/$DS_POD" --dport 80/TCP
run $B bpf policy get
cat <<'EOF2' > /tmp/beeline-demo-deny.yaml
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: no-tools-to-shop, namespace: shop}
spec:
  endpointSelector: {}
  enableDefaultDeny: {ingress: false, egress: false}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": tools}}]
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
EOF2
echo "(a deny without default deny: shop's pods keep accepting everyone but namespace tools on 8080)"
run $B apply -f /tmp/beeline-demo-deny.yaml
sleep 1
run $B endpoint list
echo '$ beeline exec -n tools client -- curl --max-time 2 http://api.shop:8080/hostname   (denied: 181)'
$B exec -n tools client -- curl -sS --max-time 2 http://api.shop:8080/hostname || true
echo '$ beeline exec -n empire tiefighter -- curl --max-time 2 http://api.shop:8080/hostname   (everyone else: default allow)'
$B exec -n empire tiefighter -- curl -sS --max-time 2 http://api.shop:8080/hostname || true; echo
API_IP=$($B get pods -n shop -l app=api -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).items[0].status.podIP))')
run $B policy trace --src-pod tools/client --dst-ip "$API_IP" --dport 8080/TCP
run $B policy trace --src-pod empire/tiefighter --dst-ip "$API_IP" --dport 8080/TCP
$B delete -f /tmp/beeline-demo-deny.yaml >/dev/null
rm -f /tmp/beeline-demo-deny.yaml
echo '$ beeline apply -f bad-policy.yaml   (bad input: refused with its field path, nothing applied)'
cat <<'EOF2' | $B apply -f - || true
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: broken, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - ports: [{protocol: TCP, port: 9000, endPort: 8000}]
EOF2
echo '$ beeline apply -f bad-l7.yaml   (an HTTP path rule that is no RE2 regular expression: refused at apply, as Cilium refuses it)'
cat <<'EOF2' | $B apply -f - || true
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: bad-l7, namespace: empire}
spec:
  endpointSelector: {matchLabels: {class: deathstar}}
  ingress:
  - toPorts:
    - ports: [{port: "80", protocol: TCP}]
      rules:
        http: [{method: PUT, path: '/v1/(exhaust)-port/\1'}]
EOF2

say "4j. L7 HTTP policy, for real: rule1's rules.http (POST /v1/request-landing only) is enforced by the node's proxy (HAProxy, one per node, never a sidecar); the datapath hands it exactly the connections an L7 rule covers"
echo "\$ beeline exec -n empire tiefighter -- curl -XPOST http://deathstar/v1/request-landing --next -XPUT http://deathstar/v1/exhaust-port --next -XPOST http://deathstar/v1/request-landing   (one keep-alive connection)"
W=' [HTTP %{http_code}, new connections: %{num_connects}]\n'
$B exec -n empire tiefighter -- curl -s -w "$W" -XPOST http://deathstar.empire.svc.cluster.local/v1/request-landing --next -s -w "$W" -XPUT http://deathstar.empire.svc.cluster.local/v1/exhaust-port --next -s -w "$W" -XPOST http://deathstar.empire.svc.cluster.local/v1/request-landing
echo "(the PUT never reached the deathstar: its process, which dies on exhaust-port as the real image's does, has not restarted)"
run $B get pods -n empire -l class=deathstar
DS_NODE=$($B get pods -n empire -l class=deathstar -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).items[0].spec.nodeName))')
echo "(the policy map: the deathstar's port 80 entries carry the proxy port, as cilium bpf policy get prints it)"
$B bpf policy get --node "$DS_NODE" | grep -E "PROXY PORT|80/TCP"
echo "(conntrack at the deathstar's node: the proxy's own connection to the deathstar, from the tiefighter's address, flagged FromProxy: its replies go back to the proxy;"
echo " the Service sent the tiefighter to either deathstar pod, so both nodes are asked)"
$B bpf ct list | grep -m 2 FromProxy || echo "(none left: the connections closed and their entries expired)"
run $B policy trace --src-pod empire/tiefighter --dst-pod "empire/$DS_POD" --dport 80/TCP
echo "(flows: the connection REDIRECTED to the proxy, then each request and response as an L7 flow; the 403 names no server: the proxy answered)"
run $B observe --namespace empire --verdict REDIRECTED --last 2
run $B observe --namespace empire --protocol http --last 6
echo "(the denied request's flow: the L7 verdict, the identities, and the request headers the proxy records; credentials would show as [redacted])"
$B exec -n empire tiefighter -- curl -s -o /dev/null -H 'Authorization: Bearer not-for-logs' -XPUT http://deathstar.empire.svc.cluster.local/v1/exhaust-port
run $B observe --namespace empire --protocol http --http-method PUT --verdict DROPPED --last 1 -o json

say "4k. DNS-aware policy: DNS rules and toFQDNs, enforced by each node's DNS proxy (in the agent); the pod may resolve *.example.test and reach api.example.test only, whatever its address"
cat <<'EOF2' | $B apply -f - >/dev/null
apiVersion: v1
kind: Namespace
metadata: {name: fqdn}
---
apiVersion: v1
kind: Pod
metadata: {name: mediabot, namespace: fqdn, labels: {org: empire, class: mediabot}}
spec:
  nodeName: node1
  containers: [{name: mediabot, image: busybox, command: ["sleep", "infinity"]}]
EOF2
WORLD_API=172.18.0.203; WORLD_API2=172.18.0.204
# Two servers in the outside world, each in its own process group (ended by it below, never by name).
setsid $B lab exec world -- "$(pwd)/bin/beeline" serve --http 80 --address $WORLD_API --name api-server-1 >/dev/null 2>&1 &
W1=$!
setsid $B lab exec world -- "$(pwd)/bin/beeline" serve --http 80 --address $WORLD_API2 --name api-server-2 >/dev/null 2>&1 &
W2=$!
run $B lab world-dns set api.example.test $WORLD_API
wait_ready fqdn 1
FQDN_POLICY=$(mktemp)
cat > "$FQDN_POLICY" <<'EOF2'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: fqdn, namespace: fqdn}
spec:
  endpointSelector: {matchLabels: {org: empire, class: mediabot}}
  egress:
  - toEndpoints:
    - matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, "k8s:k8s-app": kube-dns}
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules:
        dns: [{matchPattern: "*.example.test"}]
  - toFQDNs: [{matchName: api.example.test}]
EOF2
cat "$FQDN_POLICY"; $B apply -f "$FQDN_POLICY" >/dev/null; rm -f "$FQDN_POLICY"
sleep 1
echo "(the first connection right after the answer goes through on its first SYN: the proxy releases the answer only once the datapath knows the address; a dropped SYN would cost a 1 s retransmit)"
run $B exec -n fqdn mediabot -- curl -s --max-time 3 -w '\n(lookup %{time_namelookup} s, connected %{time_connect} s)' http://api.example.test/hostname; echo
echo "\$ beeline exec -n fqdn mediabot -- dig evil.test   (not *.example.test: the proxy answers REFUSED)"
$B exec -n fqdn mediabot -- dig +tries=1 +time=3 evil.test | grep -E "status|ANSWER:" || true
echo "\$ beeline exec -n fqdn mediabot -- curl http://172.18.0.100/   (another address of the outside world: dropped)"
$B exec -n fqdn mediabot -- curl -s --max-time 2 http://172.18.0.100/ || echo "(curl exit $?: dropped by policy)"
run $B fqdn cache list
echo "(the name moves to another address; after the answer's 2 s TTL the pod gets the new one, and the old one goes once no connection uses it)"
run $B lab world-dns set api.example.test $WORLD_API2
sleep 3
run $B exec -n fqdn mediabot -- curl -s --max-time 3 http://api.example.test/hostname; echo
run $B observe --namespace fqdn --protocol dns --last 4
run $B observe --to-fqdn api.example.test --last 2
$B status --node node1 | grep "DNS proxy"
echo "(a policy suggested from what mediabot was observed doing: its allowed flows only, the learned name as toFQDNs, each rule explained by its flows)"
run $B policy suggest -n fqdn --pod mediabot --since 10m
kill -- -"$W1" -"$W2" 2>/dev/null || true

say "4l. Kafka policy (the schema Cilium had up to 1.19): Cilium's secure-empire-kafka lets empire-hq produce to empire-announce only; each node's Kafka proxy (in the agent) answers other topics with TOPIC_AUTHORIZATION_FAILED on the same connection"
echo "(no Kafka broker can be installed here: the broker pod runs beeline's protocol-exact test broker; kafkajs and kcat are the real clients)"
cat <<EOF2 | $B apply -f - >/dev/null
apiVersion: v1
kind: Namespace
metadata: {name: kafka}
---
apiVersion: v1
kind: Pod
metadata: {name: kafka-broker, namespace: kafka, labels: {app: kafka}}
spec:
  nodeName: node2
  containers:
  - name: kafka
    image: beeline/kafka-test-broker
    command: ["$(command -v node)", "$(pwd)/dist/test/lib/kafka-broker-main.js", "--port", "9092", "--topics", "empire-announce,deathstar-plans"]
---
apiVersion: v1
kind: Pod
metadata: {name: empire-hq, namespace: kafka, labels: {app: empire-hq}}
spec:
  nodeName: node1
  containers: [{name: hq, image: busybox, command: ["sleep", "infinity"]}]
EOF2
wait_ready kafka 2
KAFKA_POLICY=$(mktemp)
cat > "$KAFKA_POLICY" <<'EOF2'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: secure-empire-kafka, namespace: kafka}
spec:
  endpointSelector: {matchLabels: {app: kafka}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: empire-hq}}]
    toPorts:
    - ports: [{port: "9092", protocol: TCP}]
      rules:
        kafka: [{role: produce, topic: empire-announce}]
EOF2
cat "$KAFKA_POLICY"; $B apply -f "$KAFKA_POLICY" >/dev/null; rm -f "$KAFKA_POLICY"
sleep 1
BROKER=$($B get pods -n kafka kafka-broker -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status.podIP))')
echo "\$ beeline exec -n kafka empire-hq -- node kafka-produce.js --broker $BROKER:9092 empire-announce deathstar-plans empire-announce   (kafkajs, one producer)"
$B exec -n kafka empire-hq -- "$(command -v node)" "$(pwd)/dist/test/lib/kafka-produce.js" --broker "$BROKER:9092" empire-announce deathstar-plans empire-announce || true
echo "\$ echo hello | beeline exec -i -n kafka empire-hq -- kcat -P -b $BROKER:9092 -t deathstar-plans"
echo "the plans" | $B exec -i -n kafka empire-hq -- kcat -P -b "$BROKER:9092" -t deathstar-plans -X message.timeout.ms=4000 2>&1 | tail -2 || true
run $B observe --protocol kafka --last 6

say "4m. A mesh without sidecars (Gateway API GAMMA): an HTTPRoute whose parent is the Service web splits its requests 90/10 between Services v1 and v2; the datapath hands only routed Services' connections to the node's proxy (HAProxy, one per node); weights change in place; retries on 503"
NODE_BIN=$(command -v node)
# mesh_pod NAME NODE LABELS COMMAND: a pod of namespace mesh (COMMAND: a JSON array).
mesh_pod() { printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: mesh, labels: {%s}}\nspec:\n  nodeName: %s\n  containers: [{name: c, image: busybox, command: %s}]\n' "$1" "$3" "$2" "$4"; }
# mesh_svc NAME SELECTOR: a Service of namespace mesh, port 80 to the pods' 8080.
mesh_svc() { printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: mesh}\nspec: {selector: {%s}, ports: [{port: 80, targetPort: 8080}]}\n' "$1" "$2"; }
version_server() { printf '["%s", "-e", "require(\x27http\x27).createServer((q, s) => s.end(\x27%s\x27)).listen(8080)"]' "$NODE_BIN" "$1"; }
FLAKY_SERVER="[\"$NODE_BIN\", \"-e\", \"let n = 0; require('http').createServer((q, s) => { if (++n % 10 === 0) { s.statusCode = 503; s.end('fail'); } else s.end('ok'); }).listen(8080)\"]"
{
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: mesh}\n'
  mesh_pod v1-a node1 "app: web, version: v1" "$(version_server v1)"
  mesh_pod v1-b node2 "app: web, version: v1" "$(version_server v1)"
  mesh_pod v2-a node2 "app: web, version: v2" "$(version_server v2)"
  mesh_pod flaky node2 "app: flaky" "$FLAKY_SERVER"
  mesh_pod client node1 "app: client" '["sleep", "infinity"]'
  mesh_svc web "app: web"; mesh_svc v1 "version: v1"; mesh_svc v2 "version: v2"; mesh_svc flaky "app: flaky"
} | $B apply -f - >/dev/null
wait_ready mesh 5
ROUTE=$(mktemp)
split_route() {
  cat > "$ROUTE" <<EOF2
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: mesh}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
  - backendRefs:
    - {name: v1, port: 80, weight: $1}
    - {name: v2, port: 80, weight: $2}
EOF2
}
# COUNT URL N: N requests from the client pod (a new connection each), the answers counted.
count() { $B exec -n mesh client -- sh -c "for i in \$(seq $2); do wget -q -O - $1; echo; done" | sort | uniq -c; }
echo "(without a route: the Service web spreads connections over its three pods in the kernel)"
echo "\$ beeline exec -n mesh client -- sh -c 'for i in \$(seq 100); do wget -qO- http://web.mesh.svc.cluster.local/; done' | sort | uniq -c"
count http://web.mesh.svc.cluster.local/ 100
split_route 90 10; cat "$ROUTE"
run $B apply -f "$ROUTE"
for _ in $(seq 1 60); do count http://web.mesh.svc.cluster.local/ 20 | grep -q ' 2 v2$' && break; sleep 1; done
echo "\$ beeline exec -n mesh client -- sh -c 'for i in \$(seq 200); do wget -qO- http://web.mesh.svc.cluster.local/; done' | sort | uniq -c   (90/10: a weighted round robin per rule, exact over every 10 requests)"
count http://web.mesh.svc.cluster.local/ 200
echo "(the routed frontend in the datapath: its master entry names the proxy's mesh listener, as Cilium's L7 load-balancer frontends)"
$B bpf lb list --node node1 | grep -E "FRONTEND|l7-load-balancer" | head -3
split_route 50 50
run $B apply -f "$ROUTE"
sleep 1
count http://web.mesh.svc.cluster.local/ 200
echo "(a change of weights alone is swapped into the running proxy's maps: no reload, no connection cut)"
grep -m 1 'mesh weights swapped in place' "/run/beeline/labs/$LAB/nodes/node1/agent.log" || true
cat > "$ROUTE" <<'EOF2'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: retry, namespace: mesh}
spec:
  parentRefs: [{group: "", kind: Service, name: flaky, port: 80}]
  rules:
  - backendRefs: [{name: flaky, port: 80}]
    retry: {attempts: 1, codes: [503]}
EOF2
echo "(the flaky pod answers 503 to every 10th request; the route retries once on 503, GET only, within a retry budget)"
cat "$ROUTE"; run $B apply -f "$ROUTE"; rm -f "$ROUTE"
for _ in $(seq 1 60); do count http://flaky.mesh.svc.cluster.local/ 20 | grep -q ' 20 ok$' && break; sleep 1; done
count http://flaky.mesh.svc.cluster.local/ 200
echo "(every routed request is an L7 flow with its route, rule, backend Service, server and retries)"
$B observe --namespace mesh --protocol http --last 400 | grep -m 2 'retries=1' || true
run $B get httproute split -n mesh -o yaml
run $B describe httproute split -n mesh
NODE1_IP=$($B status -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const a=JSON.parse(s);const n=(Array.isArray(a)?a:a.agents??[a]).find(x=>x.node==="node1");console.log(n.nodeIP)})')
echo "\$ beeline lab exec node1 -- curl -s http://$NODE1_IP:9965/metrics | grep -E '^beeline_mesh_(requests|retries)_total'"
$B lab exec node1 -- curl -s "http://$NODE1_IP:9965/metrics" | grep -E '^beeline_mesh_(requests|retries)_total' | head -6 || true

say "4n. Mutual TLS that encrypts: a CiliumNetworkPolicy with authentication.mode: required; the client's node proxy carries its plain HTTP to the server's node proxy over TLS 1.3, both sides verified against the operator's CA (SPIFFE IDs per ServiceAccount); plaintext is dropped (189)"
cat <<EOF2 | $B apply -f - >/dev/null
apiVersion: v1
kind: Namespace
metadata: {name: mt}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: mt, labels: {app: web}}
spec:
  nodeName: node1
  serviceAccountName: web
  containers: [{name: web, image: docker.io/cilium/starwars}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: mt, labels: {app: client}}
spec:
  nodeName: node2
  serviceAccountName: client
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
EOF2
wait_ready mt 2
AUTH=$(mktemp)
cat > "$AUTH" <<'EOF2'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web-auth, namespace: mt}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    authentication: {mode: required}
    toPorts: [{ports: [{port: "80", protocol: TCP}, {port: "9000", protocol: UDP}]}]
EOF2
cat "$AUTH"; run $B apply -f "$AUTH"; rm -f "$AUTH"
WEB=$($B get pods -n mt web -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status.podIP))')
echo "(the web pod's ipcache entry, on every node, says its ingress requires authentication)"
$B bpf ipcache list --node node2 | grep -E "^$WEB/32|auth-required" | head -2
for _ in $(seq 1 60); do $B exec -n mt client -- wget -q -T 3 -O /dev/null "http://$WEB/v1/" 2>/dev/null && break; sleep 1; done
PCAP=$(mktemp --suffix .pcap)
ip netns exec "bl-$LAB-fabric" tshark -i br0 -w "$PCAP" >/dev/null 2>&1 &
TSHARK=$!
sleep 2
echo "\$ beeline exec -n mt client -- wget -qO- http://$WEB/v1/?mtls-demo   (tshark captures the lab fabric meanwhile)"
$B exec -n mt client -- wget -q -O - "http://$WEB/v1/?mtls-demo" | grep -m 2 -E '"(name|hostname)"' || true
sleep 1; kill -INT $TSHARK; wait $TSHARK 2>/dev/null || true
echo "(on the fabric: node1's listener answers with TLS 1.3 (0x0304); no HTTP, not even inside the VXLAN tunnel)"
tshark -r "$PCAP" -d tcp.port==15008,tls -d udp.port==8472,vxlan -Y 'tls.handshake.type == 2' -T fields -e ip.src -e tcp.srcport -e tls.handshake.extensions.supported_version 2>/dev/null | head -2
echo "HTTP packets on the fabric: $(tshark -r "$PCAP" -d tcp.port==15008,tls -d udp.port==8472,vxlan -Y http 2>/dev/null | wc -l)"
rm -f "$PCAP"
echo "(node1's flow names the client's SPIFFE ID, read from the certificate its node's proxy presented)"
$B observe --protocol http --pod mt/web --last 2 | grep mtls-peer || true
echo "(plaintext that no proxy carried (UDP under the same allow) is dropped at the web pod: Authentication required, Cilium's 189)"
for _ in 1 2 3; do $B exec -n mt client -- bash -c "echo plaintext > /dev/udp/$WEB/9000" 2>/dev/null || true; sleep 0.5; done
$B observe --verdict DROPPED --pod mt/web --last 1 || true

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
grep -m 8 -F ":8080" /tmp/beeline-demo-monitor.txt
grep -m 2 -F "drop" /tmp/beeline-demo-monitor.txt
rm -f /tmp/beeline-demo-monitor.txt

say "6b. Flows, cluster-wide (like hubble observe through hubble-relay): every node's flows merged in time order, filters, the drop explained by its policy"
run $B observe status
run $B list nodes
echo '$ beeline exec -n empire xwing -- curl --max-time 2 -XPOST http://deathstar.empire.svc.cluster.local/v1/request-landing   (dropped again)'
$B exec -n empire xwing -- curl -sS --max-time 2 -XPOST http://deathstar.empire.svc.cluster.local/v1/request-landing >/dev/null 2>&1 || true
run $B observe --namespace empire --verdict DROPPED --last 3 --print-policy-names
run $B observe --from-pod empire/tiefighter --to-port 80 --last 4 --print-node-name
run $B observe --protocol udp --to-port 53 --last 2
run $B observe --protocol udp --not --port 53 --last 2
echo "(Services through socket-level load balancing: the connect() translation is a SOCK flow naming the Service; the packets only ever carry the backend)"
run $B observe --type trace-sock --namespace empire --last 2 -o dict
run $B observe --from-pod empire/xwing --verdict DROPPED --last 1 -o json
NODE1_IP=$($B status -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const a=JSON.parse(s);const n=(Array.isArray(a)?a:a.agents??[a]).find(x=>x.node==="node1");console.log(n.nodeIP)})')
echo "\$ beeline lab exec node1 -- curl -s http://$NODE1_IP:9965/metrics | grep -E '^hubble_(flows_processed|drop)_total' | head -6   (Hubble's metrics, per node)"
METRICS=$($B lab exec node1 -- curl -s "http://$NODE1_IP:9965/metrics")
grep -m 6 -E '^hubble_(flows_processed|drop)_total' <<<"$METRICS" || true
echo "(flow history: every node also writes its flows to rotated JSON-lines files, Hubble's export format; observe --since reads them when the ring no longer holds the range)"
run $B observe --since 30m --first 2 --print-node-name

say "6c. The web UI (beeline ui, started by lab up on loopback): the live service map of every namespace, the flow table with observe's filters, the policy behind each drop, a policy suggested from the flows; headless Chromium looks and saves screenshots"
UI_URL=$($B lab status -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).ui?.url??""))')
echo "UI: $UI_URL   (open it in a browser on this machine)"
run node dist/scripts/ui-screenshots.js --url "$UI_URL" --out demo-artifacts --filter 'http-status:403' --select workload/empire/deathstar

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
run node dist/scripts/gen-abi.js --check build/bpf/host.bpf.o build/bpf/lxc.bpf.o build/bpf/overlay.bpf.o build/bpf/sock.bpf.o

say "10. Errors are one line with a stable code"
$B lab status --name nosuchlab || true
$B lab up --nodez 3 || true
$B lab pod add node9 x || true

say "11. Host safety: traffic helpers refuse the machine's own network namespace"
$B probe tcp 127.0.0.1:9 || true

say "11b. Install on a real cluster: kubectl kustomize deploy/kubernetes renders the agent DaemonSet (in the host network namespace by its explicit switch, Kubernetes mode in-cluster), the operator, RBAC, the CRDs and the config"
kubectl kustomize deploy/kubernetes | grep -E '^kind:' | sort | uniq -c
say "11b. CNI 1.1 on node1, the plugin run as a runtime runs it (in the node's namespace, its config on stdin): STATUS exits 0 when an ADD would be served; GC releases what the runtime no longer lists (an address held for a container that is gone, here asked by exact address) and keeps the pods it lists"
SOCK=/run/beeline/labs/$LAB/nodes/node1/agent.sock
CNICONF="\"cniVersion\":\"1.1.0\",\"name\":\"beeline\",\"type\":\"beeline-cni\",\"agentSocket\":\"$SOCK\""
cni() { printf '$ echo {…} | CNI_COMMAND=%s ip netns exec bl-%s-node1 bin/beeline-cni\n' "$1" "$LAB"; CNI_COMMAND=$1 CNI_PATH=/opt/cni/bin ip netns exec "bl-$LAB-node1" bin/beeline-cni && echo "$1: exit 0"; }
echo "{$CNICONF}" | cni STATUS
STALE=$(curl -s --unix-socket "$SOCK" http://agent/v1/status?maps=0 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).podCIDR.replace(/\.0\/\d+$/,".250")))')
curl -s -w '\n' --unix-socket "$SOCK" -X POST -H 'content-type: application/json' -d "{\"owner\":\"gone0000/eth0\",\"ip\":\"$STALE\"}" http://agent/v1/ipam/allocate
VALID=$(curl -s --unix-socket "$SOCK" http://agent/v1/endpoints | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(JSON.parse(s).map(e=>({containerID:e.containerID,ifname:e.ifname})))))')
echo "{$CNICONF,\"cni.dev/valid-attachments\":$VALID}" | cni GC
$B status --node node1 | grep -E '^(IPAM|Endpoints|Netns)'

say "11c. Kubernetes mode (no API server runs here: the Kubernetes API test double, driven with the real kubectl, in a namespace that plays a node): the agent takes its pod CIDR from the Node, keeps identities and endpoints as BeelineIdentity/BeelineEndpoint objects, programs a Service and enforces a CiliumNetworkPolicy applied with kubectl apply, and writes the policy's status.nodes; the operator hands out pod CIDRs and collects unused identities"
run node --test --test-reporter=spec dist/test/privileged/k8s-mode.test.js 2>&1 | grep -vE '^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms)'
say "11d. podman 4.3 as a CNI client of beeline-cni (run only inside a lab node's namespace, with private state): run, stop, start, restart, network reload, rm, six parallel starts, --ip and --mac-address, nothing left after"
run node --test --test-reporter=spec dist/test/privileged/podman-cni.test.js 2>&1 | grep -vE '^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms)'

say "12. lab down removes everything it made"
run $B lab down --name $LAB
trap - EXIT
if ip netns list | grep -q "^bl-$LAB-"; then echo "namespaces left behind!"; exit 1; fi
echo "demo: ok"
