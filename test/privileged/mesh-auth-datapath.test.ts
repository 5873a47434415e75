/**
 * Mutual authentication required, the datapath side (issue 15, piece E1),
 * on a 2-node lab: a server pod on node2 whose CiliumNetworkPolicy allows
 * the client pod (node1) and the other nodes on TCP 80 with
 * `authentication: {mode: required}`.
 *   - node2's agent publishes the server's ipcache entry with authRequired;
 *     node1's bl_ipcache gets BL_IPCACHE_F_AUTH_REQUIRED on it.
 *   - Client side, no listener on node1's mTLS-out port (15004, the lab's
 *     NodeProxyConfig.mtlsOutPort; HAProxy's listener is piece E2): the
 *     client's SYN is handed to the proxy's socket and there is none, so it
 *     is dropped AT THE CLIENT with 178 (SOCKET_LOOKUP_FAILED).
 *   - Server side: node1's own connection (not a pod: never handed over)
 *     arrives in plaintext and is dropped AT THE SERVER with 189
 *     (AUTH_REQUIRED, "Authentication required").
 *   - With a transparent listener on 15004 in node1's namespace (a stand-in
 *     for the proxy, mesh-auth-listener-child.ts) the client's connection
 *     is taken by it, its local address the server pod's (the original
 *     destination).
 *   - Without the policy the flag goes and the client reaches the server directly.
 * Run: flock /tmp/beeline-heavy.lock node --test dist/test/privileged/mesh-auth-datapath.test.js
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import { until } from '../lib/wait.js';

const LAB = 'mauth';
const env = { BEELINE_LAB: LAB };
const NODE1_NETNS = `bl-${LAB}-node1`;
const MTLS_OUT_PORT = 15004;
const LISTENER = fileURLToPath(new URL('./mesh-auth-listener-child.js', import.meta.url));

const PODS = `apiVersion: v1
kind: Namespace
metadata: {name: ma}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: ma, labels: {app: server}}
spec:
  nodeName: node2
  containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.47, args: ["netexec", "--http-port=80"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ma, labels: {app: client}}
spec:
  nodeName: node1
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
`;

const POLICY = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: server-auth, namespace: ma}
spec:
  endpointSelector: {matchLabels: {app: server}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
    authentication: {mode: required}
  - fromEntities: [remote-node]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
    authentication: {mode: required}
`;

function apply(yaml: string, verb: 'apply' | 'delete' = 'apply'): void {
  const r = spawnSync(beelineBin, [verb, '-f', '-'], { input: yaml, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
}

/** A TCP connect from the client pod; true when the handshake completed. */
const probe = (ip: string) => beeline(['exec', '-n', 'ma', 'client', '--', beelineBin, 'probe', 'tcp', `${ip}:80`, '--timeout', '1000'], env).code === 0;

/** node1's bl_ipcache row of an address. */
function node1Ipcache(ip: string): { prefix: string; authRequired?: boolean } | undefined {
  const all = JSON.parse(beelineOk(['bpf', 'ipcache', 'list', '--node', 'node1', '-o', 'json'], env).stdout) as { node: string; rows: { prefix: string; authRequired?: boolean }[] }[];
  return all.flatMap((n) => n.rows).find((r) => r.prefix === `${ip}/32`);
}

interface DropFlow { verdict?: string; drop_reason?: number; drop_reason_desc?: string; source?: { pod_name?: string }; destination?: { pod_name?: string }; IP?: { source?: string; destination?: string }; node_name?: string }

/** Dropped flows with that reason to ip, over the last minutes. */
function drops(reason: string, ip: string): DropFlow[] {
  const r = beeline(['observe', '--verdict', 'DROPPED', '--drop-reason-desc', reason, '--since', '5m', '-o', 'json'], env);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { flow?: DropFlow }).flow).filter((f): f is DropFlow => !!f && f.IP?.destination === ip);
}

let serverIP = '';
let clientIP = '';

before(async () => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
  beelineOk(['lab', 'up', '--name', LAB, '--nodes', '2', '-q']);
  apply(PODS);
  [serverIP, clientIP] = await until('both pods running', () => {
    const items = JSON.parse(beelineOk(['get', 'pods', '-n', 'ma', '-o', 'json'], env).stdout).items as { metadata: { name: string }; status?: { phase?: string; podIP?: string } }[];
    if (items.filter((p) => p.status?.phase === 'Running' && p.status.podIP).length !== 2) return undefined;
    const ip = (n: string) => items.find((p) => p.metadata.name === n)!.status!.podIP!;
    return [ip('server'), ip('client')] as const;
  }, 120_000, 500);
  assert.equal(await until('the client reaches the server (no policy yet)', () => probe(serverIP) || undefined, 30_000, 500), true);
});

after(() => {
  // BEELINE_KEEP_LAB=1 leaves the lab up to look at after a failure.
  if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', LAB, '-q']);
});

test('authentication required: the server\'s entry is flagged in node1\'s ipcache; without a listener the client\'s SYN drops at the client (178), node1\'s own plaintext at the server (189)', { timeout: 120_000 }, async () => {
  apply(POLICY);
  await until('node1\'s ipcache flags the server', () => node1Ipcache(serverIP)?.authRequired === true, 30_000, 300);
  assert.equal(node1Ipcache(clientIP)?.authRequired, undefined, 'the client requires nothing');
  const rows = (JSON.parse(beelineOk(['bpf', 'policy', 'get', '--node', 'node2', '-o', 'json'], env).stdout) as { rows: { direction: string; port: number; authRequired?: boolean }[] }[]).flatMap((n) => n.rows);
  assert.ok(rows.some((r) => r.direction === 'ingress' && r.port === 80 && r.authRequired === true), 'the server\'s policy entries carry the flag');
  assert.match(beelineOk(['bpf', 'policy', 'get', '--node', 'node2'], env).stdout, /\brequired\b/);

  assert.equal(probe(serverIP), false, 'no mTLS-out listener on node1: no connection');
  const client = await until('a 178 drop of the client\'s SYN', () => drops('SOCKET_LOOKUP_FAILED', serverIP).find((f) => f.source?.pod_name === 'client'), 15_000, 500);
  assert.equal(client.drop_reason_desc, 'SOCKET_LOOKUP_FAILED');

  // node1 itself (remote-node at node2) is never handed to a proxy: plaintext, refused by the server's node.
  const own = spawnSync('ip', ['netns', 'exec', NODE1_NETNS, beelineBin, 'probe', 'tcp', `${serverIP}:80`, '--timeout', '1000'], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(own.status, 0, 'node1 → server in plaintext');
  const server = await until('a 189 drop at the server', () => drops('AUTH_REQUIRED', serverIP)[0], 15_000, 500);
  assert.equal(server.drop_reason, 189);
  assert.equal(server.destination?.pod_name, 'server');
  const text = beelineOk(['observe', '--verdict', 'DROPPED', '--drop-reason-desc', 'AUTH_REQUIRED', '--since', '5m'], env).stdout;
  assert.match(text, /Authentication required|AUTH_REQUIRED/);
});

test('authentication required: a transparent listener on node1\'s mTLS-out port takes the client\'s connection, original destination = the server pod; without the policy the client goes direct again', { timeout: 120_000 }, async () => {
  const child: ChildProcessWithoutNullStreams = spawn('ip', ['netns', 'exec', NODE1_NETNS, process.execPath, LISTENER, String(MTLS_OUT_PORT)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const lines: { event: string; local?: string; localPort?: number; remote?: string }[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(JSON.parse(l)));
  try {
    await until('the listener listens', () => lines.some((l) => l.event === 'listening') || (child.exitCode !== null ? assert.fail(`listener exited: ${stderr}`) : undefined), 15_000, 100);
    assert.equal(probe(serverIP), true, 'the listener completes the handshake');
    const conn = await until('the listener saw the connection', () => lines.find((l) => l.event === 'conn'), 10_000, 100);
    assert.deepEqual({ local: conn.local, localPort: conn.localPort, remote: conn.remote }, { local: serverIP, localPort: 80, remote: clientIP });
    // What the client reads is the listener's, not the server's.
    // (Lab pods run the node's own programs: node, as the client.)
    const read = `require('net').connect(80, '${serverIP}').on('data', (d) => process.stdout.write(d)).on('error', (e) => { console.error(e.message); process.exit(1); })`;
    const got = beeline(['exec', '-n', 'ma', 'client', '--', process.execPath, '-e', read], env);
    assert.match(got.stdout, /mtls-out/, JSON.stringify(got));

    // The policy gone: the flag goes, the client reaches the server itself.
    apply(POLICY, 'delete');
    await until('node1\'s ipcache no longer flags the server', () => node1Ipcache(serverIP)?.authRequired === undefined, 30_000, 300);
    const seen = lines.filter((l) => l.event === 'conn').length;
    assert.equal(probe(serverIP), true);
    assert.equal(lines.filter((l) => l.event === 'conn').length, seen, 'not through the listener');
  } finally {
    child.stdin.end();
    await new Promise((r) => { if (child.exitCode !== null) r(undefined); else child.on('close', r); setTimeout(r, 5000).unref(); });
    if (child.exitCode === null) child.kill();
  }
});
