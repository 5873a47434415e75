/**
 * `beeline observe`: every flag family → the GetFlowsRequest hubble observe
 * would send (the two-filter rule, -n with --pod, --not, the selectors and
 * their contradictions), and end to end: the real CLI (bin/beeline) against
 * a real gRPC Observer server on a unix socket, checking what it printed and
 * exactly which request the server received.
 */
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as GrpcStatus, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import { observerServiceDefinition, startGrpcServer, type GrpcServerHandle } from '../api/grpc.js';
import { toProtoJson } from '../api/proto.js';
import { UsageError } from '../common/errors.js';
import { relayAddress, relaySocketPath } from '../lab/relay-paths.js';
import type { Flow, GetFlowsRequest, GetFlowsResponse } from '../observer/types.js';
import { beelineBin } from '../../test/lib/cli.js';
import { contractHasField } from './observe-filter.js';
import { observeCommand, parseTimeFlag, type ObservePlan } from './observe.js';

const root = mkdtempSync(join(tmpdir(), 'bl-observe-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Parses `observe` flags the way the CLI does and returns the plan it would run. */
async function plan(args: string[]): Promise<ObservePlan> {
  let got: ObservePlan | undefined;
  const cmd = observeCommand(async (p) => {
    got = p;
  });
  cmd.exitOverride();
  cmd.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await cmd.parseAsync(args, { from: 'user' });
  assert.ok(got, 'the command ran');
  return got;
}

const S = ['--server', 'unix:///tmp/none.sock'];
const req = async (...args: string[]) => (await plan([...S, ...args])).request;
const lists = async (...args: string[]) => {
  const r = await req(...args);
  return { whitelist: r.whitelist, blacklist: r.blacklist };
};

/** Asserts the flags are rejected with a usage error whose message names `flag`. */
async function rejects(args: string[], flag: string | RegExp): Promise<void> {
  await assert.rejects(plan([...S, ...args]), (e: unknown) => {
    assert.ok(e instanceof UsageError, `a UsageError, got ${String(e)}`);
    if (typeof flag === 'string') assert.ok(e.message.includes(flag), `"${e.message}" names ${flag}`);
    else assert.match(e.message, flag);
    return true;
  });
}

describe('selectors: how many flows, from when', () => {
  test("Hubble's default: the last 20, not following", async () => {
    assert.deepEqual(await req(), { number: '20', first: false, follow: false, whitelist: [], blacklist: [] });
  });
  test('--last, --first, --all, --follow', async () => {
    assert.equal((await req('--last', '5')).number, '5');
    assert.deepEqual(await req('--first', '3'), { number: '3', first: true, follow: false, whitelist: [], blacklist: [] });
    assert.equal((await req('--all')).number, '18446744073709551615');
    assert.deepEqual(await req('-f'), { number: '0', first: false, follow: true, whitelist: [], blacklist: [] });
    assert.deepEqual(await req('--follow', '--last', '10'), { number: '10', first: false, follow: true, whitelist: [], blacklist: [] });
  });
  test('--since and --until: Go durations ago and RFC 3339; --until is dropped when following', async () => {
    const before = Date.now();
    const r = await req('--since', '5m');
    assert.equal(r.number, '0'); // a time range: every flow in it
    const since = Number(r.since!.seconds) * 1000;
    assert.ok(since >= before - 300_000 - 1000 && since <= Date.now() - 300_000 + 1000, `since ${since} is 5 minutes ago`);
    const r2 = await req('--since', '2026-12-06T08:00:00Z', '--until', '2026-12-06T09:30:00.5+01:00');
    assert.deepEqual(r2.since, { seconds: Date.parse('2026-12-06T08:00:00Z') / 1000, nanos: 0 });
    assert.deepEqual(r2.until, { seconds: Date.parse('2026-12-06T08:30:00Z') / 1000, nanos: 500_000_000 });
    const r3 = await req('-f', '--since', '1h30m', '--until', '1m');
    assert.equal(r3.until, undefined);
    assert.ok(r3.since);
    assert.deepEqual(parseTimeFlag('--since', '2026-12-06', 0), { seconds: Date.parse('2026-12-06T00:00:00Z') / 1000, nanos: 0 });
    assert.deepEqual(parseTimeFlag('--since', '2026-12-06T08Z', 0), { seconds: Date.parse('2026-12-06T08:00:00Z') / 1000, nanos: 0 });
    assert.deepEqual(parseTimeFlag('--since', '1h', 7_200_000), { seconds: 3600, nanos: 0 });
  });
  test('contradictions and bad values are usage errors naming the flags', async () => {
    await rejects(['--first', '3', '--follow'], '--first and --follow');
    await rejects(['--last', '3', '--first', '2'], '--first and --last');
    await rejects(['--all', '--last', '3'], '--last and --all');
    await rejects(['--all', '--first', '3'], '--first and --all');
    await rejects(['--last', 'ten'], '--last ten');
    await rejects(['--since', 'yesterday'], '--since yesterday');
    await rejects(['--until', '5 minutes'], '--until 5 minutes');
    await rejects(['-f', '--until', 'soon'], '--until soon');
    await rejects(['-o', 'table', '-f'], '-o table');
    await rejects(['-o', 'yaml'], '-o yaml');
    await rejects(['--time-format', 'Kitchen'], '--time-format Kitchen');
    await rejects(['--timeout', 'forever'], '--timeout forever');
  });
});

describe('filters: the two-filter rule, namespaces, --not', () => {
  test('a non-directional flag makes two whitelist filters: source in one, destination in the other', async () => {
    assert.deepEqual(await lists('--pod', 'x'), { whitelist: [{ source_pod: ['x'] }, { destination_pod: ['x'] }], blacklist: [] });
    assert.deepEqual((await lists('--ip', '10.0.0.1', '--ip', '10.1.0.0/16')).whitelist, [{ source_ip: ['10.0.0.1', '10.1.0.0/16'] }, { destination_ip: ['10.0.0.1', '10.1.0.0/16'] }]);
    assert.deepEqual((await lists('-l', 'app=web')).whitelist, [{ source_label: ['app=web'] }, { destination_label: ['app=web'] }]);
    assert.deepEqual((await lists('--label', 'app=web')).whitelist, [{ source_label: ['app=web'] }, { destination_label: ['app=web'] }]);
    assert.deepEqual((await lists('--fqdn', '*.example.com')).whitelist, [{ source_fqdn: ['*.example.com'] }, { destination_fqdn: ['*.example.com'] }]);
    assert.deepEqual((await lists('--service', 'kube-system/kube-dns')).whitelist, [{ source_service: ['kube-system/kube-dns'] }, { destination_service: ['kube-system/kube-dns'] }]);
    assert.deepEqual((await lists('--port', '53')).whitelist, [{ source_port: ['53'] }, { destination_port: ['53'] }]);
    assert.deepEqual((await lists('--identity', 'world', '--identity', '1234')).whitelist, [{ source_identity: [2, 1234] }, { destination_identity: [2, 1234] }]);
    assert.deepEqual((await lists('--workload', 'Deployment/web')).whitelist, [{ source_workload: [{ kind: 'Deployment', name: 'web' }] }, { destination_workload: [{ kind: 'Deployment', name: 'web' }] }]);
  });
  test('from/to flags set one side on every filter; equal filters collapse to one', async () => {
    assert.deepEqual(await lists('--from-pod', 'default/a', '--to-pod', 'default/b'), { whitelist: [{ source_pod: ['default/a'], destination_pod: ['default/b'] }], blacklist: [] });
    assert.deepEqual((await lists('--from-ip', '10.0.0.0/8', '--to-ip', 'fd00::1')).whitelist, [{ source_ip: ['10.0.0.0/8'], destination_ip: ['fd00::1'] }]);
    assert.deepEqual((await lists('--from-label', 'a=b', '--to-label', 'c=d')).whitelist, [{ source_label: ['a=b'], destination_label: ['c=d'] }]);
    assert.deepEqual((await lists('--from-fqdn', 'a.io', '--to-fqdn', 'b.io')).whitelist, [{ source_fqdn: ['a.io'], destination_fqdn: ['b.io'] }]);
    assert.deepEqual((await lists('--from-service', 's1', '--to-service', 's2')).whitelist, [{ source_service: ['s1'], destination_service: ['s2'] }]);
    assert.deepEqual((await lists('--from-port', '1234', '--to-port', '80')).whitelist, [{ source_port: ['1234'], destination_port: ['80'] }]);
    assert.deepEqual((await lists('--from-identity', 'host', '--to-identity', '256')).whitelist, [{ source_identity: [1], destination_identity: [256] }]);
    assert.deepEqual((await lists('--from-workload', 'web', '--to-workload', 'Deployment/')).whitelist, [{ source_workload: [{ kind: '', name: 'web' }], destination_workload: [{ kind: 'Deployment', name: '' }] }]);
  });
  test('non-directional and global flags combine: the global ones land in both filters', async () => {
    assert.deepEqual((await lists('--pod', 'x', '--verdict', 'DROPPED', '--protocol', 'TCP')).whitelist, [
      { source_pod: ['x'], verdict: ['DROPPED'], protocol: ['tcp'] },
      { destination_pod: ['x'], verdict: ['DROPPED'], protocol: ['tcp'] },
    ]);
  });
  test('-n qualifies pods on the side it filters; --from/--to-namespace every filter; -A any namespace', async () => {
    assert.deepEqual((await lists('-n', 'prod')).whitelist, [{ source_pod: ['prod/'] }, { destination_pod: ['prod/'] }]);
    assert.deepEqual((await lists('--namespace', 'prod', '--pod', 'web')).whitelist, [{ source_pod: ['prod/web'] }, { destination_pod: ['prod/web'] }]);
    assert.deepEqual((await lists('-n', 'a', '-n', 'b')).whitelist, [{ source_pod: ['a/', 'b/'] }, { destination_pod: ['a/', 'b/'] }]);
    assert.deepEqual((await lists('--from-namespace', 'a', '--to-namespace', 'b')).whitelist, [{ source_pod: ['a/'], destination_pod: ['b/'] }]);
    assert.deepEqual((await lists('-n', 'prod', '--service', 'db')).whitelist, [{ source_service: ['prod/db'] }, { destination_service: ['prod/db'] }]);
    assert.deepEqual((await lists('-A')).whitelist, [{ source_pod: ['/'] }, { destination_pod: ['/'] }]);
    await rejects(['-n', 'a', '--pod', 'b/x'], 'namespace conflict');
    await rejects(['-n', 'a', '--from-pod', 'x'], 'filters --from-pod and --namespace cannot be combined');
  });
  test('--not sends exactly the next filter flag to the blacklist', async () => {
    assert.deepEqual(await lists('--not', '--verdict', 'DROPPED', '--pod', 'x'), {
      whitelist: [{ source_pod: ['x'] }, { destination_pod: ['x'] }],
      blacklist: [{ verdict: ['DROPPED'] }],
    });
    assert.deepEqual(await lists('--not', '--ip', '1.1.1.1', '--not', '--ip', '2.2.2.2'), {
      whitelist: [],
      blacklist: [{ source_ip: ['1.1.1.1', '2.2.2.2'] }, { destination_ip: ['1.1.1.1', '2.2.2.2'] }],
    });
    assert.deepEqual(await lists('--http-method', 'put', '--not', '--to-namespace', 'foo'), {
      whitelist: [{ http_method: ['put'] }],
      blacklist: [{ destination_pod: ['foo/'] }],
    });
    // The same flag may appear in both lists: conflicts are per list.
    assert.deepEqual(await lists('--label', 'a=b', '--not', '--from-label', 'c=d'), {
      whitelist: [{ source_label: ['a=b'] }, { destination_label: ['a=b'] }],
      blacklist: [{ source_label: ['c=d'] }],
    });
    await rejects(['--pod', 'x', '--not'], 'trailing --not');
    await rejects(['--not', '--not', '--pod', 'x'], 'consecutive --not');
    await rejects(['--label', 'a=b', '--from-label', 'c=d'], 'filters --from-label and --label cannot be combined');
    await rejects(['--pod', 'x', '--from-ip', '1.1.1.1'], '--from-ip');
  });
  test('values: types, verdicts, protocols, TCP flags, directions, HTTP, nodes', async () => {
    const one = async (...a: string[]) => (await lists(...a)).whitelist;
    assert.deepEqual(await one('-t', 'trace:to-endpoint'), [{ event_type: [{ type: 4, match_sub_type: true, sub_type: 0 }] }]);
    assert.deepEqual(await one('--type', 'trace:from-network', '--type', 'drop', '-t', 'l7', '-t', 'policy-verdict'), [
      { event_type: [{ type: 4, match_sub_type: true, sub_type: 10 }, { type: 1 }, { type: 129 }, { type: 5 }] },
    ]);
    assert.deepEqual(await one('-t', '1:133'), [{ event_type: [{ type: 1, match_sub_type: true, sub_type: 133 }] }]);
    assert.deepEqual(await one('--verdict', 'forwarded', '--verdict', 'DROPPED'), [{ verdict: ['FORWARDED', 'DROPPED'] }]);
    assert.deepEqual(await one('--protocol', 'udp', '--protocol', 'dns'), [{ protocol: ['udp', 'dns'] }]);
    assert.deepEqual(await one('--tcp-flags', 'syn,ack', '--tcp-flags', 'RST'), [{ tcp_flags: [{ SYN: true, ACK: true }, { RST: true }] }]);
    assert.deepEqual(await one('--traffic-direction', 'ingress'), [{ traffic_direction: ['INGRESS'] }]);
    assert.deepEqual(await one('--http-status', '5+', '--http-status', '404', '--http-method', 'GET', '--http-path', '^/api/v\\d+/'), [
      { http_status_code: ['5+', '404'], http_method: ['GET'], http_path: ['^/api/v\\d+/'] },
    ]);
    assert.deepEqual(await one('--node-name', 'lab-node*'), [{ node_name: ['lab-node*'] }]);
    assert.deepEqual(await one('--uuid', 'f00'), [{ uuid: ['f00'] }]);
    assert.deepEqual(await one('-4'), [{ ip_version: ['IPv4'] }]);
    // http_url and drop_reason_desc are Hubble FlowFilter fields our contract may not have yet.
    if (contractHasField('http_url')) assert.deepEqual(await one('--http-url', 'http://a/.*'), [{ http_url: ['http://a/.*'] }]);
    else await rejects(['--http-url', 'http://a/.*'], '--http-url');
    if (contractHasField('drop_reason_desc')) assert.deepEqual(await one('--drop-reason-desc', 'POLICY_DENIED'), [{ drop_reason_desc: ['POLICY_DENIED'] }]);
    else await rejects(['--drop-reason-desc', 'POLICY_DENIED'], '--drop-reason-desc');
  });
  test('bad values are usage errors naming the flag', async () => {
    await rejects(['--ip', '10.0.0.300'], '--ip 10.0.0.300');
    await rejects(['--from-ip', '10.0.0.0/33'], '--from-ip 10.0.0.0/33');
    await rejects(['--to-ip', 'web'], '--to-ip web');
    await rejects(['--port', '70000'], '--port 70000');
    await rejects(['--to-port', '80-90'], '--to-port 80-90');
    await rejects(['--verdict', 'ALLOWED'], '--verdict ALLOWED');
    await rejects(['--protocol', 'quic'], '--protocol quic');
    await rejects(['-t', 'packet'], '--type packet');
    await rejects(['-t', 'trace:to-moon'], '--type trace:to-moon');
    await rejects(['--tcp-flags', 'syn,fun'], '--tcp-flags syn,fun');
    await rejects(['--traffic-direction', 'up'], '--traffic-direction up');
    await rejects(['--identity', 'nobody'], '--identity nobody');
    await rejects(['--http-status', '20x'], '--http-status 20x');
    await rejects(['--http-path', '(unclosed'], '--http-path (unclosed');
    await rejects(['--drop-reason-desc', 'NOT_A_REASON'], '--drop-reason-desc NOT_A_REASON');
  });
});

describe('where to connect', () => {
  test("--server as given; without it, the lab's relay socket", async () => {
    assert.equal((await plan(['--server', 'unix:///run/x.sock'])).server, 'unix:///run/x.sock');
    assert.equal((await plan(['--server', '127.0.0.1:4245'])).server, '127.0.0.1:4245');
    await rejects(['--server', 'not an address'], '--server not an address');
    const runDir = join(root, 'run');
    const saved = { run: process.env.BEELINE_RUN_DIR, lab: process.env.BEELINE_LAB };
    process.env.BEELINE_RUN_DIR = runDir;
    delete process.env.BEELINE_LAB;
    try {
      mkdirSync(join(runDir, 'labs', 'demo'), { recursive: true });
      writeFileSync(join(runDir, 'labs', 'demo', 'lab.json'), JSON.stringify({ version: 1, plan: { name: 'demo', nodes: [] }, agents: {} }));
      assert.equal(relaySocketPath('demo'), join(runDir, 'labs', 'demo', 'relay', 'observer.sock'));
      const p = await plan([]);
      assert.equal(p.server, `unix://${join(runDir, 'labs', 'demo', 'relay', 'observer.sock')}`);
      assert.equal(p.server, relayAddress('demo'));
    } finally {
      if (saved.run === undefined) delete process.env.BEELINE_RUN_DIR;
      else process.env.BEELINE_RUN_DIR = saved.run;
      if (saved.lab !== undefined) process.env.BEELINE_LAB = saved.lab;
    }
  });
});

// ---------------------------------------------------------------------------
// End to end: bin/beeline against a real Observer server on a unix socket.

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI asynchronously (the server lives in this process, so spawnSync would starve it). */
function cli(args: string[], opts: { onStdout?: (sofar: string, kill: () => void) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(beelineBin, args, { env: { ...process.env, BEELINE_LAB: undefined } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      opts.onStdout?.(stdout, () => child.kill('SIGINT'));
    });
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const T0 = 1796544641; // 2026-12-06T08:10:41Z
const e2eFlows: Flow[] = [
  {
    time: { seconds: T0, nanos: 123_000_000 },
    verdict: 'FORWARDED',
    IP: { source: '10.0.1.5', destination: '10.0.2.7', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 41234, destination_port: 80, flags: { SYN: true } } },
    source: { ID: 12, identity: 5678, namespace: 'default', pod_name: 'client' },
    destination: { identity: 9012, namespace: 'default', pod_name: 'web-1' },
    Type: 'L3_L4',
    node_name: 'lab-node1',
    event_type: { type: 4, sub_type: 0 },
    is_reply: { value: false },
    Summary: 'TCP Flags: SYN',
  },
  {
    time: { seconds: T0 + 1, nanos: 0 },
    verdict: 'DROPPED',
    drop_reason_desc: 'POLICY_DENIED',
    IP: { source: '203.0.113.9', destination: '10.0.2.7', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 5555, destination_port: 22 } },
    source: { identity: 2, labels: ['reserved:world'] },
    destination: { identity: 9012, namespace: 'default', pod_name: 'web-1' },
    Type: 'L3_L4',
    node_name: 'lab-node2',
    event_type: { type: 1, sub_type: 133 },
    is_reply: { value: false },
    Summary: 'TCP Flags: SYN',
  },
];

describe('end to end: bin/beeline against a gRPC Observer on a unix socket', () => {
  let server: GrpcServerHandle;
  const address = `unix://${join(root, 'observer.sock')}`;
  const requests: GetFlowsRequest[] = [];
  let mode: 'flows' | 'invalid' | 'follow' = 'flows';

  test('start the server', async () => {
    server = await startGrpcServer(
      [address],
      [
        {
          definition: observerServiceDefinition(),
          implementation: {
            GetFlows(call: ServerWritableStream<GetFlowsRequest, GetFlowsResponse>) {
              requests.push(call.request);
              if (mode === 'invalid') {
                call.emit('error', { code: GrpcStatus.INVALID_ARGUMENT, details: 'invalid source_label selector "a==": bad operator' });
                return;
              }
              for (const f of e2eFlows) call.write({ flow: f, node_name: f.node_name, time: f.time });
              if (mode === 'flows') {
                call.write({ lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: 12, cpu: { value: 0 } } });
                call.end();
              }
              // follow: stays open until the client cancels.
            },
            ServerStatus(_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) {
              cb(null, { num_flows: 2031, max_flows: 4095, seen_flows: 2348885, uptime_ns: '301515181665', num_connected_nodes: { value: 2 }, num_unavailable_nodes: { value: 1 }, unavailable_nodes: ['lab-node3'], version: 'beeline-relay test' });
            },
            GetNodes(_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) {
              cb(null, {
                nodes: [
                  { name: 'lab-node2', state: 'NODE_UNAVAILABLE' },
                  { name: 'lab-node1', state: 'NODE_CONNECTED', uptime_ns: '60000000000', num_flows: 100, max_flows: 4096, seen_flows: 600, address: 'unix:///x/agent.sock', version: 'beeline' },
                ],
              });
            },
          },
        },
      ],
    );
  });
  after(() => server?.close());

  const lastRequestJson = () => toProtoJson('observer.GetFlowsRequest', requests.at(-1)!);

  test('compact (default): Hubble lines on stdout, exactly the filters asked for reach the server', async () => {
    const r = await cli(['observe', '--server', address, '--last', '5', '--pod', 'default/web', '--not', '--verdict', 'DROPPED', '--to-port', '80']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'Dec  6 08:10:41.123: default/client:41234 (ID:5678) -> default/web-1:80 (ID:9012) to-endpoint FORWARDED (TCP Flags: SYN)\n' +
        'Dec  6 08:10:42.000: 203.0.113.9:5555 (world) -> default/web-1:22 (ID:9012) Policy denied DROPPED (TCP Flags: SYN)\n' +
        'EVENTS LOST: HUBBLE_RING_BUFFER CPU(0) 12\n',
    );
    assert.deepEqual(lastRequestJson(), {
      number: '5',
      whitelist: [
        { source_pod: ['default/web'], destination_port: ['80'] },
        { destination_pod: ['default/web'], destination_port: ['80'] },
      ],
      blacklist: [{ verdict: ['DROPPED'] }],
    });
  });

  test('the default request: the last 20; -n and --print-node-name', async () => {
    const r = await cli(['observe', '--server', address, '-n', 'default', '--print-node-name']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastRequestJson(), { number: '20', whitelist: [{ source_pod: ['default/'] }, { destination_pod: ['default/'] }] });
    assert.match(r.stdout, /^Dec {2}6 08:10:41\.123 \[lab-node1\]: default\/client:41234 /);
    assert.match(r.stdout.split('\n')[1]!, /^Dec {2}6 08:10:42\.000 \[lab-node2\]: /);
  });

  test('-o json and jsonpb: one GetFlowsResponse per line, protobuf JSON with proto names', async () => {
    for (const o of ['json', 'jsonpb']) {
      const r = await cli(['observe', '--server', address, '-o', o, '--since', '2026-12-06T08:00:00Z', '--from-label', 'app=client']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines.length, 3);
      assert.deepEqual(lines[0].flow.source, { ID: 12, identity: 5678, namespace: 'default', pod_name: 'client' });
      assert.equal(lines[0].flow.time, '2026-12-06T08:10:41.123Z');
      assert.equal(lines[0].flow.is_reply, false);
      assert.equal(lines[0].node_name, 'lab-node1');
      assert.equal(lines[1].flow.drop_reason_desc, 'POLICY_DENIED');
      assert.deepEqual(lines[2], { lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '12', cpu: 0 } });
      assert.deepEqual(lastRequestJson(), { since: '2026-12-06T08:00:00Z', whitelist: [{ source_label: ['app=client'] }] });
    }
  });

  test('-o dict and -o table', async () => {
    const d = await cli(['observe', '--server', address, '-o', 'dict', '--first', '2']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(lastRequestJson(), { number: '2', first: true });
    const blocks = d.stdout.split('------------\n');
    assert.equal(blocks.length, 3);
    assert.equal(blocks[0], '  TIMESTAMP: Dec  6 08:10:41.123\n     SOURCE: default/client:41234\nDESTINATION: default/web-1:80\n       TYPE: to-endpoint\n    VERDICT: FORWARDED\n    SUMMARY: TCP Flags: SYN\n');
    const t = await cli(['observe', '--server', address, '-o', 'table', '--all', '-t', 'trace:to-endpoint']);
    assert.equal(t.code, 0, t.stderr);
    assert.deepEqual(lastRequestJson(), { number: '18446744073709551615', whitelist: [{ event_type: [{ type: 4, match_sub_type: true }] }] });
    const rows = t.stdout.split('\n');
    assert.equal(rows[0], 'TIMESTAMP             SOURCE                 DESTINATION        TYPE            VERDICT     SUMMARY');
    assert.equal(rows[1], 'Dec  6 08:10:41.123   default/client:41234   default/web-1:80   to-endpoint     FORWARDED   TCP Flags: SYN');
    assert.equal(rows[2], 'Dec  6 08:10:42.000   203.0.113.9:5555       default/web-1:22   Policy denied   DROPPED     TCP Flags: SYN');
  });

  test('--follow: flows as they come, Ctrl-C ends it with exit 0', async () => {
    mode = 'follow';
    try {
      const r = await cli(['observe', '--server', address, '-f', '--verdict', 'DROPPED'], { onStdout: (s, kill) => s.split('\n').length > 2 && kill() });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split('\n').length, 3);
      assert.deepEqual(lastRequestJson(), { follow: true, whitelist: [{ verdict: ['DROPPED'] }] });
    } finally {
      mode = 'flows';
    }
  });

  test("the server's INVALID_ARGUMENT is a clear error; an unreachable server names the address", async () => {
    mode = 'invalid';
    try {
      const r = await cli(['observe', '--server', address, '--label', 'a==']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Error \[BL_ERR_OBSERVER_REQUEST\]: observe: the server rejected the request: invalid source_label selector "a==": bad operator/);
    } finally {
      mode = 'flows';
    }
    const gone = `unix://${join(root, 'nobody.sock')}`;
    const u = await cli(['observe', '--server', gone, '--timeout', '500ms']);
    assert.equal(u.code, 1);
    assert.match(u.stderr, new RegExp(`^Error \\[BL_ERR_OBSERVER_UNREACHABLE\\]: observe: Observer at ${gone.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} unreachable`));
    const bad = await cli(['observe', '--server', address, '--ip', '1.2.3']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^Error \[BL_ERR_USAGE\]: --ip 1\.2\.3: not an IP address or CIDR/);
  });

  test('observe status and list nodes, compact/table and json', async () => {
    const s = await cli(['observe', 'status', '--server', address]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, `Healthcheck (via ${address}): Ok\nCurrent/Max Flows: 2,031/4,095 (49.60%)\nFlows/s: 7790.27\nConnected Nodes: 2/3\nUnavailable Nodes: 1\n  - lab-node3\n`);
    const sj = await cli(['observe', 'status', '--server', address, '-o', 'json']);
    assert.equal(sj.code, 0, sj.stderr);
    assert.deepEqual(JSON.parse(sj.stdout), { num_flows: '2031', max_flows: '4095', seen_flows: '2348885', uptime_ns: '301515181665', num_connected_nodes: 2, num_unavailable_nodes: 1, unavailable_nodes: ['lab-node3'], version: 'beeline-relay test' });
    const n = await cli(['list', 'nodes', '--server', address]);
    assert.equal(n.code, 0, n.stderr);
    assert.equal(n.stdout, 'NAME        STATUS        AGE    FLOWS/S   CURRENT/MAX-FLOWS\nlab-node1   Connected     1m0s   10.00     100/4096 (  2.44%)\nlab-node2   Unavailable   N/A    N/A       N/A\n');
    const f = await cli(['observe', 'flows', '--server', address, '--from-pod', 'default/client']);
    assert.equal(f.code, 0, f.stderr);
    assert.deepEqual(lastRequestJson(), { number: '20', whitelist: [{ source_pod: ['default/client'] }] });
    const nj = await cli(['list', 'nodes', '--server', address, '-o', 'json']);
    assert.equal(nj.code, 0, nj.stderr);
    const nodes = JSON.parse(nj.stdout);
    assert.deepEqual(
      nodes.map((x: { name: string; state: string }) => [x.name, x.state]),
      [
        ['lab-node1', 'NODE_CONNECTED'],
        ['lab-node2', 'NODE_UNAVAILABLE'],
      ],
    );
  });
});

describe('observe status: the gRPC health check when the server has one', () => {
  test('SERVING is Ok; NOT_SERVING is reported and fails; the check names observer.Observer', async () => {
    const address = `unix://${join(root, 'health.sock')}`;
    let serving = 1;
    const asked: string[] = [];
    const raw = (b: Buffer) => b;
    const health = {
      definition: { Check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
      implementation: {
        Check(call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) {
          // HealthCheckRequest { string service = 1; } → HealthCheckResponse { ServingStatus status = 1; }
          asked.push(call.request.subarray(2, 2 + call.request[1]!).toString());
          cb(null, Buffer.from([0x08, serving]));
        },
      },
    };
    const observer = {
      definition: observerServiceDefinition(),
      implementation: {
        GetFlows: (call: ServerWritableStream<unknown, unknown>) => call.end(),
        GetNodes: (_c: unknown, cb: sendUnaryData<unknown>) => cb(null, { nodes: [] }),
        ServerStatus: (_c: unknown, cb: sendUnaryData<unknown>) => cb(null, { num_flows: 1, max_flows: 4, seen_flows: 10, uptime_ns: '10000000000' }),
      },
    };
    const server = await startGrpcServer([address], [health as never, observer]);
    try {
      const ok = await cli(['observe', 'status', '--server', address]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, `Healthcheck (via ${address}): Ok\nCurrent/Max Flows: 1/4 (25.00%)\nFlows/s: 1.00\n`);
      assert.deepEqual(asked, ['observer.Observer']);
      serving = 2;
      const bad = await cli(['observe', 'status', '--server', address]);
      assert.equal(bad.code, 1);
      assert.equal(bad.stdout, `Healthcheck (via ${address}): Unavailable: NOT_SERVING\n`);
      assert.match(bad.stderr, /not healthy: NOT_SERVING/);
    } finally {
      await server.close();
    }
  });
});
