import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import { credentials, loadPackageDefinition, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { startGrpcServer, observerClient, type GrpcServerHandle } from '../api/grpc.js';
import type { ObserverClient } from '../api/generated/observer/Observer.js';
import { FlowPipeline } from './pipeline.js';
import { observerService } from './server.js';
import { compileFlowFilters } from './filter.js';
import type { Flow, FlowHistoryReader, FlowPredicate, GetFlowsRequest, GetFlowsResponse__Output } from './types.js';
import { flowTimeNs } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'bl-observer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let sockN = 0;

/** Flow i: at 1_700_000_000 s + i ms, TCP to port 80 + (i % 3), verdict DROPPED for multiples of 5. */
const BASE_S = 1_700_000_000;
const timeOf = (i: number) => ({ seconds: String(BASE_S + Math.floor(i / 1000)), nanos: (i % 1000) * 1_000_000 });
const nsOf = (i: number) => BigInt(BASE_S) * 1_000_000_000n + BigInt(i) * 1_000_000n;
function makeFlow(i: number): Flow {
  return {
    time: timeOf(i),
    uuid: `flow-${i}`,
    verdict: i % 5 === 0 ? 'DROPPED' : 'FORWARDED',
    IP: { source: '10.0.0.1', destination: `10.0.1.${i % 250}`, ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 30000, destination_port: 80 + (i % 3), flags: { SYN: true } } },
    source: { identity: 1000, namespace: 'default', pod_name: 'client', labels: ['k8s:app=client'] },
    destination: { identity: 2000, namespace: 'default', pod_name: 'server', labels: ['k8s:app=server'] },
    node_name: 'node-a',
    Type: 'L3_L4',
    event_type: { type: 4, sub_type: 0 },
  };
}
const rec = (i: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(i);
  return b;
};
const decode = (b: Buffer) => makeFlow(b.readUInt32LE(0));
const idOf = (r: GetFlowsResponse__Output) => Number(r.flow!.uuid.slice('flow-'.length));

interface Node { pipeline: FlowPipeline; server: GrpcServerHandle; client: ObserverClient; address: string }

async function node(opts: { ringCapacity?: number; queueSize?: number; history?: FlowHistoryReader } = {}): Promise<Node> {
  const pipeline = new FlowPipeline({ decode, ringCapacity: opts.ringCapacity ?? 100, queueSize: opts.queueSize });
  const address = `unix://${join(dir, `obs-${sockN++}.sock`)}`;
  const server = await startGrpcServer([address], [observerService({ pipeline, nodeName: 'node-a', version: 'beeline-test', startedAt: Date.now() - 1500, history: opts.history, address })]);
  const client = observerClient(address);
  return { pipeline, server, client, address };
}

async function stop(n: Node) {
  n.client.close();
  n.pipeline.close();
  await n.server.close();
}

async function feed(p: FlowPipeline, from: number, to: number) {
  for (let i = from; i < to; i++) p.push(rec(i));
  await p.idle();
}

/** A non-follow GetFlows, collected to its end. */
function getFlows(client: ObserverClient, req: GetFlowsRequest): Promise<GetFlowsResponse__Output[]> {
  return new Promise((resolve, reject) => {
    const out: GetFlowsResponse__Output[] = [];
    const call = client.GetFlows(req);
    call.on('data', (r: GetFlowsResponse__Output) => out.push(r));
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

const flowIds = (rs: GetFlowsResponse__Output[]) => rs.filter((r) => r.response_types === 'flow').map(idOf);
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

async function until(cond: () => boolean, what: string, ms = 10000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('ServerStatus and GetNodes report the ring, the flows seen, uptime and version', async () => {
  const n = await node({ ringCapacity: 100 });
  try {
    await feed(n.pipeline, 0, 250);
    const st = await new Promise<Record<string, unknown>>((res, rej) => n.client.ServerStatus({}, (e, r) => (e ? rej(e) : res(r as unknown as Record<string, unknown>))));
    assert.equal(st.num_flows, '100');
    assert.equal(st.max_flows, '100');
    assert.equal(st.seen_flows, '250');
    assert.equal(st.version, 'beeline-test');
    assert.ok(Number(st.uptime_ns) >= 1.5e9 && Number(st.uptime_ns) < 60e9, String(st.uptime_ns));
    const nodes = await new Promise<Record<string, unknown>>((res, rej) => n.client.GetNodes({}, (e, r) => (e ? rej(e) : res(r as unknown as Record<string, unknown>))));
    const [me] = nodes.nodes as Record<string, unknown>[];
    assert.equal(me!.name, 'node-a');
    assert.equal(me!.state, 'NODE_CONNECTED');
    assert.equal(me!.address, n.address);
    assert.equal(me!.num_flows, '100');
    assert.equal(me!.seen_flows, '250');
  } finally {
    await stop(n);
  }
});

test('GetFlows: last N, first N, all, since/until, filters, node_name and time on every response', async () => {
  const n = await node({ ringCapacity: 100 });
  try {
    await feed(n.pipeline, 0, 150); // ring holds 50..149
    assert.deepEqual(flowIds(await getFlows(n.client, { number: 5 })), range(145, 150));
    assert.deepEqual(flowIds(await getFlows(n.client, { number: 5, first: true })), range(50, 55));
    assert.deepEqual(flowIds(await getFlows(n.client, {})), range(50, 150), 'number 0: everything held');
    assert.deepEqual(flowIds(await getFlows(n.client, { number: 1000 })), range(50, 150));
    // since takes precedence over number: the first N at or after since.
    assert.deepEqual(flowIds(await getFlows(n.client, { since: timeOf(120), number: 3 })), [120, 121, 122]);
    assert.deepEqual(flowIds(await getFlows(n.client, { since: timeOf(140) })), range(140, 150));
    assert.deepEqual(flowIds(await getFlows(n.client, { since: timeOf(100), until: timeOf(104) })), range(100, 105), 'until is inclusive');
    assert.deepEqual(flowIds(await getFlows(n.client, { until: timeOf(60), number: 3 })), [58, 59, 60]);
    // Filters: dropped flows (multiples of 5) to port 81 (i % 3 == 1): i ≡ 10 (mod 15).
    const rs = await getFlows(n.client, { number: 3, whitelist: [{ verdict: ['DROPPED'], destination_port: ['81'] }] });
    assert.deepEqual(flowIds(rs), [115, 130, 145]);
    assert.deepEqual(flowIds(await getFlows(n.client, { since: timeOf(140), blacklist: [{ verdict: ['FORWARDED'] }] })), [140, 145]);
    for (const r of rs) {
      assert.equal(r.node_name, 'node-a');
      assert.equal(r.time?.seconds, r.flow!.time!.seconds);
      assert.equal(r.time?.nanos, r.flow!.time!.nanos);
    }
  } finally {
    await stop(n);
  }
});

test('GetFlows refuses first with follow and bad filters with INVALID_ARGUMENT naming the field', async () => {
  const n = await node();
  try {
    await assert.rejects(getFlows(n.client, { first: true, follow: true }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /first cannot be specified with follow/.test(e.details));
    await assert.rejects(getFlows(n.client, { whitelist: [{ destination_ip: ['10.0.0.300'] }] }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && e.details === 'whitelist[0].destination_ip: "10.0.0.300" is not an IP address or CIDR');
    await assert.rejects(getFlows(n.client, { blacklist: [{}, { dns_query: ['(('] }] }), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /^blacklist\[1\]\.dns_query/.test(e.details));
  } finally {
    await stop(n);
  }
});

test('follow: the last N then every new matching flow; cancelling releases the subscription', async () => {
  const n = await node({ ringCapacity: 100 });
  try {
    await feed(n.pipeline, 0, 20);
    const got: number[] = [];
    const call = n.client.GetFlows({ follow: true, number: 2, whitelist: [{ destination_port: ['80'] }] });
    call.on('data', (r: GetFlowsResponse__Output) => got.push(idOf(r)));
    call.on('error', () => {});
    await until(() => got.length === 2, 'the last 2');
    assert.deepEqual(got, [15, 18]);
    assert.equal(n.pipeline.subscriptions, 1);
    await feed(n.pipeline, 20, 30);
    await until(() => got.length === 5, 'new flows');
    assert.deepEqual(got, [15, 18, 21, 24, 27]);
    call.cancel();
    await until(() => n.pipeline.subscriptions === 0, 'the subscription to close');
    // A follow with no number starts at the next flow.
    const fresh: number[] = [];
    const c2 = n.client.GetFlows({ follow: true });
    c2.on('data', (r: GetFlowsResponse__Output) => fresh.push(idOf(r)));
    c2.on('error', () => {});
    await until(() => n.pipeline.subscriptions === 1, 'the second call');
    await feed(n.pipeline, 30, 33);
    await until(() => fresh.length === 3, 'three new flows');
    assert.deepEqual(fresh, [30, 31, 32]);
    c2.cancel();
    await until(() => n.pipeline.subscriptions === 0, 'the subscription to close');
  } finally {
    await stop(n);
  }
});

test('follow with until ends the stream at the first flow after until', async () => {
  const n = await node();
  try {
    await feed(n.pipeline, 0, 5);
    const p = getFlows(n.client, { follow: true, since: timeOf(3), until: timeOf(6) });
    await sleep(50);
    await feed(n.pipeline, 5, 10);
    assert.deepEqual(flowIds(await p), [3, 4, 5, 6]);
  } finally {
    await stop(n);
  }
});

/** A follower over gRPC that records flows and losses and can stop reading. */
function follower(client: ObserverClient, req: GetFlowsRequest = { follow: true }) {
  const s = { ids: [] as number[], lost: new Map<string, number>(), lostEvents: 0, call: client.GetFlows(req) as ClientReadableStream<GetFlowsResponse__Output> };
  s.call.on('data', (r: GetFlowsResponse__Output) => {
    if (r.response_types === 'lost_events') {
      const src = r.lost_events!.source as string;
      s.lost.set(src, (s.lost.get(src) ?? 0) + Number(r.lost_events!.num_events_lost));
      s.lostEvents++;
      assert.equal(r.node_name, 'node-a');
      assert.ok(r.time);
    } else s.ids.push(idOf(r));
  });
  s.call.on('error', () => {});
  return s;
}

test('a slow reader gets HUBBLE_RING_BUFFER lost events with the exact count; a fast one gets everything; the pipeline is not slowed', async () => {
  const n = await node({ ringCapacity: 256 });
  try {
    const fast = follower(n.client);
    const slow = follower(n.client);
    await until(() => n.pipeline.subscriptions === 2, 'both calls');
    slow.call.pause();
    const total = 5000;
    const t0 = process.hrtime.bigint();
    let pushTime = 0n;
    for (let i = 0; i < total; i += 200) {
      const p0 = process.hrtime.bigint();
      for (let j = i; j < i + 200; j++) n.pipeline.push(rec(j));
      pushTime += process.hrtime.bigint() - p0;
      await n.pipeline.idle();
      // Pace the producer to the fast reader (the slow one is not waited for).
      await until(() => fast.ids.length >= i + 200, "the fast reader");
    }
    await until(() => fast.ids.length === total, 'the fast reader to get everything');
    const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.deepEqual(fast.ids, range(0, total), 'fast: every flow, in order');
    assert.equal(fast.lost.size, 0);
    const st = n.pipeline.stats();
    assert.equal(st.lost.OBSERVER_EVENTS_QUEUE, 0);
    assert.equal(st.seen, total);
    // push() is an enqueue: 30k pushes take a few ms however slow the reader.
    assert.ok(Number(pushTime) / 1e6 < 500, `push time ${Number(pushTime) / 1e6} ms`);
    const slowBefore = slow.ids.length;
    if (process.env.BL_DEBUG) console.error(`slow got ${slowBefore} of ${total} before resuming; ${elapsedMs} ms`);
    assert.ok(slowBefore < total, `the slow reader was not held back (${slowBefore} received, ${elapsedMs} ms)`);
    slow.call.resume();
    await until(() => slow.ids.length + (slow.lost.get('HUBBLE_RING_BUFFER') ?? 0) === total, 'slow: delivered + lost = offered');
    const lost = slow.lost.get("HUBBLE_RING_BUFFER")!;
    if (process.env.BL_DEBUG) console.error(`slow: ${slow.ids.length} delivered, ${lost} lost in ${slow.lostEvents} lost events`);
    assert.ok(lost > 0);
    assert.equal(slow.ids.length + lost, total);
    // Every gap in what it received is exactly a reported loss.
    let gaps = 0;
    for (let k = 1; k < slow.ids.length; k++) gaps += slow.ids[k]! - slow.ids[k - 1]! - 1;
    gaps += slow.ids[0]!;
    assert.equal(gaps, lost);
    assert.equal(n.pipeline.stats().lost.HUBBLE_RING_BUFFER, lost);
    fast.call.cancel();
    slow.call.cancel();
    await until(() => n.pipeline.subscriptions === 0, 'subscriptions to close');
  } finally {
    await stop(n);
  }
});

test('queue-full losses reach followers as OBSERVER_EVENTS_QUEUE lost events: offered = delivered + lost', async () => {
  const n = await node({ ringCapacity: 4095, queueSize: 500 });
  try {
    const f = follower(n.client);
    await until(() => n.pipeline.subscriptions === 1, 'the call');
    let offered = 0;
    for (let burst = 0; burst < 5; burst++) {
      for (let j = 0; j < 800; j++) n.pipeline.push(rec(offered++));
      n.pipeline.addKernelLost(3);
      await n.pipeline.idle();
    }
    const st = n.pipeline.stats();
    assert.equal(st.lost.OBSERVER_EVENTS_QUEUE, 5 * 300);
    assert.equal(st.lost.PERF_EVENT_RING_BUFFER, 15);
    assert.equal(st.offered, st.seen + st.lost.OBSERVER_EVENTS_QUEUE);
    await until(() => f.ids.length === st.seen && f.lost.get('OBSERVER_EVENTS_QUEUE') === 1500 && f.lost.get('PERF_EVENT_RING_BUFFER') === 15, 'the follower to get flows and losses');
    assert.equal(f.ids.length + f.lost.get('OBSERVER_EVENTS_QUEUE')!, offered);
    f.call.cancel();
  } finally {
    await stop(n);
  }
});

/** Flow history in memory: every flow the node saw (the files outlive the ring). */
class MemoryHistory implements FlowHistoryReader {
  flows: Flow[] = [];
  reads: { sinceNs: bigint; untilNs?: bigint; beforeNs?: bigint }[] = [];
  onRead?: () => Promise<void>;
  oldestNs() {
    return this.flows.length ? flowTimeNs(this.flows[0]!) : undefined;
  }
  async *read(r: { sinceNs: bigint; untilNs?: bigint; beforeNs?: bigint }, match: FlowPredicate) {
    this.reads.push(r);
    if (this.onRead) await this.onRead();
    for (const f of [...this.flows]) {
      const t = flowTimeNs(f);
      if (t < r.sinceNs) continue;
      if (r.untilNs !== undefined && t > r.untilNs) continue;
      if (r.beforeNs !== undefined && t >= r.beforeNs) continue;
      if (match(f)) yield f;
    }
  }
}

test('since older than the ring: history first, then the ring, seamlessly, then live', async () => {
  const history = new MemoryHistory();
  const n = await node({ ringCapacity: 100, history });
  n.pipeline.onFlow((f) => history.flows.push(f));
  try {
    await feed(n.pipeline, 0, 500); // ring: 400..499; history: all
    assert.deepEqual(flowIds(await getFlows(n.client, { since: timeOf(250) })), range(250, 500));
    assert.equal(history.reads.at(-1)!.beforeNs, nsOf(400), 'history read up to the ring\'s oldest flow');
    assert.deepEqual(flowIds(await getFlows(n.client, { since: timeOf(250), until: timeOf(300) })), range(250, 301));
    assert.deepEqual(flowIds(await getFlows(n.client, { since: timeOf(250), number: 4 })), [250, 251, 252, 253]);
    assert.deepEqual(flowIds(await getFlows(n.client, { since: timeOf(390), number: 20 })), range(390, 410), 'a count spanning the hand-off');
    assert.deepEqual(flowIds(await getFlows(n.client, { since: timeOf(0), whitelist: [{ verdict: ['DROPPED'] }] })), range(0, 100).map((i) => i * 5));
    // The ring wraps while history is read: history is read again up to the new oldest flow.
    history.onRead = async () => {
      if (history.reads.length === 6) await feed(n.pipeline, 500, 700); // ring now 600..699
    };
    const wrapped = await getFlows(n.client, { since: timeOf(350) });
    history.onRead = undefined;
    assert.deepEqual(flowIds(wrapped), range(350, 700));
    assert.deepEqual(history.reads.slice(-2).map((r) => [r.sinceNs, r.beforeNs]), [[nsOf(350), nsOf(400)], [nsOf(400), nsOf(600)]]);
    assert.equal(wrapped.filter((r) => r.response_types === 'lost_events').length, 0);
    // Follow from history into live flows.
    const live = follower(n.client, { follow: true, since: timeOf(650) });
    await until(() => live.ids.length === 50, 'history and ring');
    await feed(n.pipeline, 700, 710);
    await until(() => live.ids.length === 60, 'live flows');
    assert.deepEqual(live.ids, range(650, 710));
    live.call.cancel();
  } finally {
    await stop(n);
  }
});

test('gRPC reflection lists observer.Observer and resolves its file descriptor', async () => {
  const n = await node();
  try {
    const require = createRequire(import.meta.url);
    for (const version of ['v1alpha', 'v1']) {
      const reflectionProto = join(require.resolve('@grpc/reflection/package.json'), '..', `build/proto/grpc/reflection/${version}/reflection.proto`);
      const def = loadSync(reflectionProto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
      const pkg = loadPackageDefinition(def) as any;
      const refl = new pkg.grpc.reflection[version].ServerReflection(n.address, credentials.createInsecure());
      const ask = (req: Record<string, string>) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const call = refl.ServerReflectionInfo();
          call.on('data', (r: Record<string, unknown>) => { resolve(r); call.end(); });
          call.on('error', reject);
          call.write(req);
        });
      const list = await ask({ list_services: '' });
      const names = (list.list_services_response as { service: { name: string }[] }).service.map((s) => s.name);
      assert.ok(names.includes('observer.Observer'), `${version}: ${names.join(', ')}`);
      const fd = await ask({ file_containing_symbol: 'observer.Observer' });
      const files = (fd.file_descriptor_response as { file_descriptor_proto: Buffer[] }).file_descriptor_proto;
      assert.ok(files.length >= 1);
      const descriptor = require('protobufjs/ext/descriptor') as { FileDescriptorProto: { decode(b: Buffer): { name: string; package: string; service: { name: string; method: { name: string }[] }[] } } };
      const decoded = files.map((b) => descriptor.FileDescriptorProto.decode(b));
      const obs = decoded.find((f) => f.service.some((s) => s.name === 'Observer'));
      assert.ok(obs, decoded.map((f) => f.name).join(', '));
      assert.equal(obs.package, 'observer');
      assert.deepEqual(obs.service.find((s) => s.name === 'Observer')!.method.map((m) => m.name).sort(), ['GetFlows', 'GetNodes', 'ServerStatus']);
      refl.close();
    }
  } finally {
    await stop(n);
  }
});

test('filters compiled by the server behave as compileFlowFilters (sanity on one request)', async () => {
  const n = await node();
  try {
    await feed(n.pipeline, 0, 60);
    const wl = [{ destination_ip: ['10.0.1.0/28'], tcp_flags: [{ SYN: true }] }];
    const bl = [{ destination_port: ['82'] }];
    const p = compileFlowFilters(wl, bl);
    const expected = range(0, 60).filter((i) => p(makeFlow(i)));
    assert.deepEqual(flowIds(await getFlows(n.client, { whitelist: wl, blacklist: bl })), expected);
    assert.ok(expected.length > 0 && expected.length < 60);
  } finally {
    await stop(n);
    await tick();
  }
});
