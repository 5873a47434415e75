/**
 * Issue 11: tshark, as an independent decoder, agrees with the flows' L3/L4
 * fields on a captured exchange. On a 2-node lab with monitor aggregation
 * 'none' (every packet at every observation point is a flow), tshark captures
 * on the server pod's eth0, inside the pod's network namespace, while a client
 * pod on the other node makes a TCP exchange (curl), a UDP exchange (beeline
 * probe udp) and an ICMP echo (ping). Then the capture and the flows the relay
 * returns for the server's endpoint (TO_ENDPOINT: into the pod, FROM_ENDPOINT:
 * out of it) must be the same packets, one flow per packet: Ethernet
 * addresses, IP source/destination, L4 protocol, ports, TCP flags, ICMP type
 * and code, and times within a second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import { until, sleep } from '../lib/wait.js';
import { parseTimestampJson } from '../../src/api/proto.js';
import { podNetnsName } from '../../src/lab/pods.js';

const LAB = 'obstsh';
const NS = 'obstsh';
const HTTP_PORT = 80;
const UDP_PORT = 8081;
const env = { BEELINE_LAB: LAB };

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: ${NS}, labels: {app: server}}
spec:
  nodeName: node2
  containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.47, args: ["netexec", "--http-port=${HTTP_PORT}", "--udp-port=${UDP_PORT}"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${NS}, labels: {app: client}}
spec:
  nodeName: node1
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
`;

interface JsonFlow {
  time: string;
  node_name?: string;
  trace_observation_point?: string;
  ethernet?: { source?: string; destination?: string };
  IP?: { source?: string; destination?: string; ipVersion?: string };
  l4?: {
    TCP?: { source_port?: number; destination_port?: number; flags?: Record<string, boolean> };
    UDP?: { source_port?: number; destination_port?: number };
    ICMPv4?: { type?: number; code?: number };
  };
}

/** One packet as both sides describe it, and when it was seen (ns since the epoch). */
interface Packet {
  key: string;
  timeNs: bigint;
}

/** The TCP flags the comparison covers: flow.proto's TCPFlags names and tshark's fields for them. */
const TCP_FLAGS: [flow: string, tshark: string][] = [
  ['SYN', 'tcp.flags.syn'], ['ACK', 'tcp.flags.ack'], ['FIN', 'tcp.flags.fin'], ['RST', 'tcp.flags.reset'],
  ['PSH', 'tcp.flags.push'], ['URG', 'tcp.flags.urg'], ['ECE', 'tcp.flags.ece'], ['CWR', 'tcp.flags.cwr'],
];

/** The description both sides are reduced to (the flow's nomenclature, all fields explicit). */
function packetKey(p: { ethSrc: string; ethDst: string; ipSrc: string; ipDst: string; l4: string }): string {
  return `${p.ethSrc}>${p.ethDst} ${p.ipSrc}>${p.ipDst} ${p.l4}`;
}

/** A flow's packet description and time (an L4 the comparison does not cover reads as such and matches nothing). */
function flowPacket(f: JsonFlow): Packet {
  const t = parseTimestampJson(f.time);
  assert.ok(t, `flow time ${f.time}`);
  const timeNs = BigInt(t.seconds) * 1_000_000_000n + BigInt(t.nanos);
  const { TCP, UDP, ICMPv4 } = f.l4 ?? {};
  let l4: string;
  if (TCP) {
    const flags = TCP_FLAGS.filter(([name]) => TCP.flags?.[name]).map(([name]) => name).join(',');
    l4 = `TCP ${TCP.source_port ?? 0}>${TCP.destination_port ?? 0} [${flags}]`;
  } else if (UDP) {
    l4 = `UDP ${UDP.source_port ?? 0}>${UDP.destination_port ?? 0}`;
  } else if (ICMPv4) {
    l4 = `ICMPv4 type=${ICMPv4.type ?? 0} code=${ICMPv4.code ?? 0}`;
  } else {
    l4 = `no L4 (${JSON.stringify(f.l4)})`;
  }
  return {
    key: packetKey({ ethSrc: f.ethernet?.source ?? '-', ethDst: f.ethernet?.destination ?? '-', ipSrc: f.IP?.source ?? '-', ipDst: f.IP?.destination ?? '-', l4 }),
    timeNs,
  };
}

const TSHARK_FIELDS = ['frame.time_epoch', 'eth.src', 'eth.dst', 'ip.src', 'ip.dst', 'ip.proto', 'tcp.srcport', 'tcp.dstport', ...TCP_FLAGS.map(([, f]) => f), 'udp.srcport', 'udp.dstport', 'icmp.type', 'icmp.code'];

/** tshark's decode of a capture file, one Packet per frame. */
function tsharkPackets(pcap: string): Packet[] {
  const r = spawnSync('tshark', ['-r', pcap, '-n', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f', ...TSHARK_FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `tshark -r: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim()).map((line) => {
    const v = Object.fromEntries(line.split('\t').map((x, i) => [TSHARK_FIELDS[i]!, x]));
    // tshark 4.0 prints booleans as 1/0, later versions as True/False.
    const on = (f: string) => v[f] === '1' || v[f] === 'True';
    let l4: string;
    switch (v['ip.proto']) {
      case '6':
        l4 = `TCP ${v['tcp.srcport']}>${v['tcp.dstport']} [${TCP_FLAGS.filter(([, f]) => on(f)).map(([name]) => name).join(',')}]`;
        break;
      case '17':
        l4 = `UDP ${v['udp.srcport']}>${v['udp.dstport']}`;
        break;
      case '1':
        l4 = `ICMPv4 type=${v['icmp.type']} code=${v['icmp.code']}`;
        break;
      default:
        l4 = `ip.proto ${v['ip.proto']}`;
    }
    const [sec, frac = ''] = v['frame.time_epoch']!.split('.');
    return {
      key: packetKey({ ethSrc: v['eth.src'] || '-', ethDst: v['eth.dst'] || '-', ipSrc: v['ip.src'] || '-', ipDst: v['ip.dst'] || '-', l4 }),
      timeNs: BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9)),
    };
  });
}

/** "IP:port-IP:port/proto", the same for both directions: the connection a packet belongs to. */
function connection(key: string): string {
  const m = /^\S+ (\S+)>(\S+) (TCP|UDP|ICMPv4) (?:(\d+)>(\d+))?/.exec(key);
  assert.ok(m, `packet ${key}`);
  const [, a, b, proto, pa = '', pb = ''] = m;
  const ends = [`${a}:${pa}`, `${b}:${pb}`].sort();
  return `${ends.join('-')}/${proto}`;
}

/** Packets by key, each key's packets in time order. */
function byKey(ps: Packet[]): Map<string, bigint[]> {
  const m = new Map<string, bigint[]>();
  for (const p of ps) m.set(p.key, [...(m.get(p.key) ?? []), p.timeNs]);
  for (const ts of m.values()) ts.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return m;
}

test('tshark on the server pod\'s eth0 sees exactly the packets its endpoint flows describe', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'beeline-obstsh-'));
  let capture: ReturnType<typeof spawn> | undefined;
  t.after(() => {
    if (capture && capture.exitCode === null && capture.signalCode === null) capture.kill('SIGKILL');
    if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', LAB, '-q']);
    rmSync(dir, { recursive: true, force: true });
  });
  beeline(['lab', 'down', '--name', LAB, '-q']);
  const up = beeline(['lab', 'up', '--nodes', '2', '--name', LAB, '-q', '--monitor-aggregation', 'none']);
  assert.equal(up.code, 0, up.stderr);
  const r = spawnSync(beelineBin, ['apply', '-f', '-'], { input: MANIFESTS, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  const ips = await until('the pods run', () => {
    const pods = JSON.parse(beelineOk(['get', 'pods', '-n', NS, '-o', 'json'], env).stdout).items as { metadata: { name: string }; status?: { phase?: string; podIP?: string } }[];
    if (pods.filter((p) => p.status?.phase === 'Running' && p.status.podIP).length !== 2) return undefined;
    return Object.fromEntries(pods.map((p) => [p.metadata.name, p.status!.podIP!]));
  }, 120_000, 500);
  const serverIP = ips.server!;
  const clientIP = ips.client!;
  // agnhost listens once it runs; wait for it so the capture holds no refused attempts.
  await until('the server answers', () => beeline(['exec', '-n', NS, 'client', '--', beelineBin, 'probe', 'tcp', `${serverIP}:${HTTP_PORT}`, '--timeout', '1000'], env).code === 0, 30_000, 300);
  await sleep(500);

  // The capture: tshark in the server pod's network namespace, run by the test
  // from the machine (the pod's containers may not capture, nor see the
  // machine's /tmp), only the client's packets to the server's ports and ICMP.
  // `ip netns exec` execs tshark in place: the child's pid is tshark's.
  const pcap = join(dir, 'server.pcapng');
  const filter = `host ${clientIP} and host ${serverIP} and (tcp port ${HTTP_PORT} or udp port ${UDP_PORT} or icmp)`;
  capture = spawn('ip', ['netns', 'exec', podNetnsName(LAB, NS, 'server'), 'tshark', '-n', '-i', 'eth0', '-f', filter, '-w', pcap], { stdio: ['ignore', 'pipe', 'pipe'] });
  let captureErr = '';
  capture.stdout!.setEncoding('utf8').on('data', (s: string) => { captureErr += s; });
  capture.stderr!.setEncoding('utf8').on('data', (s: string) => { captureErr += s; });
  const captureExit = new Promise<number>((resolve) => capture!.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  await until('tshark captures on eth0 (or exits)', () => /Capturing on 'eth0'/.test(captureErr) || capture!.exitCode !== null, 30_000, 100);
  assert.equal(capture.exitCode, null, `tshark exited: ${captureErr}`);
  const tsharkPid = capture.pid!;
  await sleep(300);

  // The exchange: TCP (an HTTP request), UDP (a probe and its echo), ICMP echo.
  const t0 = new Date(Date.now() - 200).toISOString();
  const curl = beeline(['exec', '-n', NS, 'client', '--', 'curl', '-s', '-o', '/dev/null', '--max-time', '5', `http://${serverIP}:${HTTP_PORT}/`], env);
  assert.equal(curl.code, 0, `curl: ${curl.stderr}`);
  const udp = beeline(['exec', '-n', NS, 'client', '--', beelineBin, 'probe', 'udp', `${serverIP}:${UDP_PORT}`], env);
  assert.equal(udp.code, 0, `probe udp: ${udp.stderr}`);
  const ping = beeline(['exec', '-n', NS, 'client', '--', 'ping', '-c', '2', '-i', '0.2', '-W', '2', serverIP], env);
  assert.equal(ping.code, 0, `ping: ${ping.stdout}${ping.stderr}`);
  // Late packets (the TCP close's last ACK) reach both the capture and the datapath.
  await sleep(1000);

  process.kill(tsharkPid, 'SIGINT');
  assert.equal(await captureExit, 0, `tshark: ${captureErr}`);
  await sleep(500);
  const t1 = new Date().toISOString();

  const captured = tsharkPackets(pcap);
  const obs = beeline(['observe', '--since', t0, '--until', t1, '--all', '-o', 'json'], env);
  assert.equal(obs.code, 0, `observe: ${obs.stderr}`);
  const all = obs.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { flow?: JsonFlow }).filter((x) => x.flow).map((x) => x.flow!);
  // The server's endpoint on its node: what crossed the pod's eth0, in (TO_ENDPOINT) and out (FROM_ENDPOINT).
  const pair = [clientIP, serverIP].sort().join(' ');
  const endpointFlows = all.filter((f) => f.node_name === 'node2'
    && (f.trace_observation_point === 'TO_ENDPOINT' || f.trace_observation_point === 'FROM_ENDPOINT')
    && [f.IP?.source, f.IP?.destination].sort().join(' ') === pair
    && ((f.l4?.TCP && [f.l4.TCP.source_port, f.l4.TCP.destination_port].includes(HTTP_PORT))
      || (f.l4?.UDP && [f.l4.UDP.source_port, f.l4.UDP.destination_port].includes(UDP_PORT))
      || f.l4?.ICMPv4));
  for (const f of endpointFlows) {
    const into = f.trace_observation_point === 'TO_ENDPOINT';
    assert.equal(into ? f.IP?.destination : f.IP?.source, serverIP, `${f.trace_observation_point} at node2 is the server's: ${JSON.stringify(f)}`);
  }
  const flows = endpointFlows.map(flowPacket);
  const show = (ps: Packet[]) => ps.map((p) => `  ${p.key}`).join('\n');

  // Not vacuous: the capture holds each kind of exchange, both ways.
  const has = (what: string, re: RegExp) => assert.ok(captured.some((p) => re.test(p.key)), `the capture has ${what}:\n${show(captured)}`);
  const c = clientIP.replaceAll('.', '\\.');
  const s = serverIP.replaceAll('.', '\\.');
  has('the client\'s SYN', new RegExp(` ${c}>${s} TCP \\d+>${HTTP_PORT} \\[SYN\\]$`));
  has('the server\'s SYN-ACK', new RegExp(` ${s}>${c} TCP ${HTTP_PORT}>\\d+ \\[SYN,ACK\\]$`));
  has('a FIN', /TCP .*FIN/);
  has('data with PSH', /TCP .*PSH/);
  has('the UDP probe', new RegExp(` ${c}>${s} UDP \\d+>${UDP_PORT}$`));
  has('its echo', new RegExp(` ${s}>${c} UDP ${UDP_PORT}>\\d+$`));
  has('echo requests', new RegExp(` ${c}>${s} ICMPv4 type=8 code=0$`));
  has('echo replies', new RegExp(` ${s}>${c} ICMPv4 type=0 code=0$`));

  t.diagnostic(`${captured.length} captured packets, ${flows.length} endpoint flows`);
  for (const p of captured) t.diagnostic(p.key);
  // Packet for packet: the same descriptions, as many times each.
  const sortKeys = (ps: Packet[]) => ps.map((p) => p.key).sort();
  assert.deepEqual(sortKeys(flows), sortKeys(captured), `the server endpoint's flows (${flows.length}) describe the captured packets (${captured.length})\nflows:\n${show(flows)}\ncapture:\n${show(captured)}`);
  // Every connection tshark saw is in the flows (implied above; named here for the record).
  assert.deepEqual([...new Set(flows.map((p) => connection(p.key)))].sort(), [...new Set(captured.map((p) => connection(p.key)))].sort(), 'the same connections');
  // And when: each key's packets in order, the datapath's time within a second of the capture's.
  const flowTimes = byKey(flows);
  for (const [key, capTimes] of byKey(captured)) {
    capTimes.forEach((ct, i) => {
      const ft = flowTimes.get(key)![i]!;
      const d = ft > ct ? ft - ct : ct - ft;
      assert.ok(d < 1_000_000_000n, `${key} #${i}: flow at ${ft}, captured at ${ct} (${Number(d) / 1e6} ms apart)`);
    });
  }
});
