import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlLbFlags } from '../datapath/generated/abi.js';
import { maglevTable } from '../service/maglev.js';
import { BACKEND_ID_RANGE, IdAllocator, backendKeyString, type Backend, type Frontend } from '../service/translate.js';
import { LbTranslator } from '../service/translator.js';
import type { StoreObject } from '../store/store.js';
import { COALESCE_MS, ServiceManager, frontendRow } from './services.js';
import { EventEmitter } from 'node:events';
import type { Store } from '../store/store.js';
import type { LbDatapath, LbUpdate } from './datapath.js';
import type { Logger } from '../common/log.js';

const F = BlLbFlags;

function frontend(over: Partial<Frontend> = {}): Frontend {
  return {
    id: 7,
    key: { address: '10.96.0.20', port: 80, protocol: 'TCP' },
    type: 'ClusterIP',
    service: 'default/web',
    portName: '',
    backends: [3, 5],
    trafficPolicy: { external: 'Cluster', internal: 'Cluster' },
    algorithm: 'random',
    noBackends: false,
    ...over,
  };
}

const BACKENDS = new Map<number, Backend>([
  [3, { id: 3, address: '10.0.1.4', port: 8080, protocol: 'TCP', state: 'active' }],
  [5, { id: 5, address: '10.0.2.9', port: 8080, protocol: 'TCP', state: 'active' }],
]);
const backendOf = (id: number) => { const b = BACKENDS.get(id); return b && backendKeyString(b); };

test('frontendRow: flags say type, affinity, Local policy and Maglev', () => {
  assert.equal(frontendRow(frontend()).flags, 0);
  assert.equal(frontendRow(frontend({ type: 'NodePort' })).flags, F.BL_LB_F_NODEPORT);
  assert.equal(frontendRow(frontend({ type: 'LoadBalancer' })).flags, F.BL_LB_F_LOADBALANCER);
  assert.equal(frontendRow(frontend({ type: 'ExternalIP' })).flags, F.BL_LB_F_EXTERNAL_IP);
  assert.equal(frontendRow(frontend({ affinity: { timeoutSeconds: 30 } })).flags, F.BL_LB_F_AFFINITY);
  assert.equal(frontendRow(frontend({ trafficPolicy: { external: 'Cluster', internal: 'Local' } })).flags, F.BL_LB_F_LOCAL);
  assert.equal(frontendRow(frontend({ type: 'NodePort', trafficPolicy: { external: 'Local', internal: 'Cluster' } })).flags, F.BL_LB_F_NODEPORT | F.BL_LB_F_LOCAL);
  const m = frontendRow(frontend({ type: 'NodePort', algorithm: 'maglev' }), backendOf);
  assert.equal(m.flags, F.BL_LB_F_NODEPORT | F.BL_LB_F_MAGLEV);
  assert.equal(F.BL_LB_F_MAGLEV & (F.BL_LB_F_AFFINITY | F.BL_LB_F_NODEPORT | F.BL_LB_F_LOADBALANCER | F.BL_LB_F_EXTERNAL_IP | F.BL_LB_F_LOCAL), 0);
  const l7 = frontendRow(frontend({ l7ProxyPort: 15003 }));
  assert.equal(l7.flags, F.BL_LB_F_L7);
  assert.equal(l7.proxyPort, 15003);
  assert.equal(frontendRow(frontend()).proxyPort, undefined);
  // Only a ClusterIP TCP frontend is ever routed, whatever the model says.
  assert.equal(frontendRow(frontend({ type: 'NodePort', l7ProxyPort: 15003 })).flags, F.BL_LB_F_NODEPORT);
  assert.equal(frontendRow(frontend({ key: { address: '10.96.0.20', port: 53, protocol: 'UDP' }, l7ProxyPort: 15003 })).flags, 0);
});

test('frontendRow: a Maglev row carries its backends\' address keys, parallel to the ids; a random one none', () => {
  const m = frontendRow(frontend({ algorithm: 'maglev' }), backendOf);
  assert.deepEqual(m.backends, [3, 5]);
  assert.deepEqual(m.maglevKeys, ['10.0.1.4:8080/TCP', '10.0.2.9:8080/TCP']);
  assert.equal(frontendRow(frontend(), backendOf).maglevKeys, undefined);
  assert.deepEqual(frontendRow(frontend({ algorithm: 'maglev', backends: [] }), backendOf).maglevKeys, []);
  assert.throws(() => frontendRow(frontend({ algorithm: 'maglev', backends: [3, 99] }), backendOf), /backend 99 unknown/);
});

function svc(annotations: Record<string, string> = {}): StoreObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 'u-web', resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z', annotations },
    spec: { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] },
  };
}

function slice(ips: string[]): StoreObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-x', namespace: 'default', uid: 'u-web-x', resourceVersion: '1', creationTimestamp: 'x', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node1' })),
  };
}

/** One node's rows for the Service: its own ids (seeded per node), backends by id. */
function nodeRows(nodeIP: string, seededIds: [string, number][], opts: { annotate: boolean; defaultAlgorithm?: 'random' | 'maglev' }) {
  const t = new LbTranslator({
    nodeName: 'n',
    nodeIPs: [nodeIP],
    backendIds: new IdAllocator(BACKEND_ID_RANGE, seededIds),
    ...(opts.defaultAlgorithm ? { defaultAlgorithm: opts.defaultAlgorithm } : {}),
  });
  t.upsertService(svc(opts.annotate ? { 'service.cilium.io/lb-algorithm': 'maglev' } : {}));
  t.upsertSlice(slice(['10.0.1.4', '10.0.2.9', '10.0.1.7']));
  t.flush();
  const model = t.model();
  const byId = new Map(model.backends.map((b) => [b.id, b]));
  const keyOf = (id: number) => { const b = byId.get(id); return b && backendKeyString(b); };
  return { rows: model.frontends.map((f) => frontendRow(f, keyOf)), byId };
}

test('frontendRow via the translator: nodes with different backend ids build Maglev tables that agree by address', () => {
  const keys = ['10.0.1.4:8080/TCP', '10.0.2.9:8080/TCP', '10.0.1.7:8080/TCP'];
  const n1 = nodeRows('192.168.1.10', keys.map((k, i) => [k, 100 + i]), { annotate: true });
  const n2 = nodeRows('192.168.1.11', keys.map((k, i) => [k, 500 - i * 3]), { annotate: true });
  const clusterIP = (n: typeof n1) => n.rows.find((r) => r.address === '10.96.0.20')!;
  const r1 = clusterIP(n1);
  const r2 = clusterIP(n2);
  assert.notDeepEqual(r1.backends, r2.backends, 'the nodes gave different ids');
  for (const n of [n1, n2]) for (const r of n.rows) assert.ok(r.flags & F.BL_LB_F_MAGLEV, `${r.address}:${r.port} is Maglev`);
  const t1 = maglevTable(r1.backends.map((id, i) => ({ id, key: r1.maglevKeys![i]! })), 251);
  const t2 = maglevTable(r2.backends.map((id, i) => ({ id, key: r2.maglevKeys![i]! })), 251);
  const addr = (n: typeof n1, id: number) => backendKeyString(n.byId.get(id)!);
  for (let s = 0; s < 251; s++) assert.equal(addr(n1, t1[s]!), addr(n2, t2[s]!), `slot ${s}`);
});

test('frontendRow via the translator: the cluster default algorithm sets Maglev without the annotation', () => {
  const plain = nodeRows('192.168.1.10', [], { annotate: false });
  for (const r of plain.rows) assert.equal(r.flags & F.BL_LB_F_MAGLEV, 0);
  const dflt = nodeRows('192.168.1.10', [], { annotate: false, defaultAlgorithm: 'maglev' });
  assert.ok(dflt.rows.length >= 2);
  for (const r of dflt.rows) {
    assert.ok(r.flags & F.BL_LB_F_MAGLEV);
    assert.equal(r.maglevKeys!.length, 3);
  }
});

/** A store whose informers are driven by the test, and a datapath that records its updates. */
function fakeAgent() {
  const informers: Record<string, EventEmitter & { start(): Promise<void>; stop(): Promise<void>; waitForSync(): Promise<void> }> = {};
  for (const kind of ['Service', 'EndpointSlice']) {
    informers[kind] = Object.assign(new EventEmitter(), { start: async () => {}, stop: async () => {}, waitForSync: async () => {} });
  }
  const store = { informer: (kind: string) => informers[kind] } as unknown as Store;
  const updates: LbUpdate[] = [];
  const lb: LbDatapath = {
    apply: (u) => void updates.push(u),
    capacity: () => ({ serviceEntries: 1024, backendEntries: 1024 }),
    frontends: () => [],
    backends: () => [],
    knownFrontends: () => [],
  };
  const log = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
  const sm = new ServiceManager(store, lb, { nodeName: 'n', nodeIPs: ['192.168.0.1'] }, log);
  return { sm, informers, updates };
}
const turn = () => new Promise((r) => setImmediate(r));

test('ServiceManager: a lone change is flushed in the next turn of the event loop, with what arrived with it; a burst is coalesced', async () => {
  const { sm, informers, updates } = fakeAgent();
  await sm.start();
  assert.equal(updates.length, 1, 'the first flush after start');
  await new Promise((r) => setTimeout(r, COALESCE_MS + 5));
  // A Service and its slice delivered together: one flush, no timer waited for.
  informers['Service']!.emit('add', svc());
  informers['EndpointSlice']!.emit('add', slice(['10.0.1.4']));
  assert.equal(updates.length, 1, 'not flushed synchronously inside the event');
  await turn();
  assert.equal(updates.length, 2);
  assert.equal(updates[1]!.upsertFrontends.length, 3, 'cluster IP, node IP and 0.0.0.0 node port, each with the slice\'s backend');
  assert.ok(updates[1]!.upsertFrontends.every((f) => f.backends.length === 1));
  assert.ok(sm.lastSync!.eventAtMs! <= sm.lastSync!.startAtMs && sm.lastSync!.startAtMs <= sm.lastSync!.endAtMs);
  // Right after a flush, further events are a burst: they wait COALESCE_MS and go in one flush.
  informers['EndpointSlice']!.emit('update', slice(['10.0.1.4', '10.0.1.5']));
  await turn();
  informers['EndpointSlice']!.emit('update', slice(['10.0.1.4', '10.0.1.5', '10.0.1.6']));
  await turn();
  assert.equal(updates.length, 2, 'a burst waits');
  await new Promise((r) => setTimeout(r, COALESCE_MS + 5));
  assert.equal(updates.length, 3, 'one flush for the burst');
  assert.ok(updates[2]!.upsertFrontends.every((f) => f.backends.length === 3));
  await sm.stop();
});

/** Two Services (web: 80/TCP and 81/TCP, NodePort; dns: 53/UDP and 53/TCP) with one backend each. */
function meshServices() {
  const web = svc();
  (web.spec as { ports: unknown[] }).ports = [
    { name: 'http', port: 80, targetPort: 8080, nodePort: 30080 },
    { name: 'alt', port: 81, targetPort: 8081 },
  ];
  const webSlice = slice(['10.0.1.4']);
  (webSlice as unknown as { ports: unknown[] }).ports = [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'alt', port: 8081, protocol: 'TCP' }];
  const dns: StoreObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'dns', namespace: 'kube-system', uid: 'u-dns', resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ name: 'udp', port: 53, protocol: 'UDP' }, { name: 'tcp', port: 53, protocol: 'TCP' }] },
  };
  const dnsSlice: StoreObject = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'dns-x', namespace: 'kube-system', uid: 'u-dns-x', resourceVersion: '1', creationTimestamp: 'x', labels: { 'kubernetes.io/service-name': 'dns' } },
    addressType: 'IPv4',
    ports: [{ name: 'udp', port: 53, protocol: 'UDP' }, { name: 'tcp', port: 53, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.0.1.9'], conditions: { ready: true }, nodeName: 'n' }],
  };
  return { web, webSlice, dns, dnsSlice };
}

const key = (f: { address: string; port: number; protocol: string }) => `${f.address}:${f.port}/${f.protocol}`;

test('ServiceManager.setMeshFrontends: flags exactly the named Service ports\' ClusterIP TCP frontends, writes only what changes', async () => {
  const { sm, informers, updates } = fakeAgent();
  await sm.start();
  const s = meshServices();
  informers['Service']!.emit('add', s.web);
  informers['EndpointSlice']!.emit('add', s.webSlice);
  informers['Service']!.emit('add', s.dns);
  informers['EndpointSlice']!.emit('add', s.dnsSlice);
  await new Promise((r) => setTimeout(r, COALESCE_MS + 5));
  const n = updates.length;
  assert.equal(updates[n - 1]!.upsertFrontends.length, 6, 'both Services programmed, nothing flagged');
  assert.ok(updates[n - 1]!.upsertFrontends.every((f) => (f.flags & F.BL_LB_F_L7) === 0));

  // web:80 (ClusterIP flagged; its NodePort frontends not), dns:53 (the TCP frontend only), and a Service not known yet.
  sm.setMeshFrontends(new Set(['default/web:80', 'kube-system/dns:53', 'default/later:80']), 15003);
  await new Promise((r) => setTimeout(r, COALESCE_MS + 5));
  assert.equal(updates.length, n + 1);
  const u = updates[n]!;
  assert.deepEqual(u.upsertFrontends.map(key).sort(), ['10.96.0.10:53/TCP', '10.96.0.20:80/TCP']);
  for (const f of u.upsertFrontends) {
    assert.equal(f.flags & F.BL_LB_F_L7, F.BL_LB_F_L7);
    assert.equal(f.proxyPort, 15003);
    assert.equal(f.backends.length, 1, 'the backends stay, for the node\'s own sockets');
  }
  assert.deepEqual([u.deleteFrontends, u.upsertBackends, u.deleteBackends], [[], [], []]);

  // The same set again: nothing to write, no flush.
  sm.setMeshFrontends(new Set(['default/web:80', 'kube-system/dns:53', 'default/later:80']), 15003);
  await new Promise((r) => setTimeout(r, COALESCE_MS + 5));
  assert.equal(updates.length, n + 1);

  // web:80 leaves, web:81 joins: those two frontends only.
  sm.setMeshFrontends(new Set(['default/web:81', 'kube-system/dns:53']), 15003);
  await new Promise((r) => setTimeout(r, COALESCE_MS + 5));
  const v = updates[updates.length - 1]!;
  assert.deepEqual(v.upsertFrontends.map((f) => [key(f), f.proxyPort, f.flags & F.BL_LB_F_L7]).sort(), [
    ['10.96.0.20:80/TCP', undefined, 0],
    ['10.96.0.20:81/TCP', 15003, F.BL_LB_F_L7],
  ]);

  // No proxy port: nothing flagged any more.
  sm.setMeshFrontends(new Set(['default/web:81', 'kube-system/dns:53']), undefined);
  await new Promise((r) => setTimeout(r, COALESCE_MS + 5));
  const w = updates[updates.length - 1]!;
  assert.deepEqual(w.upsertFrontends.map(key).sort(), ['10.96.0.10:53/TCP', '10.96.0.20:81/TCP']);
  assert.ok(w.upsertFrontends.every((f) => f.proxyPort === undefined && (f.flags & F.BL_LB_F_L7) === 0));

  // A Service named before it existed is flagged when it comes.
  sm.setMeshFrontends(new Set(['default/later:80']), 15003);
  const later = svc();
  later.metadata = { ...later.metadata, name: 'later', uid: 'u-later' };
  (later.spec as { type: string; clusterIP: string }).type = 'ClusterIP';
  (later.spec as { clusterIP: string }).clusterIP = '10.96.0.30';
  (later.spec as { ports: unknown[] }).ports = [{ port: 80, targetPort: 8080 }];
  informers['Service']!.emit('add', later);
  await new Promise((r) => setTimeout(r, COALESCE_MS + 5));
  const x = updates[updates.length - 1]!;
  assert.deepEqual(x.upsertFrontends.map((f) => [key(f), f.proxyPort]), [['10.96.0.30:80/TCP', 15003]]);

  assert.throws(() => sm.setMeshFrontends(new Set(['web:80']), 15003), /namespace\/name:port/);
  assert.throws(() => sm.setMeshFrontends(new Set(), 70000), /not a port number/);
  await sm.stop();
});
