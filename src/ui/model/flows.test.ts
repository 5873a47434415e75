import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Flow__Output } from '../../api/generated/flow/Flow.js';
import type { GetFlowsResponse__Output } from '../../api/generated/observer/GetFlowsResponse.js';
import { appendRows, DASH, DEFAULT_SORT, flowCountText, flowRow, l7Text, MAX_FLOWS, resumePoint, sortRows, toggleSort, visibleRange, visibleRows, type FlowRow } from './flows.js';
import type { Selection } from './selection.js';

let seq = 0;
const res = (f: Partial<Flow__Output>, node = 'node-1'): GetFlowsResponse__Output => ({ flow: f as Flow__Output, node_name: node, time: f.time ?? null });
const row = (f: Partial<Flow__Output>): FlowRow => flowRow(res(f), seq++)!;
const at = (s: number, nanos = 0) => ({ seconds: String(s), nanos });

const denied: Partial<Flow__Output> = {
  time: at(1765000000, 123_000_000),
  uuid: 'a',
  verdict: 'DROPPED',
  drop_reason: 133,
  drop_reason_desc: 'POLICY_DENIED',
  IP: { source: '10.0.1.7', destination: '10.0.1.9', ipVersion: 'IPv4', encrypted: false } as Flow__Output['IP'],
  l4: { TCP: { source_port: 40000, destination_port: 80, flags: null } } as unknown as Flow__Output['l4'],
  source: { namespace: 'default', pod_name: 'xwing', labels: [], identity: 5000 } as unknown as Flow__Output['source'],
  destination: { namespace: 'default', pod_name: 'deathstar-1', labels: [], identity: 5001 } as unknown as Flow__Output['destination'],
  ingress_denied_by: [{ name: 'rule1', namespace: 'default', kind: 'CiliumNetworkPolicy', labels: [], revision: '1' }],
  node_name: 'node-2',
};

test('a flow row: Hubble words in every cell', () => {
  const r = row(denied);
  assert.deepEqual(r.cells, {
    time: 'Dec  6 05:46:40.123',
    source: 'default/xwing',
    destination: 'default/deathstar-1',
    port: '80/TCP',
    l7: DASH,
    verdict: 'DROPPED',
    policies: 'default/rule1',
    node: 'node-2',
  });
  assert.equal(r.verdict, 'DROPPED');
  assert.deepEqual(r.namespaces, ['default']);
});

test('missing fields and unknown identities render (dash, ID:n), never throw', () => {
  const empty = row({});
  assert.deepEqual(Object.values(empty.cells), ['N/A', DASH, DASH, DASH, DASH, DASH, DASH, 'node-1']);
  assert.equal(empty.verdict, 'VERDICT_UNKNOWN');
  const bare = row({ IP: { source: '192.0.2.1', destination: '10.0.1.9' } as Flow__Output['IP'], source: { identity: 16777300, labels: [] } as unknown as Flow__Output['source'], destination: { identity: 2, labels: ['reserved:world'] } as unknown as Flow__Output['destination'] });
  assert.equal(bare.cells.source, '192.0.2.1 (ID:16777300)');
  assert.equal(bare.cells.destination, '10.0.1.9 (world)');
  assert.equal(flowRow({ node_name: 'n', time: null }, 1), null, 'a node status line is no row');
});

test('L7 info: HTTP request and response, DNS', () => {
  const http = (type: string, code = 0) => ({ l7: { type, latency_ns: '2500000', http: { method: 'GET', url: 'http://deathstar/v1', code, protocol: 'HTTP/1.1', headers: [] } } }) as unknown as Flow__Output;
  assert.equal(l7Text(http('REQUEST')), 'GET /v1');
  assert.equal(l7Text(http('RESPONSE', 403)), '403 GET /v1 (2.5 ms)');
  const dns = { l7: { type: 'RESPONSE', latency_ns: '0', dns: { query: 'example.com.', qtypes: ['A'], ips: ['93.184.216.34'], rcode: 0 } } } as unknown as Flow__Output;
  assert.equal(l7Text(dns), 'DNS A example.com. → 93.184.216.34');
});

test('the buffer keeps the newest MAX_FLOWS', () => {
  assert.equal(MAX_FLOWS, 100_000);
  const mk = (n: number) => Array.from({ length: n }, () => row({}));
  const held = mk(5);
  const add = mk(3);
  const r = appendRows(held, add, 6);
  assert.equal(r.dropped, 2);
  assert.deepEqual(r.rows.map((x) => x.seq), [...held.slice(2), ...add].map((x) => x.seq));
  const big = appendRows(held, mk(10), 6);
  assert.equal(big.rows.length, 6);
  assert.equal(big.dropped, 9);
  assert.equal(appendRows(held, add).rows.length, 8);
});

test('sorting: newest first by default, by column text both ways, ties in arrival order', () => {
  const a = row({ ...denied, time: at(100), source: { namespace: 'b', pod_name: 'x' } as Flow__Output['source'] });
  const b = row({ ...denied, time: at(300), source: { namespace: 'a', pod_name: 'y' } as Flow__Output['source'] });
  const c = row({ ...denied, time: at(200), source: { namespace: 'a', pod_name: 'y' } as Flow__Output['source'] });
  assert.deepEqual(sortRows([a, b, c], DEFAULT_SORT), [b, c, a]);
  assert.deepEqual(sortRows([a, b, c], { column: 'time', dir: 'asc' }), [a, c, b]);
  assert.deepEqual(sortRows([a, b, c], { column: 'source', dir: 'asc' }), [b, c, a]);
  assert.deepEqual(sortRows([a, b, c], { column: 'source', dir: 'desc' }), [a, c, b]);
  const port = (n: number) => row({ ...denied, l4: { TCP: { source_port: 1, destination_port: n } } as unknown as Flow__Output['l4'] });
  const [p80, p443, p8080] = [port(80), port(443), port(8080)];
  assert.deepEqual(sortRows([p8080, p443, p80], { column: 'port', dir: 'asc' }), [p80, p443, p8080], 'ports by number, not text');
  assert.deepEqual(sortRows([p80, p8080, p443], { column: 'port', dir: 'desc' }), [p8080, p443, p80]);
  assert.deepEqual(toggleSort(DEFAULT_SORT, 'time'), { column: 'time', dir: 'asc' });
  assert.deepEqual(toggleSort(DEFAULT_SORT, 'verdict'), { column: 'verdict', dir: 'asc' });
});

test('visible rows: by namespace and by map selection', () => {
  const inDefault = row(denied);
  const inKs = row({ ...denied, source: { namespace: 'kube-system', pod_name: 'coredns-1' } as Flow__Output['source'], destination: null });
  assert.deepEqual(visibleRows([inDefault, inKs], '', null), [inDefault, inKs]);
  assert.deepEqual(visibleRows([inDefault, inKs], 'kube-system', null), [inKs]);
  const sel: Selection = { kind: 'node', id: 'workload/default/xwing', node: { id: 'workload/default/xwing', kind: 'WORKLOAD', name: 'xwing', namespace: 'default', labels: [], identities: [] } };
  assert.deepEqual(visibleRows([inDefault, inKs], '', sel), [inDefault]);
  assert.deepEqual(visibleRows([inDefault, inKs], 'kube-system', sel), []);
});

test('resume: since the newest flow held, skipping what is held of that instant', () => {
  assert.equal(resumePoint([]).since, null);
  const old = row({ ...denied, time: at(100), uuid: 'o' });
  const newest = row({ ...denied, time: at(200, 5), uuid: 'n' });
  const p = resumePoint([old, newest]);
  assert.deepEqual(p.since, { seconds: '200', nanos: 5 });
  assert.equal(p.held(row({ ...denied, time: at(200, 5), uuid: 'n' })), true);
  assert.equal(p.held(row({ ...denied, time: at(200, 5), uuid: 'other' })), false);
  assert.equal(p.held(row({ ...denied, time: at(150), uuid: 'x' })), true);
  assert.equal(p.held(row({ ...denied, time: at(201), uuid: 'y' })), false);
});

test('flow count and the virtualized range', () => {
  assert.equal(flowCountText(1234, 1234), '1,234 flows');
  assert.equal(flowCountText(3, 100000), '3 flows of 100,000');
  assert.deepEqual(visibleRange(0, 260, 26, 100000, 0), [0, 10]);
  assert.deepEqual(visibleRange(2600, 260, 26, 100000, 2), [98, 112]);
  assert.deepEqual(visibleRange(0, 260, 26, 3), [0, 3]);
});
