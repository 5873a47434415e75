/**
 * The mesh hop end to end on real devices (docs/mesh.md, "Datapath: the hop
 * to the node proxy"): a throw-away "node" namespace with three pods plugged
 * in by veth pairs, the pod datapath and the socket hooks attached, and a
 * child process in the node namespace playing the agent and the node proxy's
 * mesh listener on 15003 (mesh-datapath-child.ts: a transparent listener and
 * `usesrc clientip`-like upstream connections, sockets.ts). The Service
 * 10.96.0.20:80 has pods B and C as backends; pod A's egress policy allows
 * TCP 8080 to B only. Clients run in the test's cgroup, where the socket
 * hooks are attached.
 *   - flagged (BL_LB_F_L7): A's connection to the ClusterIP reaches the mesh
 *     listener with the ClusterIP as local address and A as remote (the
 *     socket hook left it alone, bl_from_container handed it over); the
 *     listener's upstream to B keeps A's address and is allowed; to C it is
 *     dropped by A's egress policy (133, reported with A as source);
 *   - the node's own connection to the flagged frontend keeps the socket
 *     hook's translation: straight to a backend, never to the listener;
 *   - unflagged: A's connection is translated to the backend, as before.
 *
 * Host safety: every device is created inside the test's namespaces (ip -n),
 * the bpffs is private, the cgroup is the test's own (removed at the end,
 * its processes killed by pid), the child is ended by pid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/common/exec.js';
import { BlDropReason } from '../../src/datapath/generated/abi.js';
import { Datapath } from '../../src/datapath/loader.js';
import { ensureCgroup, removeCgroup, removeCgroupBaseIfEmpty } from '../../src/lab/cgroup.js';
import { LXC_OBJECT, REPO, leftoverTestNamespaces, plumbPod, privateBpffs, requireObject, testNetnsName } from './datapath-support.js';
import { Child } from './json-child.js';

const CHILD = fileURLToPath(new URL('./mesh-datapath-child.js', import.meta.url));
const SOCK_OBJECT = join(REPO, 'build/bpf/sock.bpf.o');
const ROUTER = '10.244.0.1';
const MESH_PORT = 15003;
const SERVICE = '10.96.0.20';

/** A TCP server on 8080: tells each client the address it sees. */
const WHO_SERVER = `
require('node:net').createServer((s) => s.end('you are ' + s.remoteAddress)).listen(8080, process.argv[1], () => console.log(JSON.stringify({ event: 'ready' })));
`;

/** Connects to argv[2]:80 (run as a file), prints what it is told (or the error). */
const CLIENT = `
const s = require('node:net').connect(80, process.argv[2]);
let d = '';
setTimeout(() => { console.log('timeout'); process.exit(0); }, 6000).unref();
s.on('data', (x) => (d += x));
s.on('end', () => { console.log(d); process.exit(0); });
s.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });
`;

test('mesh hop: a pod\'s connection to a routed ClusterIP reaches the mesh listener; its upstream is judged by the pod\'s egress policy', { timeout: 120_000 }, async (t) => {
  const object = requireObject(LXC_OBJECT);
  const sockObject = requireObject(SOCK_OBJECT);
  const nodeNs = testNetnsName();
  const [aNs, bNs, cNs] = [`${nodeNs}-a`, `${nodeNs}-b`, `${nodeNs}-c`];
  const fs = privateBpffs();
  const cgroup = ensureCgroup(nodeNs, 'clients');
  const scripts = mkdtempSync(join(tmpdir(), 'bl-mesh-'));
  const client = join(scripts, 'client.cjs');
  writeFileSync(client, CLIENT);
  const children: Child[] = [];
  t.after(async () => {
    for (const c of children) c.kill();
    rmSync(scripts, { recursive: true, force: true });
    await removeCgroup(join(cgroup, '..'));
    removeCgroupBaseIfEmpty();
    for (const ns of [nodeNs, aNs, bNs, cNs]) run('ip', ['netns', 'delete', ns], { allowFailure: true });
    fs.cleanup();
    assert.deepEqual(leftoverTestNamespaces().filter((n) => n.startsWith(nodeNs)), [], 'namespaces removed');
  });

  run('ip', ['netns', 'add', nodeNs]);
  run('ip', ['-n', nodeNs, 'link', 'set', 'lo', 'up']);
  const a = { ip: '10.244.0.10', hostIf: 'lxc-a', id: 11, identity: 1001, mac: '' };
  const b = { ip: '10.244.0.20', hostIf: 'lxc-b', id: 12, identity: 1002, mac: '' };
  const c = { ip: '10.244.0.30', hostIf: 'lxc-c', id: 13, identity: 1003, mac: '' };
  a.mac = plumbPod(nodeNs, aNs, a.ip, a.hostIf, ROUTER);
  b.mac = plumbPod(nodeNs, bNs, b.ip, b.hostIf, ROUTER);
  c.mac = plumbPod(nodeNs, cNs, c.ip, c.hostIf, ROUTER);

  const spec = { object, pinDir: join(fs.dir, 'node'), podCidr: '10.244.0.0', prefixlen: 24, router: ROUTER, meshPort: MESH_PORT, service: SERVICE, pods: [a, b, c] };
  const agent = new Child('ip', ['netns', 'exec', nodeNs, process.execPath, '--enable-source-maps', CHILD, JSON.stringify(spec)]);
  children.push(agent);
  const attached = await agent.take((m) => m.event === 'attached');
  // The socket hooks, loaded here (the child's namespace has its own /sys, without the cgroup tree) over the
  // child's pin directory, with the node namespace's cookie, as the agent's loader sets it for its own.
  const sock = Datapath.open(sockObject, { pinDir: spec.pinDir });
  t.after(() => sock.close());
  const cookie = Buffer.alloc(8);
  cookie.writeBigUInt64LE(BigInt(String(attached.netnsCookie)));
  sock.configure('bl_sock_node_netns', cookie);
  // The maps it shares by pin, sized as the child sized them (the agent sizes every object alike).
  sock.setMaxEntries('bl_ct4', 4096);
  sock.setMaxEntries('bl_policy', 1024);
  sock.load();
  for (const p of ['bl_sock4_connect', 'bl_sock4_sendmsg', 'bl_sock4_recvmsg', 'bl_sock4_getpeername']) sock.attachCgroup(cgroup, p);
  for (const [ns, pod] of [[bNs, b], [cNs, c]] as const) {
    const who = new Child('ip', ['netns', 'exec', ns, process.execPath, '-e', WHO_SERVER, pod.ip]);
    children.push(who);
    await who.take((m) => m.event === 'ready');
  }

  // A client in namespace ns, inside the test's cgroup (where the socket hooks are attached).
  // (The shell joins the cgroup before entering the namespace: `ip netns exec` mounts a /sys without the cgroup tree.)
  const connect = (ns: string) => {
    const r = run('sh', ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec ip netns exec ${ns} "${process.execPath}" ${client} ${SERVICE}`], { allowFailure: true, timeoutMs: 10_000 });
    if (r.stderr) t.diagnostic(`client in ${ns}: ${r.stderr}`);
    return r.stdout.trim();
  };

  // 1. Flagged: to the listener, addresses kept; the upstream to B (allowed) keeps A's address.
  await agent.ask({ cmd: 'service', l7: true, backends: [b.ip, c.ip] }, 'service');
  assert.equal(connect(aNs), `mesh ${SERVICE}:80 ${a.ip} → you are ${a.ip}`);
  assert.deepEqual(await agent.take((m) => m.event === 'mesh'), { event: 'mesh', local: `${SERVICE}:80`, remote: a.ip });
  // (IPv6 the pods' kernels send, router solicitations and the like, is dropped as 139 all along.)
  const drops = () => agent.drain('drop').filter((d) => d.reason !== BlDropReason.BL_DROP_UNKNOWN_L3);
  assert.deepEqual(drops(), []);

  // 2. The upstream to C: A's egress policy drops it, reported as A's policy drop.
  await agent.ask({ cmd: 'backend', ip: c.ip }, 'backend');
  assert.equal(connect(aNs), 'upstream failed');
  await agent.take((m) => m.event === 'mesh');
  const drop = await agent.take((m) => m.event === 'drop' && m.reason !== BlDropReason.BL_DROP_UNKNOWN_L3);
  assert.deepEqual(drop, { event: 'drop', reason: BlDropReason.BL_DROP_POLICY, source: a.id });
  assert.ok(drops().every((d) => d.reason === BlDropReason.BL_DROP_POLICY && d.source === a.id), 'the upstream\'s retransmissions, nothing else');

  // 3. The node's own socket keeps the socket hook's translation: a backend answers directly.
  const own = connect(nodeNs);
  assert.match(own, new RegExp(`^you are ${ROUTER.replaceAll('.', '\\.')}$`), 'straight to a backend, from the node');
  assert.deepEqual(agent.drain('mesh'), [], 'the listener never saw it');

  // 4. Unflagged: A's connection is translated to B as before (C left out: A may not reach it).
  await agent.ask({ cmd: 'service', l7: false, backends: [b.ip] }, 'service');
  assert.equal(connect(aNs), `you are ${a.ip}`);
  assert.deepEqual(agent.drain('mesh'), []);

  agent.proc.stdin.write(JSON.stringify({ cmd: 'exit' }) + '\n');
  await new Promise((resolve) => (agent.proc.exitCode !== null ? resolve(null) : agent.proc.once('exit', resolve)));
});
