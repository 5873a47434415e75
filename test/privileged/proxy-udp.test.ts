/**
 * UDP (DNS) redirection to the node proxy, end to end on real devices: a
 * throw-away "node" namespace with two pods plugged in by veth pairs, the
 * pod datapath (lxc.bpf.o) attached, and a child process in the node
 * namespace playing the agent and the DNS proxy (proxy-udp-child.ts: the
 * agent's ensureProxyRouting(), sockets.ts's TransparentUdpSocket and
 * transparent TCP listener on proxy port 15053). Pod B runs dnsmasq on
 * 10.244.0.20:53 (the "cluster DNS"); pod A's egress policy allows UDP and
 * TCP 53 with or without the proxy port.
 *   - without the proxy port, dig in pod A is answered by dnsmasq;
 *   - with it, the query reaches the proxy's socket with A's address as
 *     source and 10.244.0.20:53 as original destination, and the proxy's
 *     answer, sent from 10.244.0.20:53, is accepted by dig;
 *   - every datagram of one flow (one source port, two queries) goes to the
 *     proxy, and the flow has one conntrack entry carrying both directions;
 *   - dig +tcp reaches the transparent TCP listener, whose accepted socket's
 *     local address is 10.244.0.20:53;
 *   - an upstream TCP connection from transparentTcpSocketFd(A's address)
 *     reaches a server in pod B, which sees A's address;
 *   - through a Service translated in BPF (10.96.0.10:53 → pod B's :53) the
 *     proxy sees the backend as original destination and dig, which asked
 *     the Service, accepts the answer (reverse-translated as a reply);
 *   - and back without the proxy port, dnsmasq answers again.
 *
 * Host safety: every device is created inside the test's namespaces (ip -n),
 * the bpffs is private, processes are ended by pid and the namespaces
 * deleted at the end, whatever happened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/common/exec.js';
import { BlCtTupleFlags } from '../../src/datapath/generated/abi.js';
import { LXC_OBJECT, leftoverTestNamespaces, plumbPod, privateBpffs, requireObject, testNetnsName } from './datapath-support.js';
import { Child } from './json-child.js';

const CHILD = fileURLToPath(new URL('./proxy-udp-child.js', import.meta.url));
const ROUTER = '10.244.0.1';
const PROXY_PORT = 15053;
/** The cluster DNS Service's address: translated to pod B's port 53 by the pod datapath (lb4_egress). */
const SERVICE = '10.96.0.10';

/** Two queries for example.test from one UDP socket (one flow) to argv[1]:53; prints each answer's source and its A record. */
const SAME_FLOW_CLIENT = `
const dgram = require('node:dgram');
const s = dgram.createSocket('udp4');
setTimeout(() => { console.error('timeout'); process.exit(1); }, 5000).unref();
const query = (id) => Buffer.concat([Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
  Buffer.from([7, ...Buffer.from('example'), 4, ...Buffer.from('test'), 0, 0, 1, 0, 1])]);
const answers = [];
s.on('message', (m, r) => {
  answers.push({ id: m.readUInt16BE(0), from: r.address + ':' + r.port, a: [...m.subarray(m.length - 4)].join('.') });
  if (answers.length === 1) s.send(query(2), 53, process.argv[1]);
  else { console.log(JSON.stringify({ port: s.address().port, answers })); process.exit(0); }
});
s.bind(0, () => s.send(query(1), 53, process.argv[1]));
`;

/** A TCP server in pod B on 8080: tells each client the address it sees. */
const WHO_SERVER = `
require('node:net').createServer((s) => s.end('you are ' + s.remoteAddress)).listen(8080, process.argv[1], () => console.log(JSON.stringify({ event: 'ready' })));
`;

test('DNS through the node proxy: UDP and TCP 53 redirected to transparent sockets, answers accepted by dig', { timeout: 120_000 }, async (t) => {
  const object = requireObject(LXC_OBJECT);
  const nodeNs = testNetnsName();
  const [aNs, bNs] = [`${nodeNs}-a`, `${nodeNs}-b`];
  const fs = privateBpffs();
  const children: Child[] = [];
  t.after(() => {
    for (const c of children) c.kill();
    for (const ns of [nodeNs, aNs, bNs]) run('ip', ['netns', 'delete', ns], { allowFailure: true });
    fs.cleanup();
    assert.deepEqual(leftoverTestNamespaces().filter((n) => n.startsWith(nodeNs)), [], 'namespaces removed');
  });

  run('ip', ['netns', 'add', nodeNs]);
  run('ip', ['-n', nodeNs, 'link', 'set', 'lo', 'up']);
  const a = { ip: '10.244.0.10', hostIf: 'lxc-a', id: 11, identity: 1001, mac: '' };
  const b = { ip: '10.244.0.20', hostIf: 'lxc-b', id: 12, identity: 1002, mac: '' };
  a.mac = plumbPod(nodeNs, aNs, a.ip, a.hostIf, ROUTER);
  b.mac = plumbPod(nodeNs, bNs, b.ip, b.hostIf, ROUTER);

  const spec = { object, pinDir: join(fs.dir, 'node'), podCidr: '10.244.0.0', prefixlen: 24, router: ROUTER, proxyPort: PROXY_PORT, service: SERVICE, pods: [a, b] };
  const agent = new Child('ip', ['netns', 'exec', nodeNs, process.execPath, '--enable-source-maps', CHILD, JSON.stringify(spec)]);
  children.push(agent);
  await agent.take((m) => m.event === 'attached');
  const rules = run('ip', ['-n', nodeNs, 'rule', 'show']).stdout;
  assert.match(rules, /fwmark 0x200\/0xf00 lookup 2004/, `the proxy's routing rule: ${rules}`);

  // The cluster DNS in pod B: dnsmasq, UDP and TCP on 10.244.0.20:53.
  const dnsmasq = new Child('ip', [
    'netns', 'exec', bNs, 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts',
    `--listen-address=${b.ip}`, '--bind-interfaces', '--port=53', '--address=/example.test/10.1.2.3', '--user=root', '--pid-file=',
  ]);
  children.push(dnsmasq);
  const who = new Child('ip', ['netns', 'exec', bNs, process.execPath, '-e', WHO_SERVER, b.ip]);
  children.push(who);
  await who.take((m) => m.event === 'ready');

  const digAt = (server: string, ...args: string[]) => run('ip', ['netns', 'exec', aNs, 'dig', `@${server}`, 'example.test', 'A', '+short', '+tries=1', '+time=2', ...args], { allowFailure: true, timeoutMs: 10_000 });
  const dig = (...args: string[]) => digAt(b.ip, ...args);

  // 1. No proxy port: dnsmasq answers (retried while it starts).
  await agent.ask({ cmd: 'policy', proxy: false }, 'policy');
  let direct = dig();
  for (let i = 0; i < 20 && direct.stdout.trim() !== '10.1.2.3'; i++) {
    await new Promise((r) => setTimeout(r, 250));
    direct = dig();
  }
  assert.equal(direct.stdout.trim(), '10.1.2.3', `dig straight to dnsmasq: ${direct.stdout}${direct.stderr}; dnsmasq: ${dnsmasq.stderr}`);
  assert.deepEqual(agent.drain('udp'), [], 'nothing went to the proxy');

  // 2. With the proxy port: the proxy's socket gets the query and its answer from 10.244.0.20:53 is accepted.
  await agent.ask({ cmd: 'policy', proxy: true }, 'policy');
  const proxied = dig();
  assert.equal(proxied.code, 0, proxied.stderr);
  assert.equal(proxied.stdout.trim(), '192.0.2.53', `dig through the proxy: ${proxied.stdout}${proxied.stderr}`);
  const seen = await agent.take((m) => m.event === 'udp');
  assert.equal((seen.from as { address: string }).address, a.ip, 'the pod\'s own address as source');
  assert.deepEqual(seen.origDst, { address: b.ip, port: 53 }, 'the original destination');

  // 2b. Through the Service: the proxy sees the backend as original destination, and its answer from there reaches
  // dig as the Service's (the reply of the pod's flow, reverse-translated by bl_to_container).
  const viaService = digAt(SERVICE);
  assert.equal(viaService.stdout.trim(), '192.0.2.53', `dig @${SERVICE} through the proxy: ${viaService.stdout}${viaService.stderr}`);
  assert.deepEqual((await agent.take((m) => m.event === 'udp')).origDst, { address: b.ip, port: 53 });
  const viaServiceTcp = digAt(SERVICE, '+tcp');
  assert.equal(viaServiceTcp.stdout.trim(), '192.0.2.53', `dig +tcp @${SERVICE} through the proxy: ${viaServiceTcp.stdout}${viaServiceTcp.stderr}`);
  assert.deepEqual((await agent.take((m) => m.event === 'tcp')).local, { address: b.ip, port: 53 });

  // 3. One flow, two datagrams: both to the proxy, both answers from 10.244.0.20:53.
  const flow = run('ip', ['netns', 'exec', aNs, process.execPath, '-e', SAME_FLOW_CLIENT, b.ip], { allowFailure: true, timeoutMs: 10_000 });
  assert.equal(flow.code, 0, flow.stderr);
  const res = JSON.parse(flow.stdout) as { port: number; answers: Array<{ id: number; from: string; a: string }> };
  assert.deepEqual(res.answers, [
    { id: 1, from: `${b.ip}:53`, a: '192.0.2.53' },
    { id: 2, from: `${b.ip}:53`, a: '192.0.2.53' },
  ]);
  const q1 = await agent.take((m) => m.event === 'udp' && m.id === 1);
  const q2 = await agent.take((m) => m.event === 'udp' && m.id === 2);
  for (const q of [q1, q2]) assert.deepEqual(q.from, { address: a.ip, port: res.port });
  const ct = (await agent.ask({ cmd: 'ct' }, 'ct')).entries as Array<{ proto: number; saddr: string; daddr: string; sport: number; dport: number; dir: number; txPackets: number; rxPackets: number }>;
  const udpFlow = ct.filter((e) => e.proto === 17 && ((e.saddr === a.ip && e.sport === res.port) || (e.daddr === a.ip && e.dport === res.port)));
  t.diagnostic(`the flow's conntrack: ${JSON.stringify(udpFlow)}`);
  assert.equal(udpFlow.length, 1, 'one entry for the flow');
  assert.equal(udpFlow[0]!.dir, BlCtTupleFlags.BL_CT_TUPLE_F_OUT);
  assert.deepEqual([udpFlow[0]!.txPackets, udpFlow[0]!.rxPackets], [2, 2], 'both queries out, both answers as its replies');

  // 4. DNS over TCP: the transparent listener; the accepted socket has the original destination as local address.
  const overTcp = dig('+tcp');
  assert.equal(overTcp.stdout.trim(), '192.0.2.53', `dig +tcp through the proxy: ${overTcp.stdout}${overTcp.stderr}`);
  const tcpSeen = await agent.take((m) => m.event === 'tcp');
  assert.deepEqual(tcpSeen.local, { address: b.ip, port: 53 });
  assert.equal((tcpSeen.remote as { address: string }).address, a.ip);

  // 5. An upstream connection that keeps the client's address.
  const up = await agent.ask({ cmd: 'upstream', from: a.ip, host: b.ip, port: 8080 }, 'upstream');
  assert.deepEqual(up, { event: 'upstream', data: `you are ${a.ip}`, local: a.ip });

  // 6. The proxy port gone: dnsmasq again, over UDP and TCP.
  await agent.ask({ cmd: 'policy', proxy: false }, 'policy');
  assert.equal(dig().stdout.trim(), '10.1.2.3');
  assert.equal(dig('+tcp').stdout.trim(), '10.1.2.3');
  assert.equal(digAt(SERVICE).stdout.trim(), '10.1.2.3', 'dnsmasq through the Service');
  assert.deepEqual(agent.drain('udp'), []);
  assert.deepEqual(agent.drain('tcp'), []);

  agent.proc.stdin.write(JSON.stringify({ cmd: 'exit' }) + '\n');
  await new Promise((resolve) => (agent.proc.exitCode !== null ? resolve(null) : agent.proc.once('exit', resolve)));
});
