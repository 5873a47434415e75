import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GetServiceMapResponse__Output } from '../../api/generated/servicemap/GetServiceMapResponse.js';
import type { MapEdge__Output } from '../../api/generated/servicemap/MapEdge.js';
import type { MapNode__Output } from '../../api/generated/servicemap/MapNode.js';
import {
  HIERARCHICAL_LIMIT,
  OUTSIDE_GROUP_ID,
  boxesOf,
  buildViewGraph,
  edgeCurve,
  elkGraph,
  placeLabels,
  pointOnCurve,
  formatRate,
  layoutKey,
  matchNodes,
  namespaceGroupId,
  windowSeconds,
} from './graph.js';

function node(id: string): MapNode__Output {
  const [kind, namespace, name] = id.split('/') as [string, string, string];
  return { id, kind: kind.toUpperCase() as MapNode__Output['kind'], name, namespace, labels: [], identities: [] };
}

function edge(src: string, dst: string, proto: string, port: number, c: Partial<Record<'flows' | 'forwarded' | 'dropped' | 'requests', number>>, status: Record<string, number> = {}): MapEdge__Output {
  return {
    id: `${src}>${dst}:${proto}/${port}`,
    source_id: src,
    destination_id: dst,
    protocol: proto,
    port,
    flows: String(c.flows ?? 0),
    forwarded: String(c.forwarded ?? 0),
    dropped: String(c.dropped ?? 0),
    audit: '0',
    requests: String(c.requests ?? 0),
    status: Object.fromEntries(Object.entries(status).map(([k, v]) => [k, String(v)])),
    latency_p50_ms: 0,
    latency_p95_ms: 0,
    latency_p99_ms: 0,
    drop_reasons: [],
    last_seen: null,
  };
}

const TIE = 'workload/default/tiefighter';
const XWING = 'workload/default/xwing';
const SVC = 'service/default/deathstar';
const DS = 'workload/default/deathstar';
const WORLD = 'reserved//world';
const DNS = 'workload/kube-system/kube-dns';

/** Star Wars over a 10 s window: tiefighter's requests pass (one in four 403), xwing's are dropped. */
function starWars(scale = 1): GetServiceMapResponse__Output {
  return {
    nodes: [node(XWING), node(TIE), node(SVC), node(DS), node(WORLD), node(DNS)],
    edges: [
      edge(TIE, SVC, 'http', 80, { flows: 4 * scale, forwarded: 4 * scale, requests: 4 * scale }, { '2xx': 3 * scale, '4xx': 1 * scale }),
      edge(SVC, DS, 'http', 80, { flows: 4 * scale, forwarded: 4 * scale, requests: 4 * scale }),
      edge(XWING, SVC, 'tcp', 80, { flows: 2 * scale, dropped: 2 * scale }),
      edge(TIE, DNS, 'dns', 53, { flows: 2 * scale, forwarded: 2 * scale, requests: 2 * scale }),
      edge(XWING, DNS, 'dns', 53, { flows: 1 * scale, forwarded: 1 * scale, requests: 1 * scale }),
      edge(DS, WORLD, 'tcp', 443, { flows: 1 * scale, forwarded: 1 * scale }),
    ],
    since: { seconds: '1000', nanos: 0 },
    until: { seconds: '1010', nanos: 0 },
    flows: String(14 * scale),
  };
}

test('nodes are grouped by namespace, reserved ones outside the cluster, groups sorted with outside last', () => {
  const g = buildViewGraph(starWars());
  assert.deepEqual(g.groups.map((x) => [x.id, x.children]), [
    [namespaceGroupId('default'), [SVC, DS, TIE, XWING]],
    [namespaceGroupId('kube-system'), [DNS]],
    [OUTSIDE_GROUP_ID, [WORLD]],
  ]);
  assert.deepEqual(g.namespaces, ['default', 'kube-system']);
  const tie = g.nodes.find((n) => n.id === TIE)!;
  assert.equal(tie.kind, 'workload');
  assert.equal(tie.ariaLabel, 'workload default/tiefighter');
  assert.equal(g.nodes.find((n) => n.id === WORLD)!.ariaLabel, 'reserved world');
});

test('verdict classes: forwarded, dropped, mixed (edges and inbound mix of nodes)', () => {
  const m = starWars();
  m.edges.push(edge(XWING, SVC, 'http', 80, { flows: 1, forwarded: 1, requests: 1 }));
  const g = buildViewGraph(m);
  const byPair = (s: string, t: string) => g.edges.find((e) => e.source === s && e.target === t)!;
  assert.equal(byPair(TIE, SVC).verdict, 'forwarded');
  assert.equal(byPair(XWING, SVC).verdict, 'mixed');
  assert.equal(g.nodes.find((n) => n.id === SVC)!.inbound, 'mixed');
  const only = buildViewGraph(starWars());
  assert.equal(only.edges.find((e) => e.source === XWING && e.target === SVC)!.verdict, 'dropped');
  assert.equal(only.nodes.find((n) => n.id === XWING)!.inbound, null);
});

test('labels: protocol/port, request rate over the window, HTTP error share', () => {
  const g = buildViewGraph(starWars());
  assert.equal(windowSeconds(starWars()), 10);
  const tie = g.edges.find((e) => e.source === TIE && e.target === SVC)!;
  assert.equal(tie.rate, 0.4);
  assert.equal(tie.errorShare, 0.25);
  assert.deepEqual(tie.label, ['http/80', '0.4 req/s', '25% 4xx/5xx']);
  // No requests (L4 only): the rate counts flows; no responses, no error share.
  const xw = g.edges.find((e) => e.source === XWING && e.target === SVC)!;
  assert.equal(xw.rate, 0.2);
  assert.equal(xw.errorShare, null);
  assert.deepEqual(xw.label, ['tcp/80', '0.2 req/s']);
  // All 2xx: share 0, no error line.
  const svc = g.edges.find((e) => e.source === SVC)!;
  assert.deepEqual(svc.label, ['http/80', '0.4 req/s']);
});

test('rates: unknown or empty window gives counts instead; formatting', () => {
  const m = starWars();
  m.until = null;
  const g = buildViewGraph(m);
  const tie = g.edges.find((e) => e.source === TIE && e.target === SVC)!;
  assert.equal(tie.rate, null);
  assert.deepEqual(tie.label.slice(0, 2), ['http/80', '4 reqs']);
  assert.equal(windowSeconds({ since: { seconds: '10', nanos: 0 }, until: { seconds: '10', nanos: 0 } }), null);
  assert.equal(windowSeconds({ since: { seconds: '10', nanos: 500_000_000 }, until: { seconds: '12', nanos: 0 } }), 1.5);
  assert.equal(formatRate(0), '0');
  assert.equal(formatRate(0.04), '0.04');
  assert.equal(formatRate(0.001), '<0.01');
  assert.equal(formatRate(2.26), '2.3');
  assert.equal(formatRate(123.4), '123');
});

test('collapsing a namespace makes one node, merges its edges and sums the counters', () => {
  const g = buildViewGraph(starWars(), new Set(['default']));
  assert.deepEqual(g.groups.map((x) => x.id), [namespaceGroupId('kube-system'), OUTSIDE_GROUP_ID]);
  const ns = g.nodes.find((n) => n.id === 'namespace/default')!;
  assert.equal(ns.kind, 'namespace');
  assert.equal(ns.group, null);
  assert.equal(ns.members, 4);
  assert.equal(g.nodes.some((n) => n.id === TIE), false);
  // tiefighter→kube-dns and xwing→kube-dns become one edge with both counters.
  const dns = g.edges.find((e) => e.source === 'namespace/default' && e.target === DNS)!;
  assert.equal(dns.id, `${TIE}>${DNS}:dns/53|${XWING}>${DNS}:dns/53`);
  assert.equal(dns.edges.length, 2);
  assert.equal(dns.flows, 3);
  assert.equal(dns.requests, 3);
  assert.deepEqual(dns.protocols, ['dns/53']);
  assert.equal(dns.rate, 0.3);
  // Inside the namespace: one self-loop with every internal edge, verdicts mixed.
  const self = g.edges.find((e) => e.source === 'namespace/default' && e.target === 'namespace/default')!;
  assert.equal(self.edges.length, 3);
  assert.equal(self.forwarded, 8);
  assert.equal(self.dropped, 2);
  assert.equal(self.verdict, 'mixed');
  assert.deepEqual(self.protocols, ['http/80', 'tcp/80']);
  assert.equal(self.errorShare, 0.25);
  // The self-loop is not given to ELK.
  assert.equal(elkGraph(g).edges!.some((e) => e.sources[0] === e.targets[0]), false);
  // Out to the world.
  assert.equal(g.edges.find((e) => e.target === WORLD)!.source, 'namespace/default');
});

test('layout key: unchanged when only counters change, changed by new nodes and by collapsing', () => {
  const k1 = layoutKey(buildViewGraph(starWars(1)));
  const k2 = layoutKey(buildViewGraph(starWars(7)));
  assert.equal(k1, k2);
  const more = starWars();
  more.nodes.push(node('workload/default/probe'));
  assert.notEqual(layoutKey(buildViewGraph(more)), k1);
  assert.notEqual(layoutKey(buildViewGraph(starWars(), new Set(['default']))), k1);
  // Input order does not matter.
  const shuffled = starWars();
  shuffled.nodes.reverse();
  shuffled.edges.reverse();
  assert.equal(layoutKey(buildViewGraph(shuffled)), k1);
  assert.deepEqual(elkGraph(buildViewGraph(shuffled)), elkGraph(buildViewGraph(starWars())));
});

test('search matches name, namespace or id, case-insensitive; empty search matches nothing in particular', () => {
  const g = buildViewGraph(starWars());
  assert.deepEqual([...matchNodes(g, 'DEATH')!].sort(), [SVC, DS]);
  assert.deepEqual([...matchNodes(g, 'kube-system')!], [DNS]);
  assert.deepEqual([...matchNodes(g, 'reserved/')!], [WORLD]);
  assert.equal(matchNodes(g, 'nothing-like-it')!.size, 0);
  assert.equal(matchNodes(g, '  '), null);
});

test('unknown and missing fields: empty map, no namespace, edges to unknown nodes, absent counters', () => {
  const empty = buildViewGraph(null);
  assert.deepEqual([empty.nodes, empty.edges, empty.groups], [[], [], []]);
  assert.equal(empty.windowSeconds, null);
  assert.equal(layoutKey(buildViewGraph({ nodes: [], edges: [], since: null, until: null, flows: '0' })), layoutKey(empty));

  const partial = {
    nodes: [{ id: 'workload//hostpod', name: 'hostpod' }],
    edges: [
      { id: 'a', source_id: 'workload//hostpod', destination_id: 'fqdn//api.example.com', protocol: 'tcp', port: 443, flows: '2' },
      { id: 'b', source_id: 'workload//hostpod', destination_id: 'bogus', protocol: 'udp' },
      { id: 'c', source_id: '', destination_id: 'workload//hostpod' },
    ],
  } as unknown as GetServiceMapResponse__Output;
  const g = buildViewGraph(partial);
  // A workload without a namespace is outside; the FQDN only the edge names is made from its id.
  assert.deepEqual(g.groups.map((x) => [x.id, x.children]), [[OUTSIDE_GROUP_ID, ['fqdn//api.example.com', 'workload//hostpod']]]);
  const fq = g.nodes.find((n) => n.id === 'fqdn//api.example.com')!;
  assert.equal(fq.kind, 'fqdn');
  assert.equal(fq.name, 'api.example.com');
  assert.deepEqual(g.edges.map((e) => e.id), ['a']);
  const a = g.edges[0]!;
  assert.equal(a.flows, 2);
  assert.equal(a.dropped, 0);
  assert.equal(a.verdict, 'forwarded');
  assert.deepEqual(a.label, ['tcp/443', '2 reqs']);
});

test('boxes of an ELK result: children relative to their group', () => {
  const boxes = boxesOf({ id: 'root', children: [{ id: 'g', x: 10, y: 20, width: 300, height: 200, children: [{ id: 'n', x: 16, y: 46, width: 150, height: 48 }] }] });
  assert.deepEqual(boxes.get('g'), { x: 10, y: 20, width: 300, height: 200 });
  assert.deepEqual(boxes.get('n'), { x: 16, y: 46, width: 150, height: 48 });
});

test('ELK input: small maps across the hierarchy, big ones per group with one edge per group pair and an edge budget', () => {
  const small = elkGraph(buildViewGraph(starWars()));
  assert.equal(small.layoutOptions!['elk.hierarchyHandling'], 'INCLUDE_CHILDREN');
  assert.equal(small.edges!.length, 6);
  assert.deepEqual(small.children!.map((c) => c.id), [namespaceGroupId('default'), namespaceGroupId('kube-system'), OUTSIDE_GROUP_ID]);

  // 60 workloads in 3 namespaces, every one calling 4 others: over the limit.
  const ids = Array.from({ length: 60 }, (_, i) => `workload/ns${i % 3}/app-${String(i).padStart(2, '0')}`);
  const edges: MapEdge__Output[] = [];
  ids.forEach((src, i) => {
    for (const k of [1, 2, 3, 4]) edges.push(edge(src, ids[(i + k) % ids.length]!, 'http', 80, { flows: i + k, forwarded: i + k, requests: i + k }));
  });
  const g = buildViewGraph({ nodes: ids.map(node), edges, since: null, until: null, flows: '0' });
  assert.ok(g.nodes.length > HIERARCHICAL_LIMIT.nodes);
  const big = elkGraph(g);
  assert.equal(big.layoutOptions!['elk.hierarchyHandling'], 'SEPARATE_CHILDREN');
  // Root edges join groups, at most one per ordered pair.
  const pairs = big.edges!.map((e) => `${e.sources[0]}>${e.targets[0]}`);
  assert.equal(new Set(pairs).size, pairs.length);
  assert.ok(big.edges!.every((e) => e.sources[0]!.startsWith('group-ns/') && e.targets[0]!.startsWith('group-ns/')));
  // Inside a group: only its own members, within the budget; the budget keeps the busiest.
  for (const grp of big.children!) {
    const members = new Set(grp.children!.map((c) => c.id));
    assert.ok(grp.edges!.every((e) => members.has(e.sources[0]!) && members.has(e.targets[0]!)));
    assert.ok(grp.edges!.length <= Math.round(1.5 * members.size) + 8);
  }
  const inNs0 = edges.filter((e) => e.source_id.includes('/ns0/') && e.destination_id.includes('/ns0/'));
  assert.equal(big.children![0]!.edges!.length, inNs0.length);
});

test('edge labels: on the curve, the middle when free, moved off nodes and off each other, same input same spots', () => {
  const curve = edgeCurve({ x: 0, y: 0 }, { x: 400, y: 0 });
  assert.deepEqual(pointOnCurve(curve, 0), { x: 0, y: 0 });
  assert.deepEqual(pointOnCurve(curve, 0.5), { x: 200, y: 0 });
  assert.deepEqual(pointOnCurve(curve, 1), { x: 400, y: 0 });
  const size = { width: 80, height: 30 };
  // Alone: the middle.
  assert.deepEqual(placeLabels([{ id: 'a', curve, ...size }], []).get('a'), { x: 200, y: 0 });
  // Two labels on the same line do not overlap; the first by id keeps the middle.
  const two = placeLabels([{ id: 'b', curve, ...size }, { id: 'a', curve, ...size }], []);
  assert.deepEqual(two.get('a'), { x: 200, y: 0 });
  assert.ok(Math.abs(two.get('b')!.x - 200) >= 80);
  // A node over the middle pushes the label aside.
  const off = placeLabels([{ id: 'a', curve, ...size }], [{ x: 170, y: -20, width: 60, height: 40 }]).get('a')!;
  assert.ok(off.x + 40 <= 170 || off.x - 40 >= 230, `label at ${off.x} overlaps the node`);
  assert.deepEqual(placeLabels([{ id: 'b', curve, ...size }, { id: 'a', curve, ...size }], []), two);
});
