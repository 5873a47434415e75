/**
 * Issue 11's acceptance on a 2-node lab: with traffic between pods on both
 * nodes, `beeline observe` through the lab's relay returns exactly the flows
 * each filter selects (checked against an independent predicate over all
 * flows of the same time window), a policy drop names its policy, each
 * node's metrics endpoint serves Hubble's metrics with non-zero counts, and
 * flows older than the ring still come back from the flow history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import { until, sleep } from '../lib/wait.js';
import { parseTimestampJson } from '../../src/api/proto.js';
import { agentObserverSocketPath } from '../../src/lab/observer-paths.js';
import { relaySocketPath } from '../../src/lab/relay-paths.js';
import { serviceMapClient } from '../../src/api/grpc.js';
import type { GetServiceMapResponse__Output } from '../../src/api/generated/servicemap/GetServiceMapResponse.js';

const LAB = 'obs';
const RING = 256;

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: {name: obs}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: obs, labels: {app: server}}
spec:
  nodeName: node2
  containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.47, args: ["netexec", "--http-port=80", "--udp-port=8081"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: obs, labels: {app: client}}
spec:
  nodeName: node1
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: intruder, namespace: obs, labels: {app: intruder}}
spec:
  nodeName: node1
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: sysprobe, namespace: kube-system, labels: {app: sysprobe}}
spec:
  nodeName: node2
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: sysecho, namespace: kube-system, labels: {app: sysecho}}
spec:
  nodeName: node1
  containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.47, args: ["netexec", "--http-port=8080", "--udp-port=8081"]}]
---
apiVersion: v1
kind: Service
metadata: {name: server, namespace: obs}
spec:
  selector: {app: server}
  ports: [{port: 8080, targetPort: 80, protocol: TCP}]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: server-ingress, namespace: obs}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}, {port: "8081", protocol: UDP}]}]
  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system}}]
    toPorts: [{ports: [{port: "8081", protocol: UDP}]}]
`;

interface JsonFlow {
  uuid: string;
  time: string;
  verdict?: string;
  node_name?: string;
  l4?: { TCP?: { destination_port?: number }; UDP?: { destination_port?: number }; ICMPv4?: unknown };
  source?: { namespace?: string; pod_name?: string; labels?: string[] };
  destination?: { namespace?: string; pod_name?: string; labels?: string[] };
  ingress_denied_by?: { name: string }[];
  egress_denied_by?: { name: string }[];
}

const env = { BEELINE_LAB: LAB };

/** `observe ... -o json`: the flows, in the order printed. */
function observeJson(args: string[]): JsonFlow[] {
  const r = beeline(['observe', ...args, '-o', 'json'], env);
  assert.equal(r.code, 0, `observe ${args.join(' ')}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { flow?: JsonFlow })
    .filter((x) => x.flow)
    .map((x) => x.flow!);
}

const ns = (e?: { namespace?: string }) => e?.namespace ?? '';
const either = (f: JsonFlow, p: (e: JsonFlow['source']) => boolean) => p(f.source) || p(f.destination);
const dport = (f: JsonFlow) => f.l4?.TCP?.destination_port ?? f.l4?.UDP?.destination_port;
const ids = (fs: JsonFlow[]) => fs.map((f) => f.uuid).sort();
/** Nanoseconds of an RFC 3339 time (the fraction may have 0 to 9 digits). */
function ns_(t: string): bigint {
  const p = parseTimestampJson(t);
  assert.ok(p, `time ${t}`);
  return BigInt(p.seconds) * 1_000_000_000n + BigInt(p.nanos);
}

test('observe through the relay: each filter returns exactly its flows from both nodes; drops name their policy; metrics; history', { timeout: 420_000 }, async (t) => {
  t.after(() => { if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', LAB, '-q']); });
  beeline(['lab', 'down', '--name', LAB, '-q']);
  const up = beeline(['lab', 'up', '--nodes', '2', '--name', LAB, '-q', '--hubble-event-buffer-capacity', String(RING)]);
  assert.equal(up.code, 0, up.stderr);
  const r = spawnSync(beelineBin, ['apply', '-f', '-'], { input: MANIFESTS, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  const ips = await until('the pods run', () => {
    const pods = [
      ...(JSON.parse(beelineOk(['get', 'pods', '-n', 'obs', '-o', 'json'], env).stdout).items as { metadata: { name: string }; status?: { phase?: string; podIP?: string } }[]),
      ...(JSON.parse(beelineOk(['get', 'pods', '-n', 'kube-system', '-o', 'json'], env).stdout).items as { metadata: { name: string }; status?: { phase?: string; podIP?: string } }[]).filter((p) => p.metadata.name.startsWith('sys')),
    ];
    if (pods.filter((p) => p.status?.phase === 'Running' && p.status.podIP).length !== 5) return undefined;
    return Object.fromEntries(pods.map((p) => [p.metadata.name, p.status!.podIP!]));
  }, 120_000, 500);
  const serverIP = ips.server!;
  await until('the server enforces its policy', () => {
    const nodes = JSON.parse(beelineOk(['policy', 'get', '-o', 'json'], env).stdout) as { endpoints: { pod: string; ingressEnforced: boolean }[] }[];
    return nodes.flatMap((n) => n.endpoints).some((e) => e.pod === 'obs/server' && e.ingressEnforced);
  }, 30_000);

  // Phase 1: more flows than a node's ring holds, so the oldest live only in the history files.
  const t0 = new Date(Date.now() - 1000).toISOString();
  const loop = beeline(['exec', '-n', 'obs', 'client', '--', 'sh', '-c', `for i in $(seq 80); do curl -s -o /dev/null --max-time 2 http://${serverIP}/; done`], env);
  assert.equal(loop.code, 0, loop.stderr);
  // Phase 2: the traffic the filters are checked on.
  for (let i = 0; i < 2; i++) {
    assert.equal(beeline(['exec', '-n', 'obs', 'client', '--', beelineBin, 'probe', 'udp', `${serverIP}:8081`], env).code, 0, 'client → server UDP is allowed');
    assert.equal(beeline(['exec', '-n', 'kube-system', 'sysprobe', '--', beelineBin, 'probe', 'udp', `${serverIP}:8081`], env).code, 0, 'kube-system → server UDP is allowed');
    assert.equal(beeline(['exec', '-n', 'kube-system', 'sysprobe', '--', beelineBin, 'probe', 'udp', `${ips.sysecho}:8081`], env).code, 0, 'kube-system → kube-system UDP');
  }
  // Through the Service: the socket-level translation is a SOCK flow naming it.
  const svc = beeline(['exec', '-n', 'obs', 'client', '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', 'http://server.obs.svc.cluster.local:8080/'], env);
  assert.equal(svc.stdout, '200', `client -> Service server: ${svc.stderr}`);
  assert.notEqual(beeline(['exec', '-n', 'obs', 'intruder', '--', beelineBin, 'probe', 'tcp', `${serverIP}:80`, '--timeout', '1000'], env).code, 0, 'intruder → server is dropped');
  await sleep(1500);
  const t1 = new Date().toISOString();
  const window = ['--since', t0, '--until', t1];

  const all = observeJson([...window, '--all']);
  // The relay's merge is exactly the union of what each node's own Observer returns.
  const perNode = ['node1', 'node2'].map((n) => observeJson([...window, '--all', '--server', `unix://${agentObserverSocketPath(LAB, n)}`]));
  const span = (fs: JsonFlow[]) => `${fs.length} flows ${fs[0]?.time}..${fs[fs.length - 1]?.time}`;
  assert.deepEqual(ids(all), ids(perNode.flat()), `the relay (${span(all)}) returns what the nodes do (${perNode.map(span).join('; ')})`);
  assert.ok(all.length > RING, `more flows than one ring holds (${all.length})`);
  assert.deepEqual([...new Set(all.map((f) => f.node_name))].sort(), ['node1', 'node2'], 'flows from both nodes');
  for (let i = 1; i < all.length; i++) assert.ok(ns_(all[i - 1]!.time) <= ns_(all[i]!.time), `time-ordered at ${i}: ${all[i - 1]!.time} > ${all[i]!.time}`);

  const checks: { flags: string[]; want: (f: JsonFlow) => boolean }[] = [
    { flags: ['--namespace', 'obs'], want: (f) => either(f, (e) => ns(e) === 'obs') },
    { flags: ['--pod', 'obs/client'], want: (f) => either(f, (e) => ns(e) === 'obs' && (e?.pod_name ?? '').startsWith('client')) },
    { flags: ['--label', 'app=server'], want: (f) => either(f, (e) => (e?.labels ?? []).includes('k8s:app=server')) },
    { flags: ['--verdict', 'DROPPED'], want: (f) => f.verdict === 'DROPPED' },
    { flags: ['--to-port', '8081'], want: (f) => dport(f) === 8081 },
    { flags: ['--protocol', 'udp'], want: (f) => f.l4?.UDP !== undefined },
    { flags: ['--not', '--namespace', 'kube-system'], want: (f) => !either(f, (e) => ns(e) === 'kube-system') },
  ];
  for (const c of checks) {
    const got = observeJson([...window, '--all', ...c.flags]);
    const want = all.filter(c.want);
    assert.ok(want.length > 0, `${c.flags.join(' ')}: the traffic has matching flows`);
    assert.ok(want.length < all.length, `${c.flags.join(' ')}: and flows that do not match (${[...new Set(all.map((f) => `${ns(f.source)}/${f.source?.pod_name}->${ns(f.destination)}/${f.destination?.pod_name}`))].join(' ')})`);
    assert.deepEqual(ids(got), ids(want), `${c.flags.join(' ')}: exactly the matching flows`);
  }
  const obsNodes = new Set(observeJson([...window, '--all', '--namespace', 'obs']).map((f) => f.node_name));
  assert.equal(obsNodes.size, 2, 'the namespace filter returns flows from both nodes');

  // The Service the client asked for, on the socket-level translation's flow.
  const sock = all.filter((f) => (f as { Type?: string }).Type === 'SOCK' && f.source?.pod_name === 'client');
  assert.ok(
    sock.some((f) => f.verdict === 'TRANSLATED' && (f as { destination_service?: { name: string; namespace: string } }).destination_service?.name === 'server' && f.destination?.pod_name === 'server' && dport(f) === 80),
    `a SOCK flow client -> Service obs/server -> the server pod: ${JSON.stringify(sock.slice(0, 2))}`,
  );

  // The drop names the policy that made the server default-deny.
  const drops = all.filter((f) => f.verdict === 'DROPPED' && f.source?.pod_name === 'intruder');
  assert.ok(drops.length > 0, 'the intruder\'s drop is a flow');
  assert.ok(drops.some((f) => [...(f.ingress_denied_by ?? []), ...(f.egress_denied_by ?? [])].some((p) => p.name === 'server-ingress')), `denied_by names server-ingress: ${JSON.stringify(drops[0])}`);
  const compact = beeline(['observe', ...window, '--all', '--from-pod', 'obs/intruder', '--verdict', 'DROPPED', '--print-policy-names'], env);
  assert.equal(compact.code, 0, compact.stderr);
  assert.match(compact.stdout, /obs\/intruder.*DROPPED/);
  assert.match(compact.stdout, /server-ingress/);

  // The service map of the same window, through the relay's ServiceMap API.
  const client = serviceMapClient(`unix://${relaySocketPath(LAB)}`);
  const graph = await new Promise<GetServiceMapResponse__Output>((resolve, reject) =>
    client.GetServiceMap({ namespaces: ['obs'], since: parseTimestampJson(t0)!, until: parseTimestampJson(t1)! }, (e, r) => (e ? reject(e) : resolve(r!))),
  );
  client.close();
  const node = (name: string) => graph.nodes.find((n) => n.kind === 'WORKLOAD' && n.namespace === 'obs' && n.name === name);
  assert.ok(node('client') && node('server') && node('intruder'), `service map nodes: ${graph.nodes.map((n) => n.id).join(', ')}`);
  const edge = (from: string, port: number) => graph.edges.find((e) => e.source_id === node(from)!.id && e.destination_id === node('server')!.id && e.port === port);
  assert.ok(Number(edge('client', 80)?.forwarded ?? 0) >= 80, `client -> server:80 forwarded: ${JSON.stringify(edge('client', 80))}`);
  assert.ok(Number(edge('intruder', 80)?.dropped ?? 0) >= 1, `intruder -> server:80 dropped: ${JSON.stringify(edge('intruder', 80))}`);
  // The Service the client went through is a node of its own, between the two.
  const service = graph.nodes.find((n) => n.kind === 'SERVICE' && n.namespace === 'obs' && n.name === 'server');
  assert.ok(service && graph.edges.some((e) => e.source_id === node('client')!.id && e.destination_id === service.id), `client -> Service obs/server: ${graph.edges.map((e) => e.id).join(', ')}`);

  // History: the oldest flows of the window are older than anything the rings still hold.
  const ringOnly = observeJson(['--first', '1']);
  const fromHistory = observeJson(['--since', t0, '--first', '1']);
  assert.equal(fromHistory.length, 1);
  assert.ok(ns_(fromHistory[0]!.time) < ns_(ringOnly[0]!.time), `history gave ${fromHistory[0]!.time}, the rings start at ${ringOnly[0]!.time}`);
  const status = beeline(['observe', 'status', '-o', 'json'], env);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`"max_flows":\\s*"?${2 * RING}`));

  // Metrics: Hubble's names with non-zero counts on each node's endpoint.
  const agents = JSON.parse(beelineOk(['status', '-o', 'json'], env).stdout) as { node: string; nodeIP: string }[];
  for (const a of agents) {
    const m = beeline(['lab', 'exec', a.node, '--', 'curl', '-s', '--max-time', '5', `http://${a.nodeIP}:9965/metrics`], env);
    assert.equal(m.code, 0, m.stderr);
    const count = (name: string, labelPart = '') => m.stdout.split('\n').filter((l) => l.startsWith(name) && l.includes(labelPart)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
    assert.ok(count('hubble_flows_processed_total') > 0, `${a.node}: hubble_flows_processed_total`);
    assert.ok(count('hubble_tcp_flags_total') > 0, `${a.node}: hubble_tcp_flags_total`);
    assert.ok(count('hubble_port_distribution_total') > 0, `${a.node}: hubble_port_distribution_total`);
    if (a.node === 'node2') {
      assert.ok(count('hubble_drop_total', 'POLICY_DENIED') > 0, 'node2: hubble_drop_total{reason=POLICY_DENIED}');
      assert.ok(count('hubble_policy_verdicts_total') > 0, 'node2: hubble_policy_verdicts_total');
    }
  }
});
