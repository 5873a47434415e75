/**
 * `beeline monitor` end to end: the real CLI (bin/beeline) against fake node
 * agents, HTTP servers on unix sockets that stream NDJSON monitor lines, found
 * through a lab state file in a temporary BEELINE_RUN_DIR.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beelineBin } from '../../test/lib/cli.js';
import { dropRecord, ethernet, ETH_IPV4, ipv4, ip4Number, tcp, tcpSyn, traceRecord } from '../../test/lib/packets.js';
import { BlDropReason, BlSourceFile, BlTracePoint, BlTraceReason } from '../datapath/generated/abi.js';
import type { MonitorLine } from '../agent/types.js';
import { planLab } from '../lab/topology.js';

const root = mkdtempSync(join(tmpdir(), 'bl-mon-'));
const runDir = join(root, 'run');
after(() => rmSync(root, { recursive: true, force: true }));

/** Writes the state file of a lab that is "up" with these agent sockets. */
function writeLab(name: string, sockets: string[]): void {
  const plan = planLab(name, sockets.length);
  const dir = join(runDir, 'labs', name);
  mkdirSync(dir, { recursive: true });
  const agents = Object.fromEntries(
    plan.nodes.map((n, i) => [n.name, { socket: sockets[i]!, process: { role: 'agent', pid: 0, starttime: '', cmd: [], log: '' }, config: '', log: '' }]),
  );
  writeFileSync(join(dir, 'lab.json'), JSON.stringify({ version: 1, plan, phase: 'up', createdAt: new Date().toISOString(), dir, netns: [], agents }));
}

type Script = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A fake agent: GET /v1/monitor runs `script` (n counts connections); everything else is 404. */
class FakeMonitorAgent {
  readonly socket: string;
  connections = 0;
  /** Resolves when a monitor request's connection closes (the CLI hung up). */
  readonly hungUp: Promise<void>;
  private server: Server;
  private hangUp!: () => void;

  constructor(name: string, script: Script) {
    this.socket = join(root, `${name}.sock`);
    this.hungUp = new Promise((r) => (this.hangUp = r));
    this.server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/v1/monitor') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'BL_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      req.on('close', () => this.hangUp());
      script(req, res, ++this.connections);
    });
  }

  start(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socket, () => resolve(this));
    });
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const ndjson = (l: MonitorLine) => JSON.stringify(l) + '\n';
const data = (node: string, record: Buffer) => ndjson({ node, data: record.toString('base64') });

/** Streams lines as the real agent does: headers go out with the first line; the stream stays open. */
const streamLines =
  (lines: string[], opts: { flush?: boolean; end?: boolean } = {}): Script =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    if (opts.flush) res.flushHeaders();
    for (const l of lines) res.write(l);
    if (opts.end) res.end();
  };

async function agent(name: string, script: Script): Promise<FakeMonitorAgent> {
  const a = await new FakeMonitorAgent(name, script).start();
  after(() => a.stop());
  return a;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs bin/beeline without blocking this process's event loop (the fake agents live in it). */
function beeline(args: string[], limitMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const child = spawn(beelineBin, args, { env: { ...process.env, BEELINE_LAB: undefined, BEELINE_RUN_DIR: runDir } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - start });
    });
  });
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

// ---- events the fakes stream

const SYN_TO_ENDPOINT = traceRecord(
  tcpSyn(),
  { subtype: BlTracePoint.BL_TRACE_TO_LXC, hash: 0x5c1b2f4, ifindex: 29, src_identity: 1, dst_identity: 54321 },
  { dst_id: 1234, reason: BlTraceReason.BL_TRACE_REASON_POLICY, orig_ip4: ip4Number('10.0.1.5') },
);
const SYN_TO_ENDPOINT_LINE = '-> endpoint 1234 flow 0x5c1b2f4 , identity 1->54321 state new ifindex 29 orig-ip 10.0.1.5: 10.0.1.5:41234 -> 10.0.2.8:80 tcp SYN';

const SYNACK_FROM_ENDPOINT = traceRecord(
  ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.2.8', dst: '10.0.1.5', protocol: 6 }, tcp({ sport: 80, dport: 41234, flags: 'SA' }))),
  { subtype: BlTracePoint.BL_TRACE_FROM_LXC, source: 1234, hash: 0x77, ifindex: 29 },
  { reason: BlTraceReason.BL_TRACE_REASON_CT_REPLY },
);
const SYNACK_FROM_ENDPOINT_LINE = '<- endpoint 1234 flow 0x77 , identity 0->0 state reply ifindex 29 orig-ip 0.0.0.0: 10.0.2.8:80 -> 10.0.1.5:41234 tcp SYN, ACK';

const POLICY_DROP = dropRecord(
  ethernet({ type: ETH_IPV4 }, ipv4({ src: '10.0.0.2', dst: '10.0.1.4', protocol: 6 }, tcp({ sport: 38024, dport: 80, flags: 'S' }))),
  { subtype: BlDropReason.BL_DROP_POLICY, source: 5, ifindex: 2, src_identity: 2, dst_identity: 4 },
  { file: BlSourceFile.BL_FILE_HOST, line: 1942 },
);
const POLICY_DROP_LINE = 'xx drop (Policy denied) flow 0x0 to endpoint 0, ifindex 2, file host.bpf.c:1942, , identity 2->4: 10.0.0.2:38024 -> 10.0.1.4:80 tcp SYN';

// ---- tests

test('prints events as Cilium does, lost events with their node, and exits 0 after -n events', async () => {
  const a = await agent('n-count', streamLines([data('node1', SYN_TO_ENDPOINT), ndjson({ node: 'node1', lost: 7 }), data('node1', POLICY_DROP), data('node1', SYN_TO_ENDPOINT)]));
  writeLab('count', [a.socket]);
  const r = await beeline(['monitor', '--lab', 'count', '-n', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), [SYN_TO_ENDPOINT_LINE, '[node1] Lost 7 events', POLICY_DROP_LINE]);
  assert.match(r.stderr, /^Listening for events on 1 node with 256x4096 of shared memory\nPress Ctrl-C to quit\n$/);
  await a.hungUp; // the CLI closed its stream
});

test('--timeout: exits 0 after the duration, also when a quiet agent has not even sent its headers', async () => {
  const quiet = await agent('n-quiet', streamLines([]));
  writeLab('quiet', [quiet.socket]);
  const r = await beeline(['monitor', '--lab', 'quiet', '--timeout', '1s']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Listening for events on 1 node/);
  assert.ok(r.ms >= 1000 && r.ms < 10_000, `took ${r.ms} ms`);

  const one = await agent('n-timeout', streamLines([data('node1', SYN_TO_ENDPOINT)], { flush: true }));
  writeLab('timeout', [one.socket]);
  const t = await beeline(['monitor', '--lab', 'timeout', '--timeout', '800ms']);
  assert.equal(t.code, 0, t.stderr);
  assert.deepEqual(lines(t.stdout), [SYN_TO_ENDPOINT_LINE]);
});

test('-o json: one object per line with header fields, packet summary, node and time', async () => {
  const a = await agent('n-json', streamLines([ndjson({ node: 'node1', lost: 1 }), data('node1', SYN_TO_ENDPOINT), data('node1', POLICY_DROP)]));
  writeLab('json', [a.socket]);
  const r = await beeline(['monitor', '--lab', 'json', '-o', 'json', '-n', '2']);
  assert.equal(r.code, 0, r.stderr);
  const objs = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    objs.map((o) => o.type),
    ['lost', 'trace', 'drop'],
  );
  const [lost, trace, drop] = objs as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
  assert.equal(lost.lost, 1);
  assert.equal(trace.node, 'node1');
  assert.ok(!Number.isNaN(Date.parse(String(trace.time))));
  assert.equal(trace.observationPoint, 'to-endpoint');
  assert.equal(trace.dstID, 1234);
  assert.equal((trace.summary as { connection: string }).connection, '10.0.1.5:41234 -> 10.0.2.8:80 tcp SYN');
  assert.equal((trace.packet as { tcp: { srcPort: number } }).tcp.srcPort, 41234);
  assert.equal(drop.reason, 'Policy denied');
  assert.equal(drop.fileName, 'host.bpf.c');
});

test('several nodes: every event line names its node', async () => {
  const n1 = await agent('m-node1', streamLines([data('node1', SYN_TO_ENDPOINT)]));
  const n2 = await agent('m-node2', streamLines([data('node2', POLICY_DROP), ndjson({ node: 'node2', lost: 3 })]));
  writeLab('multi', [n1.socket, n2.socket]);
  const r = await beeline(['monitor', '--lab', 'multi', '--timeout', '1500ms']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout).sort(), [`[node1] ${SYN_TO_ENDPOINT_LINE}`, '[node2] Lost 3 events', `[node2] ${POLICY_DROP_LINE}`].sort());
  assert.match(r.stderr, /Listening for events on 2 nodes/);
  const only = await beeline(['monitor', '--lab', 'multi', '--node', 'node2', '-n', '1']);
  assert.equal(only.code, 0, only.stderr);
  assert.deepEqual(lines(only.stdout), [POLICY_DROP_LINE]);
});

test('--type, --from, --to and --related-to filter as cilium monitor does', async () => {
  const a = await agent('n-filter', streamLines([data('node1', SYN_TO_ENDPOINT), data('node1', SYNACK_FROM_ENDPOINT), data('node1', POLICY_DROP)]));
  writeLab('filter', [a.socket]);
  const run = async (...args: string[]) => {
    const r = await beeline(['monitor', '--lab', 'filter', '--timeout', '1s', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return lines(r.stdout);
  };
  const [drops, traces, to, from, related, fromType] = await Promise.all([
    run('--type', 'drop'),
    run('--type', 'trace'),
    run('--to', '1234'),
    run('--from', '1234'),
    run('--related-to', '1234'),
    run('--from', '5', '--type', 'drop,trace'),
  ]);
  assert.deepEqual(drops, [POLICY_DROP_LINE]);
  assert.deepEqual(traces, [SYN_TO_ENDPOINT_LINE, SYNACK_FROM_ENDPOINT_LINE]);
  assert.deepEqual(to, [SYN_TO_ENDPOINT_LINE]);
  assert.deepEqual(from, [SYNACK_FROM_ENDPOINT_LINE]);
  assert.deepEqual(related, [SYN_TO_ENDPOINT_LINE, SYNACK_FROM_ENDPOINT_LINE]);
  assert.deepEqual(fromType, [POLICY_DROP_LINE]);
});

test('-v prints the verbose form; an agent that ends its stream is reconnected', async () => {
  const a = await agent(
    'n-verbose',
    // First connection: one event, then the agent ends the stream (a restart); the second: one more.
    (req, res, n) => streamLines([data('node1', n === 1 ? SYN_TO_ENDPOINT : POLICY_DROP)], { end: n === 1 })(req, res, n),
  );
  writeLab('verbose', [a.socket]);
  const r = await beeline(['monitor', '--lab', 'verbose', '-v', '-n', '2']);
  assert.equal(r.code, 0, r.stderr);
  const out = lines(r.stdout);
  assert.equal(out[0], '------------------------------------------------------------------------------');
  assert.equal(out[1], 'MARK 0x5c1b2f4 FROM 0 to-endpoint: 54 bytes (54 captured), state new, interface 29, , identity 1->54321, orig-ip 10.0.1.5, to endpoint 1234');
  assert.match(out[2]!, /^Ethernet\t\{SrcMAC=02:00:00:00:00:01 /);
  assert.match(out[3]!, /^IPv4\t\{Version=4 /);
  assert.match(out[4]!, /^TCP\t\{SrcPort=41234 DstPort=80 /);
  assert.equal(out[5], '------------------------------------------------------------------------------');
  assert.equal(out[6], 'MARK 0x0 FROM 5 DROP: 54 bytes, reason Policy denied, identity 2->4');
  assert.match(r.stderr, /Warning: \[node1\] the agent ended the monitor stream; reconnecting/);
  assert.equal(a.connections, 2);
});

test('an agent that cannot be reached or refuses the stream is an error with a code', async () => {
  writeLab('gone', [join(root, 'nothing-here.sock')]);
  const r = await beeline(['monitor', '--lab', 'gone', '--timeout', '5s']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Error \[BL_ERR_AGENT_UNREACHABLE\]: agent node1 \(.*nothing-here\.sock\): GET \/v1\/monitor: connect ENOENT .*\(is the agent running\? \(beeline lab status\)\)\n$/);

  const old = await agent('n-old', (_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'BL_ERR_NOT_FOUND', message: 'no route GET /v1/monitor' } })));
  writeLab('old', [old.socket]);
  const o = await beeline(['monitor', '--lab', 'old', '--timeout', '5s']);
  assert.equal(o.code, 1);
  assert.match(o.stderr, /Error \[BL_ERR_AGENT_UNREACHABLE\]: monitor: no agent left to read \(agent node1 .*HTTP 404: no route GET \/v1\/monitor\)/);
  assert.ok(o.ms < 8000, `gave up after ${o.ms} ms (a refused stream is not retried)`);
});

test('bad flags are usage errors (exit 2) before anything is contacted', async () => {
  writeLab('usage', [join(root, 'unused.sock')]);
  const cases = [
    [['--type', 'l7'], /--type l7: unknown event type \(one of: drop, debug, capture, trace, policy-verdict, record-capture, trace-sock\)/],
    [['--timeout', '5'], /--timeout 5: not a duration/],
    [['-n', '0'], /--count 0: not a number of events/],
    [['--from', 'x'], /--from x: not an endpoint id/],
    [['-o', 'yaml'], /-o yaml: unknown output format/],
  ] as const;
  const runs = await Promise.all(cases.map(([args]) => beeline(['monitor', '--lab', 'usage', ...args])));
  cases.forEach(([args, msg], i) => {
    const r = runs[i]!;
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^Error \[BL_ERR_USAGE\]: [^\n]+\n$/);
    assert.match(r.stderr, msg);
  });
});
