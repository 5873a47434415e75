/**
 * Issue 12: tshark on the fabric, as an independent decoder, agrees with the
 * node proxy's L7 records. On a 2-node lab with Cilium's Star Wars demo and
 * its L7 policy (rule1: only `POST /v1/request-landing` to the deathstars),
 * the tiefighter sends a known mix to the deathstar on the other node, on
 * two keep-alive connections: allowed landings, a denied
 * `PUT /v1/exhaust-port`, a denied GET with a query string, a path that only
 * starts with the allowed one, the allowed path with a query. tshark
 * captures on the destination node's uplink (eth0 inside the node's network
 * namespace: what crosses the fabric; VXLAN on udp/8472 in tunnel mode,
 * decoded as such, plain IP in native routing) and decodes every HTTP
 * request and response. The proxy (HAProxy on the destination's node)
 * answers denied requests itself; its upstream connection to the server is
 * node-local, so what tshark sees is exactly the client's conversation with
 * the proxy. Then, per connection and in order, three witnesses agree field
 * by field:
 *   - curl in the pod: the status of each request and its local port;
 *   - tshark: client and server addresses and ports, method, Host,
 *     request-target, version, and the response's status;
 *   - `beeline observe --protocol http`: one REQUEST flow per request
 *     (method, `http://<Host><target>`, addresses, ports, protocol,
 *     verdict DROPPED for denied and FORWARDED for allowed ones) and one
 *     RESPONSE flow per response (its code, the ports reversed), the
 *     request's time within a second of the frame that completed it.
 * Counts are equal: no flow without a request on the wire and none missing.
 * Both routing modes, a lab each. Root; run under
 * `flock /tmp/beeline-heavy.lock`. About 2 minutes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../src/common/version.js';
import { parseTimestampJson } from '../../src/api/proto.js';
import { TUNNEL_PORT } from '../../src/datapath/devices.js';
import { readState } from '../../src/lab/state.js';
import { beeline, beelineOk } from '../lib/cli.js';
import { empirePods, type EmpirePod } from '../lib/starwars.js';
import { waitPoliciesProgrammed } from '../lib/policy.js';
import { sleep, until } from '../lib/wait.js';

const STARWARS = join(repoRoot, 'examples', 'starwars.yaml');

/** What the tiefighter sends: two keep-alive connections, each request `[method, target]`, and the status rule1 gives it. */
const CONNECTIONS: [method: string, target: string, status: number][][] = [
  [
    ['POST', '/v1/request-landing', 200],
    ['PUT', '/v1/exhaust-port', 403],
    ['POST', '/v1/request-landing', 200],
    ['GET', '/v1/exhaust-port?target=thermal&force=1', 403],
    ['POST', '/v1/request-landing', 200],
  ],
  [
    ['POST', '/v1/request-landing-now', 403],
    ['POST', '/v1/request-landing', 200],
    ['POST', '/v1/request-landing?now=1', 403],
    ['POST', '/v1/request-landing', 200],
  ],
];
const SENT = CONNECTIONS.flat().length;

/** One HTTP message as tshark decodes it from the capture. */
interface WireMessage {
  frame: number;
  timeNs: bigint;
  /** The inner (pod) addresses and ports. */
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** The outer UDP destination port and VXLAN VNI (tunnel mode); empty when not encapsulated. */
  outerPort: string;
  vni: string;
  method: string;
  uri: string;
  host: string;
  version: string;
  code: string;
  /** For a response: the frame of the request it answers (tshark's own pairing). */
  requestIn: string;
}

const FIELDS = ['frame.number', 'frame.time_epoch', 'ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'udp.dstport', 'vxlan.vni', 'http.request.method', 'http.request.uri', 'http.host', 'http.request.version', 'http.response.version', 'http.response.code', 'http.request_in'];

/** tshark's decode of the capture: every HTTP message between the two pods, in frame order. */
function decodeHttp(pcap: string, a: string, b: string): WireMessage[] {
  // `-E occurrence=l`: the last of a repeated field, the inner IP header's in a VXLAN frame (the outer one comes first).
  const r = spawnSync('tshark', ['-r', pcap, '-n', '-d', `udp.port==${TUNNEL_PORT},vxlan`, '-Y', `http && ip.addr==${a} && ip.addr==${b}`,
    '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=l', ...FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `tshark -r: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim()).map((line) => {
    const v = Object.fromEntries(line.split('\t').map((x, i) => [FIELDS[i]!, x]));
    const [sec, frac = ''] = v['frame.time_epoch']!.split('.');
    return {
      frame: Number(v['frame.number']),
      timeNs: BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9)),
      src: v['ip.src']!,
      dst: v['ip.dst']!,
      sport: Number(v['tcp.srcport']),
      dport: Number(v['tcp.dstport']),
      outerPort: v['udp.dstport'] ?? '',
      vni: v['vxlan.vni'] ?? '',
      method: v['http.request.method'] ?? '',
      uri: v['http.request.uri'] ?? '',
      host: v['http.host'] ?? '',
      version: v['http.request.version'] || v['http.response.version'] || '',
      code: v['http.response.code'] ?? '',
      requestIn: v['http.request_in'] ?? '',
    };
  });
}

interface L7Flow {
  time: string;
  verdict: string;
  node_name?: string;
  traffic_direction?: string;
  IP?: { source?: string; destination?: string };
  l4?: { TCP?: { source_port?: number; destination_port?: number } };
  source?: { pod_name?: string };
  destination?: { pod_name?: string };
  is_reply?: boolean;
  l7?: { type?: string; http?: { method?: string; url?: string; code?: number; protocol?: string } };
}

const timeNs = (t: string): bigint => {
  const p = parseTimestampJson(t);
  assert.ok(p, `flow time ${t}`);
  return BigInt(p.seconds) * 1_000_000_000n + BigInt(p.nanos);
};
const byTime = (x: L7Flow, y: L7Flow) => { const d = timeNs(x.time) - timeNs(y.time); return d < 0n ? -1 : d > 0n ? 1 : 0; };

/** curl in the tiefighter: the requests on one connection where curl can reuse it; per request its status, local port and whether it connected. */
function curl(env: Record<string, string>, pod: string, ip: string, requests: [string, string, ...unknown[]][]): { status: number; port: number; connects: number }[] {
  const args: string[] = [];
  requests.forEach(([method, target], i) => {
    if (i > 0) args.push('--next');
    args.push('-s', '-o', '/dev/null', '--max-time', '3', '-w', '[%{http_code} %{local_port} %{num_connects}]\n', '-X', method, `http://${ip}${target}`);
  });
  const r = beeline(['exec', '-n', 'empire', pod, '--', 'curl', ...args], env, 60_000);
  return [...r.stdout.matchAll(/\[(\d+) (\d+) (\d+)\]/g)].map((m) => ({ status: Number(m[1]), port: Number(m[2]), connects: Number(m[3]) }));
}

for (const routing of ['tunnel', 'native'] as const) {
  test(`tshark on the destination node's uplink decodes the HTTP exchanges the proxy's L7 flows describe (${routing} routing)`, { timeout: 240_000 }, async (t) => {
    const lab = `l7ts-${routing.slice(0, 3)}`;
    const env = { BEELINE_LAB: lab };
    const dir = mkdtempSync(join(tmpdir(), `beeline-${lab}-`));
    let capture: ReturnType<typeof spawn> | undefined;
    t.after(() => {
      if (capture?.pid && capture.exitCode === null && capture.signalCode === null) process.kill(capture.pid, 'SIGKILL');
      if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', lab, '-q']);
      rmSync(dir, { recursive: true, force: true });
    });

    beeline(['lab', 'down', '--name', lab, '-q']);
    const up = beeline(['lab', 'up', '--nodes', '2', '--name', lab, '--routing', routing, '-q']);
    assert.equal(up.code, 0, up.stderr);
    // starwars.yaml: the demo and rule1 with its HTTP rule (the L3/L4 policy of sw_l3_l4_policy.yaml plus `POST /v1/request-landing`).
    beelineOk(['apply', '-f', STARWARS], env);
    const pods = await until('the Star Wars pods running, a deathstar on each node', () => {
      const ps = empirePods(env).filter((p) => p.phase === 'Running' && p.ip);
      const ds = ps.filter((p) => p.name.startsWith('deathstar-'));
      return ps.length === 4 && new Set(ds.map((d) => d.node)).size === 2 ? ps : undefined;
    }, 120_000, 500);
    await waitPoliciesProgrammed(lab);
    const tiefighter = pods.find((p) => p.name === 'tiefighter')!;
    const deathstar: EmpirePod = pods.find((p) => p.name.startsWith('deathstar-') && p.node !== tiefighter.node)!;
    assert.ok(deathstar, 'a deathstar on the other node than the tiefighter');
    // The proxy reloads with rule1 moments after the policy map has it (fail closed meanwhile): wait until it lands and denies.
    await until(`the proxy of ${deathstar.node} enforces rule1`, () => {
      const r = curl(env, tiefighter.name, deathstar.ip, [['POST', '/v1/request-landing'], ['PUT', '/v1/exhaust-port']]);
      return r.length === 2 && r[0]!.status === 200 && r[1]!.status === 403;
    }, 20_000, 500);

    const plan = readState(lab)!.plan;
    assert.equal(plan.routing, routing);
    const dstNode = plan.nodes.find((n) => n.name === deathstar.node)!;
    const srcNode = plan.nodes.find((n) => n.name === tiefighter.node)!;

    // The capture: tshark in the destination node's network namespace, on its uplink to the fabric.
    // `ip netns exec` execs tshark in place: the child's pid is tshark's.
    const pcap = join(dir, 'fabric.pcapng');
    const filter = routing === 'tunnel'
      ? `udp port ${TUNNEL_PORT} and host ${srcNode.ip} and host ${dstNode.ip}`
      : `tcp port 80 and host ${tiefighter.ip} and host ${deathstar.ip}`;
    capture = spawn('ip', ['netns', 'exec', dstNode.netns, 'tshark', '-n', '-i', dstNode.uplink, '-f', filter, '-w', pcap, '-a', 'duration:90'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let captureOut = '';
    capture.stdout!.setEncoding('utf8').on('data', (s: string) => { captureOut += s; });
    capture.stderr!.setEncoding('utf8').on('data', (s: string) => { captureOut += s; });
    const captureExit = new Promise<number>((resolve) => capture!.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
    await until(`tshark captures on ${dstNode.netns}/${dstNode.uplink} (or exits)`, () => new RegExp(`Capturing on '${dstNode.uplink}'`).test(captureOut) || capture!.exitCode !== null, 30_000, 100);
    assert.equal(capture.exitCode, null, `tshark exited: ${captureOut}`);
    assert.equal(readFileSync(`/proc/${capture.pid}/comm`, 'utf8').trim(), 'tshark', 'the pid is tshark\'s');
    await sleep(300);

    // The mix, one curl (one keep-alive connection) per group; the connections of the warm-up above are closed.
    const t0 = new Date(Date.now() - 100).toISOString();
    const sent = CONNECTIONS.map((reqs) => {
      const r = curl(env, tiefighter.name, deathstar.ip, reqs);
      assert.deepEqual(r.map((x) => [x.status, x.connects]), reqs.map(([, , status], i) => [status, i === 0 ? 1 : 0]), `curl: the statuses rule1 gives, on one connection: ${JSON.stringify(r)}`);
      assert.equal(new Set(r.map((x) => x.port)).size, 1);
      return { port: r[0]!.port, reqs };
    });
    assert.notEqual(sent[0]!.port, sent[1]!.port);
    await sleep(1000);
    process.kill(capture.pid!, 'SIGINT');
    assert.equal(await captureExit, 0, `tshark: ${captureOut}`);
    const t1 = new Date().toISOString();

    // tshark's view.
    const wire = decodeHttp(pcap, tiefighter.ip, deathstar.ip);
    const line = (m: WireMessage) => `#${m.frame} ${m.src}:${m.sport} > ${m.dst}:${m.dport} ${m.method ? `${m.method} ${m.uri} ${m.version} Host=${m.host}` : `${m.version} ${m.code} (request #${m.requestIn})`}`;
    const show = (ms: WireMessage[]) => ms.map((m) => `  ${line(m)}`).join('\n');
    t.diagnostic(`tshark on ${dstNode.netns}/${dstNode.uplink}: ${wire.length} HTTP messages`);
    for (const m of wire) t.diagnostic(line(m));
    const requests = wire.filter((m) => m.method);
    const responses = wire.filter((m) => m.code);
    assert.equal(requests.length + responses.length, wire.length, 'every HTTP message is a request or a response');
    // The capture is real: every request sent crossed the fabric and tshark decoded it.
    assert.ok(requests.length >= SENT, `tshark saw at least the ${SENT} requests sent:\n${show(wire)}`);
    for (const m of wire) {
      if (routing === 'tunnel') assert.ok(m.outerPort === String(TUNNEL_PORT) && m.vni !== '', `#${m.frame} came inside VXLAN (udp/${TUNNEL_PORT})`);
      else assert.equal(m.vni, '', `#${m.frame} is plain IP`);
    }

    // The proxy's view: the L7 flows between the two pods in the window.
    const flows = await until('the L7 flows of every request and response', () => {
      const r = beeline(['observe', '--since', t0, '--until', t1, '--all', '-o', 'json', '--protocol', 'http'], env);
      assert.equal(r.code, 0, r.stderr);
      const fs = r.stdout.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { flow?: L7Flow }).flow).filter((f): f is L7Flow => !!f)
        .filter((f) => [f.IP?.source, f.IP?.destination].sort().join(' ') === [tiefighter.ip, deathstar.ip].sort().join(' '));
      return fs.length >= 2 * SENT ? fs : undefined;
    }, 20_000, 500);

    // Per connection (the client's port), in order: curl, tshark and the flows.
    const ports = [...new Set([...requests.map((m) => m.sport), ...responses.map((m) => m.dport)])].sort((x, y) => x - y);
    assert.deepEqual(ports, sent.map((s) => s.port).sort((x, y) => x - y), 'tshark saw the two connections curl used, and no other');
    const reqFlows = flows.filter((f) => f.l7?.type === 'REQUEST').sort(byTime);
    const respFlows = flows.filter((f) => f.l7?.type === 'RESPONSE').sort(byTime);
    assert.equal(reqFlows.length + respFlows.length, flows.length, 'every L7 flow is a REQUEST or a RESPONSE');
    assert.equal(reqFlows.length, requests.length, `one REQUEST flow per request tshark saw (${requests.length})`);
    assert.equal(respFlows.length, responses.length, `one RESPONSE flow per response tshark saw (${responses.length})`);
    for (const { port, reqs } of sent) {
      const wireMsgs = wire.filter((m) => m.sport === port || m.dport === port);
      // No pipelining: request, response, request, response ... and tshark pairs each response with the request before it.
      assert.equal(wireMsgs.length, 2 * reqs.length, `port ${port}: ${reqs.length} exchanges on the wire:\n${show(wireMsgs)}`);
      const rq = reqFlows.filter((f) => f.l4?.TCP?.source_port === port);
      const rs = respFlows.filter((f) => f.l4?.TCP?.destination_port === port);
      assert.equal(rq.length, reqs.length, `port ${port}: REQUEST flows`);
      assert.equal(rs.length, reqs.length, `port ${port}: RESPONSE flows`);
      reqs.forEach(([method, target, status], i) => {
        const req = wireMsgs[2 * i]!;
        const resp = wireMsgs[2 * i + 1]!;
        const what = `port ${port} exchange ${i} (${method} ${target})`;
        // tshark: what was sent, from the tiefighter to the deathstar, and its answer.
        assert.deepEqual([req.src, req.sport, req.dst, req.dport, req.method, req.uri, req.host], [tiefighter.ip, port, deathstar.ip, 80, method, target, deathstar.ip], `${what}: the request on the wire`);
        assert.deepEqual([resp.src, resp.sport, resp.dst, resp.dport, resp.code, resp.requestIn], [deathstar.ip, 80, tiefighter.ip, port, String(status), String(req.frame)], `${what}: the response on the wire`);
        // The REQUEST flow, field by field against tshark's request.
        const f = rq[i]!;
        assert.deepEqual({
          src: f.IP?.source, sport: f.l4?.TCP?.source_port, dst: f.IP?.destination, dport: f.l4?.TCP?.destination_port,
          method: f.l7?.http?.method, url: f.l7?.http?.url, protocol: f.l7?.http?.protocol, code: f.l7?.http?.code,
        }, {
          src: req.src, sport: req.sport, dst: req.dst, dport: req.dport,
          method: req.method, url: `http://${req.host}${req.uri}`, protocol: req.version, code: undefined,
        }, `${what}: REQUEST flow and tshark`);
        assert.deepEqual([f.verdict, f.is_reply, f.source?.pod_name, f.destination?.pod_name, f.node_name, f.traffic_direction],
          [status === 200 ? 'FORWARDED' : 'DROPPED', false, tiefighter.name, deathstar.name, deathstar.node, 'INGRESS'], `${what}: the REQUEST flow's verdict and ends`);
        const d = timeNs(f.time) - req.timeNs;
        assert.ok(d > -1_000_000_000n && d < 1_000_000_000n, `${what}: the REQUEST flow at ${f.time}, the request's last frame ${Number(d) / 1e6} ms earlier`);
        // The RESPONSE flow against tshark's response (the ports reversed) and the request it answers.
        const g = rs[i]!;
        assert.deepEqual({
          src: g.IP?.source, sport: g.l4?.TCP?.source_port, dst: g.IP?.destination, dport: g.l4?.TCP?.destination_port,
          code: g.l7?.http?.code, method: g.l7?.http?.method, url: g.l7?.http?.url, protocol: g.l7?.http?.protocol,
        }, {
          src: resp.src, sport: resp.sport, dst: resp.dst, dport: resp.dport,
          code: Number(resp.code), method: req.method, url: `http://${req.host}${req.uri}`, protocol: resp.version,
        }, `${what}: RESPONSE flow and tshark`);
        assert.deepEqual([g.verdict, g.is_reply], ['FORWARDED', true], `${what}: the RESPONSE flow`);
      });
    }
  });
}
