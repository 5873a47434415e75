import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { observerClient, serviceMapClient, startGrpcServer, type GrpcServerHandle } from '../api/grpc.js';
import type { Flow } from '../api/generated/flow/Flow.js';
import type { GetFlowsResponse__Output } from '../api/generated/observer/GetFlowsResponse.js';
import type { ObserverClient } from '../api/generated/observer/Observer.js';
import type { GetServiceMapResponse__Output } from '../api/generated/servicemap/GetServiceMapResponse.js';
import { logger } from '../common/log.js';
import { Relay, nsOfTimestamp, timestampOfNs, type RelayPeer } from './relay.js';
import { PriorityQueue } from './queue.js';
import { BASE, FakeNode, flow, nowMs } from '../../test/lib/fake-observer.js';

const quiet = logger('relay-test', { write: () => true } as unknown as NodeJS.WritableStream);

interface Fixture {
  dir: string;
  nodes: FakeNode[];
  relay: Relay;
  server: GrpcServerHandle;
  client: ObserverClient;
  peers: RelayPeer[];
  close(): Promise<void>;
}

async function fixture(specs: { name: string; times: number[]; delayMs?: number; down?: boolean }[], relayOpts: Partial<ConstructorParameters<typeof Relay>[0]> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-test-'));
  const nodes: FakeNode[] = [];
  const peers: RelayPeer[] = [];
  for (const s of specs) {
    const address = `unix://${join(dir, `${s.name}.sock`)}`;
    peers.push({ name: s.name, address });
    if (!s.down) nodes.push(await new FakeNode(s.name, address, s.times, s.delayMs).start());
  }
  const relay = new Relay({ peers: () => peers, version: 'relay-v1', sortBufferMs: 100, dialTimeoutMs: 1000, peerRetryMs: 200, log: quiet, ...relayOpts });
  const server = await startGrpcServer([`unix://${join(dir, 'relay.sock')}`], [relay.service(), relay.serviceMapService()]);
  const client = observerClient(server.addresses[0]!);
  return {
    dir,
    nodes,
    relay,
    server,
    client,
    peers,
    async close() {
      client.close();
      await server.close();
      for (const n of nodes) await n.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads responses until done(responses) holds (then cancels) or the stream ends. */
function read(call: ClientReadableStream<GetFlowsResponse__Output>, done: (rs: GetFlowsResponse__Output[]) => boolean = () => false, timeoutMs = 5000): Promise<GetFlowsResponse__Output[]> {
  const rs: GetFlowsResponse__Output[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      call.cancel();
      reject(new Error(`timeout; got ${JSON.stringify(rs.map(describe))}`));
    }, timeoutMs);
    call.on('data', (r: GetFlowsResponse__Output) => {
      rs.push(r);
      if (done(rs)) {
        clearTimeout(timer);
        call.cancel();
        resolve(rs);
      }
    });
    call.on('error', (e: { code?: number }) => {
      if (e.code === 1) return; // our own cancel
      clearTimeout(timer);
      reject(e);
    });
    call.on('end', () => {
      clearTimeout(timer);
      resolve(rs);
    });
  });
}

function describe(r: GetFlowsResponse__Output): string {
  if (r.flow) return r.flow.Summary;
  if (r.node_status) return `${r.node_status.state_change}:${r.node_status.node_names.join(',')}`;
  return r.response_types ?? '?';
}

const summaries = (rs: GetFlowsResponse__Output[]) => rs.filter((r) => r.flow).map((r) => r.flow!.Summary);
const times = (rs: GetFlowsResponse__Output[]) => rs.filter((r) => r.flow).map((r) => nsOfTimestamp(r.flow!.time)!);
const statuses = (rs: GetFlowsResponse__Output[]) => rs.filter((r) => r.node_status).map((r) => r.node_status!);

function assertOrdered(ts: bigint[]): void {
  for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! > ts[i - 1]!, `flow ${i} (${ts[i]}) not after ${ts[i - 1]}`);
}

test('priority queue pops in order', () => {
  const q = new PriorityQueue<number>((a, b) => a < b);
  for (const x of [5, 1, 9, 3, 7, 2, 8]) q.push(x);
  assert.deepEqual(q.drain(), [1, 2, 3, 5, 7, 8, 9]);
});

test('GetFlows merges every node into one strictly time-ordered stream', async () => {
  // b writes slowly, so arrival order is not time order: the merge must wait for it.
  const fx = await fixture([
    { name: 'a', times: [10, 30, 50, 70, 90] },
    { name: 'b', times: [20, 40, 60, 80], delayMs: 15 },
    { name: 'c', times: [5, 95] },
  ]);
  try {
    const rs = await read(fx.client.GetFlows({}));
    assert.deepEqual(summaries(rs), ['c@5', 'a@10', 'b@20', 'a@30', 'b@40', 'a@50', 'b@60', 'a@70', 'b@80', 'a@90', 'c@95']);
    assertOrdered(times(rs));
    const st = statuses(rs);
    assert.equal(st[0]!.state_change, 'NODE_CONNECTED');
    assert.deepEqual([...st[0]!.node_names].sort(), ['a', 'b', 'c']);
    assert.equal(rs[0]!.response_types, 'node_status', 'status comes before the flows');
  } finally {
    await fx.close();
  }
});

test('GetFlows passes lost events through, in time order with the flows', async () => {
  const fx = await fixture([
    { name: 'a', times: [10, 30] },
    { name: 'b', times: [20] },
  ]);
  fx.nodes[1]!.lost.push({ ms: 25, n: 7 });
  try {
    const rs = await read(fx.client.GetFlows({}));
    assert.deepEqual(rs.filter((r) => r.response_types !== 'node_status').map((r) => (r.flow ? r.flow.Summary : `lost:${r.lost_events!.num_events_lost}@${r.node_name}`)), ['a@10', 'b@20', 'lost:7@b', 'a@30']);
  } finally {
    await fx.close();
  }
});

test('GetFlows number = the N most recent overall; first = the N oldest', async () => {
  const fx = await fixture([
    { name: 'a', times: [10, 30, 50, 70, 90] },
    { name: 'b', times: [20, 40, 60, 80, 85, 86], delayMs: 5 },
  ]);
  try {
    assert.deepEqual(summaries(await read(fx.client.GetFlows({ number: 3 }))), ['b@85', 'b@86', 'a@90']);
    assert.deepEqual(summaries(await read(fx.client.GetFlows({ number: 3, first: true }))), ['a@10', 'b@20', 'a@30']);
    // since/until go to every node.
    const since = timestampOfNs(BASE + 35_000_000n);
    const until = timestampOfNs(BASE + 61_000_000n);
    assert.deepEqual(summaries(await read(fx.client.GetFlows({ since, until }))), ['b@40', 'a@50', 'b@60']);
  } finally {
    await fx.close();
  }
});

test('GetFlows follow: the last N, then new flows from every node in order', async () => {
  const fx = await fixture([
    { name: 'a', times: [10, 30] },
    { name: 'b', times: [20, 40] },
  ]);
  try {
    const call = fx.client.GetFlows({ number: 2, follow: true });
    const got = read(call, (rs) => summaries(rs).length >= 5);
    // Wait until both nodes follow, then add flows "now" (after the request).
    await waitFor(() => fx.nodes.every((n) => n.following.size === 1));
    const now = nowMs();
    fx.nodes[1]!.emit(now + 1);
    fx.nodes[0]!.emit(now + 2);
    fx.nodes[1]!.emit(now + 3);
    const rs = await got;
    assert.deepEqual(summaries(rs), ['a@30', 'b@40', `b@${now + 1}`, `a@${now + 2}`, `b@${now + 3}`]);
    assertOrdered(times(rs));
    await waitFor(() => fx.nodes.every((n) => n.cancelled === 1));
  } finally {
    await fx.close();
  }
});

test('GetFlows: a node that is down is reported NODE_UNAVAILABLE by name; the others are served', async () => {
  const fx = await fixture([
    { name: 'a', times: [10, 30] },
    { name: 'ghost', times: [], down: true },
    { name: 'b', times: [20] },
  ]);
  try {
    const rs = await read(fx.client.GetFlows({}));
    assert.deepEqual(summaries(rs), ['a@10', 'b@20', 'a@30']);
    const st = statuses(rs);
    const connected = st.find((s) => s.state_change === 'NODE_CONNECTED')!;
    assert.deepEqual([...connected.node_names].sort(), ['a', 'b']);
    const down = st.find((s) => s.state_change === 'NODE_UNAVAILABLE')!;
    assert.deepEqual(down.node_names, ['ghost']);
    assert.match(down.message, /^ghost: /);
    assert.match(down.message, /ENOENT|No connection|connect/i);
  } finally {
    await fx.close();
  }
});

test('GetFlows follow: a node dying mid-stream is reported, the others keep streaming', async () => {
  const fx = await fixture([
    { name: 'a', times: [10] },
    { name: 'b', times: [20] },
  ], { peerRetryMs: 60_000 });
  try {
    const call = fx.client.GetFlows({ follow: true, since: timestampOfNs(BASE) });
    const rs: GetFlowsResponse__Output[] = [];
    let error: unknown;
    call.on('data', (r: GetFlowsResponse__Output) => rs.push(r));
    call.on('error', (e) => (error = e));
    await waitFor(() => summaries(rs).length === 2);
    await fx.nodes[1]!.server.close();
    await waitFor(() => statuses(rs).some((s) => s.state_change === 'NODE_ERROR'));
    const err = statuses(rs).find((s) => s.state_change === 'NODE_ERROR')!;
    assert.deepEqual(err.node_names, ['b']);
    assert.match(err.message, /^b: /);
    fx.nodes[0]!.emit(nowMs());
    await waitFor(() => summaries(rs).length === 3);
    assert.match(summaries(rs)[2]!, /^a@/);
    assert.equal(error, undefined);
    call.cancel();
  } finally {
    await fx.close();
  }
});

test('GetFlows follow: a node that comes up later joins the stream', async () => {
  const fx = await fixture([
    { name: 'a', times: [10] },
    { name: 'late', times: [], down: true },
  ]);
  try {
    const call = fx.client.GetFlows({ follow: true, since: timestampOfNs(BASE) });
    const rs: GetFlowsResponse__Output[] = [];
    call.on('data', (r: GetFlowsResponse__Output) => rs.push(r));
    call.on('error', () => undefined);
    await waitFor(() => statuses(rs).some((s) => s.state_change === 'NODE_UNAVAILABLE'));
    const late = await new FakeNode('late', fx.peers[1]!.address, []).start();
    fx.nodes.push(late);
    await waitFor(() => statuses(rs).some((s) => s.state_change === 'NODE_CONNECTED' && s.node_names.includes('late')));
    await waitFor(() => late.following.size === 1);
    late.emit(nowMs());
    await waitFor(() => summaries(rs).some((s) => s.startsWith('late@')));
    call.cancel();
  } finally {
    await fx.close();
  }
});

test('GetFlows: the client cancelling cancels every upstream call', async () => {
  const fx = await fixture([
    { name: 'a', times: [10] },
    { name: 'b', times: [20] },
    { name: 'c', times: [30] },
  ]);
  try {
    const call = fx.client.GetFlows({ follow: true, since: timestampOfNs(BASE) });
    await read(call, (rs) => summaries(rs).length === 3);
    await waitFor(() => fx.nodes.every((n) => n.cancelled === 1));
    assert.deepEqual(fx.nodes.map((n) => n.following.size), [0, 0, 0]);
  } finally {
    await fx.close();
  }
});

test('GetFlows respects backpressure: a slow reader still gets every flow, in order', async () => {
  const many = (start: number) => Array.from({ length: 3000 }, (_, i) => start + 2 * i);
  const fx = await fixture([
    { name: 'a', times: many(0) },
    { name: 'b', times: many(1) },
    // A generous drain timeout: on a loaded machine a node may really lag 100 ms.
  ], { sortBufferMs: 2000 });
  try {
    const call = fx.client.GetFlows({});
    const rs: GetFlowsResponse__Output[] = [];
    await new Promise<void>((resolve, reject) => {
      call.on('data', (r: GetFlowsResponse__Output) => {
        rs.push(r);
        // Read in bursts with pauses, so the relay's writes fill up.
        if (rs.length % 500 === 0) {
          call.pause();
          setTimeout(() => call.resume(), 30);
        }
      });
      call.on('end', resolve);
      call.on('error', reject);
    });
    assert.equal(summaries(rs).length, 6000);
    assertOrdered(times(rs));
  } finally {
    await fx.close();
  }
});

test('ServerStatus sums the nodes and lists the unavailable ones; GetNodes one per node', async () => {
  const fx = await fixture([
    { name: 'a', times: [10, 30] },
    { name: 'b', times: [20, 40, 60] },
    { name: 'ghost', times: [], down: true },
  ]);
  try {
    const st = await new Promise<import('../api/generated/observer/ServerStatusResponse.js').ServerStatusResponse__Output>((resolve, reject) => fx.client.ServerStatus({}, (e, r) => (e ? reject(e) : resolve(r!))));
    assert.equal(st.num_flows, '5');
    assert.equal(st.max_flows, '200');
    assert.equal(st.seen_flows, '7');
    assert.equal(st.uptime_ns, '3000');
    assert.equal(st.num_connected_nodes?.value, 2);
    assert.equal(st.num_unavailable_nodes?.value, 1);
    assert.deepEqual(st.unavailable_nodes, ['ghost']);
    assert.equal(st.version, 'relay-v1');

    const nodes = await new Promise<import('../api/generated/observer/Node.js').Node__Output[]>((resolve, reject) => fx.client.GetNodes({}, (e, r) => (e ? reject(e) : resolve(r!.nodes))));
    assert.deepEqual(nodes.map((n) => [n.name, n.state, n.version, n.num_flows]), [
      ['a', 'NODE_CONNECTED', 'v-a', '2'],
      ['b', 'NODE_CONNECTED', 'v-b', '3'],
      ['ghost', 'NODE_UNAVAILABLE', '', '0'],
    ]);
    assert.equal(nodes[2]!.address, fx.peers[2]!.address);
  } finally {
    await fx.close();
  }
});

test('GetServiceMap through the relay: the graph of every node\'s flows in the window', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-sm-'));
  const web = { namespace: 'shop', pod_name: 'web-1', identity: 1001, labels: ['k8s:app=web'], workloads: [{ name: 'web', kind: 'Deployment' }] };
  const db = { namespace: 'shop', pod_name: 'db-0', identity: 1002, labels: ['k8s:app=db'], workloads: [{ name: 'db', kind: 'StatefulSet' }] };
  const syn = (sport: number): Partial<Flow> => ({ source: web, destination: db, IP: { source: '10.0.1.5', destination: '10.0.2.7' }, l4: { TCP: { source_port: sport, destination_port: 5432, flags: { SYN: true } } }, trace_reason: 'NEW' });
  const a = await new FakeNode('a', `unix://${join(dir, 'a.sock')}`, [], 0).start();
  const b = await new FakeNode('b', `unix://${join(dir, 'b.sock')}`, [], 0).start();
  a.flows.push(flow('a', 10, syn(40000)), flow('a', 20, syn(40001)));
  b.flows.push(flow('b', 15, { ...syn(40002), verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED' }));
  const relay = new Relay({ peers: () => [a.peer, b.peer], version: 'v', sortBufferMs: 50, log: quiet });
  const server = await startGrpcServer([`unix://${join(dir, 'relay.sock')}`], [relay.service(), relay.serviceMapService()]);
  const client = serviceMapClient(server.addresses[0]!);
  try {
    const map = await new Promise<GetServiceMapResponse__Output>((resolve, reject) =>
      client.GetServiceMap({ since: timestampOfNs(BASE), namespaces: ['shop'] }, (e, r) => (e ? reject(e) : resolve(r!))),
    );
    assert.deepEqual(map.nodes.map((n) => n.id), ['workload/shop/db', 'workload/shop/web']);
    assert.equal(map.edges.length, 1);
    const e = map.edges[0]!;
    assert.equal(e.id, 'workload/shop/web>workload/shop/db:tcp/5432');
    assert.deepEqual([e.flows, e.forwarded, e.dropped], ['3', '2', '1']);
    assert.deepEqual(e.drop_reasons, ['POLICY_DENIED']);
    assert.equal(map.flows, '3');
    assert.equal(nsOfTimestamp(map.since), BASE);

    // Watch: the graph now, then again as flows arrive.
    const watch = client.WatchServiceMap({ since: timestampOfNs(BASE), interval_ms: 100 });
    const graphs: GetServiceMapResponse__Output[] = [];
    watch.on('data', (g: GetServiceMapResponse__Output) => graphs.push(g));
    watch.on('error', () => undefined);
    await waitFor(() => graphs.length >= 1);
    assert.equal(graphs[0]!.flows, '3');
    await waitFor(() => a.following.size === 1 && b.following.size === 1);
    const now = nowMs();
    a.flows.push(flow('a', now, syn(40003)));
    for (const c of a.following) c.write({ flow: a.flows.at(-1)!, node_name: 'a', time: a.flows.at(-1)!.time });
    await waitFor(() => graphs.at(-1)!.flows === '4');
    assert.equal(graphs.at(-1)!.edges[0]!.flows, '4');
    watch.cancel();
    await waitFor(() => a.cancelled >= 1 && b.cancelled >= 1);
  } finally {
    client.close();
    await server.close();
    await a.server.close();
    await b.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs}ms: ${cond.toString()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}


