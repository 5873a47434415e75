/**
 * `beeline policy suggest` end to end on a 2-node lab: observe a client
 * (node1) connecting to a server (node2) on port 80 and to a name in the
 * lab's outside world (through the cluster DNS), suggest the server's
 * policy (ingress, by pod name) and the client's (egress, by label), apply
 * both, replay the same connections with no drop, and see connections never
 * observed (another pod to the server, the client to another port, the
 * client to another world address) dropped
 * by the suggested policies (and, suggested again, still no rule: a
 * connection dropped at its destination is not allowed traffic).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readState } from '../../src/lab/state.js';
import { setWorldRecords } from '../../src/lab/dns.js';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import { kubectl, waitPoliciesProgrammed } from '../lib/policy.js';
import { until } from '../lib/wait.js';
import { WorldServers } from '../lib/world.js';

const LAB = 'hsug';
const NS = 'sug';
const env = { BEELINE_LAB: LAB };

const PODS = `apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: ${NS}, labels: {app: server}}
spec:
  nodeName: node2
  containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.47, args: ["netexec", "--http-port=80", "--udp-port=8081"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client-5d8f7-x2k4q, namespace: ${NS}, labels: {app: client, pod-template-hash: 5d8f7}}
spec:
  nodeName: node1
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: ${NS}, labels: {app: other}}
spec:
  nodeName: node1
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
`;

const CLIENT = 'client-5d8f7-x2k4q';

/** A TCP connection from a pod: true when it is established within 1 s. */
const connect = (from: string, ip: string, port: number) => beeline(['exec', '-n', NS, from, '--', beelineBin, 'probe', 'tcp', `${ip}:${port}`, '--timeout', '1000'], env).code === 0;

interface FlowJson { verdict?: string; IP?: { destination?: string }; source?: { pod_name?: string }; destination?: { pod_name?: string }; l4?: { TCP?: { destination_port?: number } } }
/** Dropped flows of the namespace since `since` (RFC 3339), as `src→dst:port`. */
function drops(since: string): string[] {
  const r = beeline(['observe', '-n', NS, '--verdict', 'DROPPED', '--since', since, '-o', 'json'], env);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { flow?: FlowJson }).flow).filter((f): f is FlowJson => !!f)
    .map((f) => `${f.source?.pod_name}→${f.destination?.pod_name || f.IP?.destination}:${f.l4?.TCP?.destination_port ?? '?'}`);
}

let serverIP = '';
let servers: WorldServers | undefined;
let api = '';
let www = '';

/** curl by name from the client (through the cluster DNS); the body, '' when it failed. */
function curl(target: string): string {
  const r = beeline(['exec', '-n', NS, CLIENT, '--', 'curl', '-s', '--max-time', '3', `http://${target}/`], env, 20_000);
  return r.code === 0 ? r.stdout.trim() : '';
}

before(async () => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
  beelineOk(['lab', 'up', '--name', LAB, '--nodes', '2', '-q']);
  // Two servers in the lab's outside world: api.example.test (observed) and another address (never observed).
  [api, www] = readState(LAB)!.plan.world.extraIPs as [string, string];
  servers = new WorldServers(env);
  servers.start(api, ['--http', '80'], 'api-one');
  servers.start(www, ['--http', '80'], 'www-server');
  await setWorldRecords(LAB, 'api.example.test', [api]);
  kubectl(env, 'apply', PODS);
  serverIP = await until('three pods running', () => {
    const items = JSON.parse(beelineOk(['get', 'pods', '-n', NS, '-o', 'json'], env).stdout).items as { metadata: { name: string }; status?: { phase?: string; podIP?: string } }[];
    if (items.filter((p) => p.status?.phase === 'Running' && p.status.podIP).length !== 3) return undefined;
    return items.find((p) => p.metadata.name === 'server')!.status!.podIP!;
  }, 120_000, 500);
});

after(() => {
  servers?.stop();
  if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', LAB, '-q']);
});

interface Suggestion { policies: { kind: string; metadata: { name: string }; spec: Record<string, unknown> }[]; explanations: { direction: string; flows: number }[]; warnings: string[] }
const suggest = (args: string[]): Suggestion => JSON.parse(beelineOk(['policy', 'suggest', '-n', NS, '--since', '5m', '-o', 'json', ...args], env).stdout) as Suggestion;

test('observe, suggest, apply: the observed connections pass with no drop, connections never observed are dropped', { timeout: 240_000 }, async () => {
  // Observe: before any policy everything connects.
  for (let i = 0; i < 3; i++) assert.ok(connect(CLIENT, serverIP, 80), 'client → server:80 before any policy');
  await until('the client reaches api.example.test by name', () => curl('api.example.test').includes('api-one'), 30_000, 500);
  const server = await until('the server\'s ingress from the client is suggested', () => {
    const s = suggest(['--pod', 'server']);
    const ingress = (s.policies[0]?.spec.ingress ?? []) as Record<string, unknown>[];
    return ingress.some((r) => JSON.stringify(r).includes('"app":"client"')) ? s : undefined;
  }, 30_000, 1000);
  assert.deepEqual(server.policies.map((p) => [p.kind, p.metadata.name]), [['CiliumNetworkPolicy', 'suggested-server']]);
  assert.deepEqual(server.policies[0]!.spec.endpointSelector, { matchLabels: { app: 'server' } });
  assert.deepEqual(server.policies[0]!.spec.ingress, [{ fromEndpoints: [{ matchLabels: { app: 'client' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }], 'the peer by its stable labels: no pod-template-hash');
  assert.ok(server.explanations.find((e) => e.direction === 'ingress')!.flows >= 1);
  const client = suggest(['--label', 'app=client']);
  // Without DNS rules in force no DNS proxy saw the answer, so the flow names no DNS name: the world address as a /32.
  assert.deepEqual(client.policies[0]!.spec.egress, [
    { toCIDR: [`${api}/32`], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] },
    { toEndpoints: [{ matchLabels: { 'k8s-app': 'kube-dns', 'k8s:io.kubernetes.pod.namespace': 'kube-system' } }], toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }] }] },
    { toEndpoints: [{ matchLabels: { app: 'server' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] },
  ]);

  // Apply the YAML the command prints (the same suggestion, with comments).
  const yamlOf = (...args: string[]) => beelineOk(['policy', 'suggest', '-n', NS, '--since', '5m', ...args], env).stdout;
  const yaml = [yamlOf('--pod', 'server'), yamlOf('--label', 'app=client')].join('---\n');
  assert.match(yaml, /# ingress pods \{app=client\} on 80\/TCP: \d+ flow\(s\), e\.g\. sug\/client-5d8f7-x2k4q → sug\/server:80\/TCP/);
  kubectl(env, 'apply', yaml);
  await waitPoliciesProgrammed(LAB);

  // Replay: the same connections, no drop.
  const replay = new Date(Date.now() - 1000).toISOString();
  for (let i = 0; i < 5; i++) assert.ok(connect(CLIENT, serverIP, 80), `replayed client → server:80 #${i + 1}`);
  for (let i = 0; i < 3; i++) assert.match(curl('api.example.test'), /api-one/, `replayed client → api.example.test #${i + 1}`);
  // Never observed: another pod to the server (server ingress), the client to another port (client egress).
  assert.equal(connect('other', serverIP, 80), false, 'other → server:80 was never observed');
  assert.equal(connect(CLIENT, serverIP, 8080), false, 'client → server:8080 was never observed');
  assert.equal(curl(www), '', 'client → another world address was never observed');
  const dropped = await until('the unobserved connections are dropped flows', () => {
    const d = drops(replay);
    return d.includes('other→server:80') && d.includes(`${CLIENT}→server:8080`) && d.includes(`${CLIENT}→${www}:80`) ? d : undefined;
  }, 20_000, 1000);
  assert.deepEqual(dropped.filter((d) => d === `${CLIENT}→server:80` || d === `${CLIENT}→${api}:80` || d.includes(':53')), [], `no drop of the replayed traffic (nor of its DNS):\n${dropped.join('\n')}`);
  // The dropped attempt was forwarded by node1 but dropped by node2: it is no observed (allowed) traffic.
  const again = suggest(['--pod', 'server']);
  assert.deepEqual(again.policies[0]!.spec.ingress, server.policies[0]!.spec.ingress, 'other → server:80 (dropped) makes no rule');
});
