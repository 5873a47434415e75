import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Flow } from '../../api/generated/flow/Flow.js';
import type { MapEdge__Output } from '../../api/generated/servicemap/MapEdge.js';
import type { MapNode__Output } from '../../api/generated/servicemap/MapNode.js';
import { buildServiceMap } from '../../observer/servicemap.js';
import { flowMapIds, flowMatchesSelection, labelsMap, selectionLabel, serviceIndex, type Selection } from './selection.js';

const tcp = (sport: number, dport: number, syn = true) => ({ TCP: { source_port: sport, destination_port: dport, flags: { SYN: syn, ACK: !syn } } });
const pod = (ns: string, name: string, workload?: string, labels: string[] = []) => ({ namespace: ns, pod_name: name, labels, identity: 4242, ...(workload ? { workloads: [{ name: workload, kind: 'Deployment' }] } : {}) });

// tiefighter → deathstar Service → a deathstar pod; xwing → world by DNS name; host → a bare pod; an unknown address.
const viaService: Flow = { IP: { source: '10.0.1.5', destination: '10.0.1.9' }, l4: tcp(40000, 80), source: pod('default', 'tiefighter', undefined, ['k8s:class=tiefighter']), destination: pod('default', 'deathstar-6d8f-abc', 'deathstar'), destination_service: { name: 'deathstar', namespace: 'default' }, verdict: 'FORWARDED', is_reply: { value: false } };
const toFqdn: Flow = { IP: { source: '10.0.1.7', destination: '93.184.216.34' }, l4: tcp(40001, 443), source: pod('default', 'xwing'), destination: { identity: 2, labels: ['reserved:world'] }, destination_names: ['example.com'], verdict: 'DROPPED', is_reply: { value: false } };
const fromHost: Flow = { IP: { source: '10.0.0.1', destination: '10.0.1.5' }, l4: tcp(50000, 8080), source: { identity: 1, labels: ['reserved:host'] }, destination: pod('default', 'tiefighter'), verdict: 'FORWARDED', is_reply: { value: false } };
const reply: Flow = { IP: { source: '10.0.1.9', destination: '10.0.1.5' }, l4: tcp(80, 40000, false), source: pod('default', 'deathstar-6d8f-abc', 'deathstar'), destination: pod('default', 'tiefighter'), verdict: 'FORWARDED', is_reply: { value: true } };
const unknown: Flow = { IP: { source: '10.0.1.5', destination: '192.0.2.1' }, l4: { UDP: { source_port: 1000, destination_port: 53 } }, source: pod('default', 'tiefighter'), destination: { identity: 16777217, labels: ['cidr:192.0.2.1/32'] }, verdict: 'FORWARDED', trace_reason: 'NEW' };
const flows = [viaService, toFqdn, fromHost, reply, unknown];

const node = (id: string): Selection => {
  const n = buildServiceMap(flows).nodes!.find((x) => x.id === id);
  assert.ok(n, `the relay's map has node ${id}`);
  return { kind: 'node', id, node: n as MapNode__Output };
};
const edge = (id: string): Selection => {
  const e = buildServiceMap(flows).edges!.find((x) => x.id === id);
  assert.ok(e, `the relay's map has edge ${id}`);
  return { kind: 'edge', id, edges: [e as MapEdge__Output], source_id: e.source_id!, destination_id: e.destination_id! };
};
const services = serviceIndex(buildServiceMap(flows).edges as MapEdge__Output[]);
const matching = (sel: Selection) => flows.filter((f) => flowMatchesSelection(f, sel, services));

test('a flow through a Service: client, Service and backend workload, two edges (the relay map ids)', () => {
  const ids = flowMapIds(viaService);
  assert.deepEqual(
    ids.nodes.map((n) => n.id),
    ['workload/default/tiefighter', 'service/default/deathstar', 'workload/default/deathstar'],
  );
  assert.deepEqual(ids.edges, ['workload/default/tiefighter>service/default/deathstar:tcp/80', 'service/default/deathstar>workload/default/deathstar:tcp/80']);
  // Every node the UI computes is one the relay's map has; every edge too, or (a reply, which makes no edge) one the map has a Service on.
  const map = buildServiceMap(flows);
  const nodeIds = new Set(map.nodes!.map((n) => n.id));
  const edgeIds = new Set(map.edges!.map((e) => e.id));
  for (const f of flows) {
    const m = flowMapIds(f);
    for (const n of m.nodes) assert.ok(nodeIds.has(n.id), n.id);
    for (const e of m.edges) assert.ok(edgeIds.has(e) || services.has(e), e);
  }
});

test('selecting a workload: its flows either way, replies included', () => {
  assert.deepEqual(matching(node('workload/default/deathstar')), [viaService, reply]);
  assert.deepEqual(matching(node('workload/default/tiefighter')), [viaService, fromHost, reply, unknown]);
});

test('selecting a Service, a reserved identity, an FQDN or an address', () => {
  assert.deepEqual(matching(node('service/default/deathstar')), [viaService, reply]);
  assert.deepEqual(matching(node('reserved//host')), [fromHost]);
  assert.deepEqual(matching(node('fqdn//example.com')), [toFqdn]);
  assert.deepEqual(matching(node('ip//192.0.2.1')), [unknown]);
});

test('selecting an edge: the flows on it (a reply on its request edge), not the other edges of its nodes', () => {
  // The backend's reply names no Service: the map's path through the Service places it (client first, the server's port).
  assert.deepEqual(matching(edge('service/default/deathstar>workload/default/deathstar:tcp/80')), [viaService, reply]);
  assert.deepEqual(matching(edge('workload/default/tiefighter>service/default/deathstar:tcp/80')), [viaService, reply]);
  assert.deepEqual(matching(edge('reserved//host>workload/default/tiefighter:tcp/8080')), [fromHost]);
});

test('a collapsed namespace node stands for every node of its namespace', () => {
  const ns: Selection = { kind: 'node', id: 'namespace/default', node: { id: 'namespace/default', kind: 'MAP_NODE_UNKNOWN', name: 'default', namespace: 'default', labels: [], identities: [] } };
  assert.deepEqual(matching(ns), flows);
  const other: Selection = { ...ns, id: 'namespace/kube-system' } as Selection;
  assert.deepEqual(matching(other), []);
});

test('a flow with nothing known still has a place (no throw)', () => {
  assert.deepEqual(flowMapIds({}).nodes.map((n) => n.id), ['ip//unknown', 'ip//unknown']);
});

test('selection chip words and labels for SuggestPolicy', () => {
  assert.equal(selectionLabel(node('workload/default/tiefighter')), 'workload default/tiefighter');
  assert.equal(selectionLabel(edge('reserved//host>workload/default/tiefighter:tcp/8080')), 'host → default/tiefighter');
  assert.deepEqual(labelsMap(['k8s:app=x', 'k8s:class=a=b', 'reserved:host']), { 'k8s:app': 'x', 'k8s:class': 'a=b', 'reserved:host': '' });
});

test('recorded Star Wars flows: every node and edge of the relay map has its flows in the table, translated connections through their Service', async () => {
  const { recordedFlows } = await import('../../../test/lib/recorded-flows.js');
  const recorded = recordedFlows();
  const map = buildServiceMap(recorded);
  const services = serviceIndex(map.edges as MapEdge__Output[]);
  for (const n of map.nodes!) {
    const sel: Selection = { kind: 'node', id: n.id!, node: n as MapNode__Output };
    assert.ok(recorded.some((f) => flowMatchesSelection(f, sel, services)), `node ${n.id} has flows`);
  }
  for (const e of map.edges!) {
    const sel: Selection = { kind: 'edge', id: e.id!, edges: [e as MapEdge__Output], source_id: e.source_id!, destination_id: e.destination_id! };
    assert.ok(recorded.some((f) => flowMatchesSelection(f, sel, services)), `edge ${e.id} has flows`);
  }
  // The X-wing's dropped SYNs name no Service (the socket layer translated them): the map, and so the table, puts them behind the deathstar Service.
  const xwing = map.edges!.find((e) => e.id === 'workload/empire/xwing>service/empire/deathstar:tcp/80') as MapEdge__Output;
  const sel: Selection = { kind: 'edge', id: xwing.id, edges: [xwing], source_id: xwing.source_id, destination_id: xwing.destination_id };
  const drops = recorded.filter((f) => f.verdict === 'DROPPED' && f.source?.pod_name === 'xwing' && !f.destination_service?.name);
  assert.ok(drops.length > 0);
  assert.ok(drops.every((f) => flowMatchesSelection(f, sel, services)));
  assert.ok(!drops.some((f) => flowMatchesSelection(f, sel)), 'without the map, a flow alone does not name the Service');
});
