/**
 * The pod datapath on real devices: a throw-away "node" namespace with two
 * "pod" namespaces plugged in by veth pairs, the way the CNI plugin plumbs
 * pods; a child process in the node namespace plays the agent (loads
 * lxc.bpf.o, fills bl_lxc, attaches to both host-side veths). Pod A then
 * pings pod B and opens a TCP connection to it. Nothing but BPF answers the
 * pods' ARP requests for their gateway 10.244.0.1 (no device on the node has
 * that address) and nothing but BPF moves their packets (the node has no
 * address and no route for them).
 *
 * Host safety: every device is created inside the test's namespaces (ip -n),
 * the bpffs is a private mount, and the namespaces are deleted at the end,
 * whatever happened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/common/exec.js';
import { BlCtTupleFlags } from '../../src/datapath/generated/abi.js';
import { LXC_OBJECT, leftoverTestNamespaces, plumbPod, privateBpffs, requireObject, testNetnsName } from './datapath-support.js';

const CHILD = fileURLToPath(new URL('./datapath-pod-veth-child.js', import.meta.url));

/** Line-JSON conversation with a child process. */
class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly #lines: string[] = [];
  readonly #waiters: Array<(line: string) => void> = [];
  stderr = '';

  constructor(cmd: string, args: string[]) {
    this.proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const w = this.#waiters.shift();
      if (w) w(line);
      else this.#lines.push(line);
    });
  }

  /** Next line (rejects on timeout or when the child dies). */
  nextLine(timeoutMs = 15_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`child exited (${code}): ${this.stderr}`));
      const timer = setTimeout(() => reject(new Error(`child: no answer in ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      const take = (line: string) => {
        clearTimeout(timer);
        this.proc.off('exit', onExit);
        resolve(line);
      };
      const queued = this.#lines.shift();
      if (queued !== undefined) return take(queued);
      this.proc.once('exit', onExit);
      this.#waiters.push(take);
    });
  }

  /** Next JSON message; an {"event":"error"} rejects. */
  async next(): Promise<Record<string, unknown>> {
    const msg = JSON.parse(await this.nextLine()) as Record<string, unknown>;
    if (msg.event === 'error') throw new Error(`child: ${String(msg.message)}`);
    return msg;
  }

  async ask(cmd: string): Promise<Record<string, unknown>> {
    this.proc.stdin.write(cmd + '\n');
    return this.next();
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

interface Pod {
  ns: string;
  ip: string;
  hostIf: string;
  mac: string;
  id: number;
}

const ROUTER = '10.244.0.1';

/** A TCP server in pod B: says "ready", answers every connection with "hello from B". */
const SERVER = `
const net = require('node:net');
net.createServer((s) => s.end('hello from B')).listen(8080, process.argv[1], () => console.log('ready'));
`;

/** A TCP client in pod A: prints what the server says; exits 1 on error or after 5 s. */
const CLIENT = `
const net = require('node:net');
setTimeout(() => { console.error('timeout'); process.exit(1); }, 5000).unref();
const s = net.connect(8080, process.argv[1]);
let got = '';
s.on('data', (d) => (got += d));
s.on('end', () => { console.log(got); process.exit(0); });
s.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

test('two pods on a node: ARP answered by BPF, ping and TCP through bl_from_container/bl_to_container', async (t) => {
  const object = requireObject(LXC_OBJECT);
  const nodeNs = testNetnsName();
  const namespaces = [nodeNs, `${nodeNs}-a`, `${nodeNs}-b`];
  const fs = privateBpffs();
  const children: Child[] = [];
  t.after(() => {
    for (const c of children) c.kill();
    for (const ns of namespaces) run('ip', ['netns', 'delete', ns], { allowFailure: true });
    fs.cleanup();
    assert.deepEqual(leftoverTestNamespaces().filter((n) => n.startsWith(nodeNs)), [], 'namespaces removed');
  });

  run('ip', ['netns', 'add', nodeNs]);
  run('ip', ['-n', nodeNs, 'link', 'set', 'lo', 'up']);
  const pods: Pod[] = [
    { ns: namespaces[1]!, ip: '10.244.0.10', hostIf: 'lxc-a', mac: '', id: 11 },
    { ns: namespaces[2]!, ip: '10.244.0.20', hostIf: 'lxc-b', mac: '', id: 12 },
  ];
  for (const p of pods) p.mac = plumbPod(nodeNs, p.ns, p.ip, p.hostIf, ROUTER);
  const [a, b] = pods as [Pod, Pod];

  const spec = {
    object,
    pinDir: join(fs.dir, 'node'),
    podCidr: '10.244.0.0',
    prefixlen: 24,
    router: ROUTER,
    pods: pods.map((p) => ({ ip: p.ip, mac: p.mac, hostIf: p.hostIf, id: p.id })),
  };
  const agent = new Child('ip', ['netns', 'exec', nodeNs, process.execPath, '--enable-source-maps', CHILD, JSON.stringify(spec)]);
  children.push(agent);
  const attached = await agent.next();
  assert.equal(attached.event, 'attached');
  const endpoints = attached.endpoints as Array<{ ip: string; ifindex: number; nodeMac: string }>;
  t.diagnostic(`endpoints: ${JSON.stringify(endpoints)}`);

  // No address on the node: only BPF can answer for the gateway, only BPF can move the packets.
  const nodeAddrs = run('ip', ['-n', nodeNs, '-4', '-o', 'addr', 'show']).stdout;
  assert.doesNotMatch(nodeAddrs, /10\.244\./);

  const ping = run('ip', ['netns', 'exec', a.ns, 'ping', '-c', '3', '-W', '2', '-i', '0.2', b.ip], { allowFailure: true });
  assert.equal(ping.code, 0, `ping A → B failed:\n${ping.stdout}${ping.stderr}`);

  // A learned its gateway's MAC from the BPF ARP responder: the host-side veth's.
  const neigh = run('ip', ['-n', a.ns, 'neigh', 'show', ROUTER, 'dev', 'eth0']).stdout;
  const aNodeMac = endpoints.find((e) => e.ip === a.ip)!.nodeMac;
  assert.match(neigh, new RegExp(`lladdr ${aNodeMac}`), `A's neighbour entry for the gateway: ${neigh}`);

  const server = new Child('ip', ['netns', 'exec', b.ns, process.execPath, '-e', SERVER, b.ip]);
  children.push(server);
  assert.equal(await server.nextLine(), 'ready');
  const client = run('ip', ['netns', 'exec', a.ns, process.execPath, '-e', CLIENT, b.ip], { allowFailure: true, timeoutMs: 10_000 });
  assert.equal(client.code, 0, `TCP A → B:8080 failed: ${client.stderr}`);
  assert.equal(client.stdout.trim(), 'hello from B');

  const ct = (await agent.ask('ct')).entries as Array<{ proto: number; saddr: string; daddr: string; sport: number; dport: number; dir: number; txPackets: number; rxPackets: number }>;
  t.diagnostic(`bl_ct4: ${JSON.stringify(ct)}`);
  const tcpEntries = ct.filter((e) => e.proto === 6 && e.saddr === a.ip && e.daddr === b.ip && e.dport === 8080);
  assert.deepEqual(
    tcpEntries.map((e) => e.dir).sort(),
    [BlCtTupleFlags.BL_CT_TUPLE_F_OUT, BlCtTupleFlags.BL_CT_TUPLE_F_IN],
    "the connection has an entry at A's egress and one at B's ingress",
  );
  for (const e of tcpEntries) {
    assert.ok(e.txPackets >= 3, `handshake and data from A: ${JSON.stringify(e)}`);
    assert.ok(e.rxPackets >= 2, `replies from B: ${JSON.stringify(e)}`);
  }
  const icmp = ct.filter((e) => e.proto === 1 && e.saddr === a.ip && e.daddr === b.ip);
  assert.equal(icmp.length, 2, 'the ping too, both directions');
  for (const e of icmp) assert.deepEqual([e.txPackets, e.rxPackets], [3, 3], `three echo requests and replies: ${JSON.stringify(e)}`);

  const metrics = (await agent.ask('metrics')).rows as Array<{ reason: number; dir: number; packets: number }>;
  t.diagnostic(`bl_metrics: ${JSON.stringify(metrics)}`);
  assert.ok(metrics.some((m) => m.reason === 0 && m.packets >= 10), 'forwarded packets counted');

  agent.proc.stdin.write('exit\n');
  await new Promise((resolve) => agent.proc.once('exit', resolve));
});
