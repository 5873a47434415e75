import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreObject } from '../store/store.js';
import type { Endpoint, EndpointPort } from '../k8s/types.js';
import {
  BACKEND_ID_RANGE, FRONTEND_ID_RANGE, IdAllocator, LB_ALGORITHM_ANNOTATION, diffLb, frontendKeyString, sameBackend, sameFrontend,
  type Frontend, type LbModel, type LbOptions,
} from './translate.js';
import { servicesToLb } from './translator.js';

let clock = 0;
function service(name: string, spec: Record<string, unknown>, extra: { namespace?: string; annotations?: Record<string, string>; status?: unknown; created?: string } = {}): StoreObject {
  const namespace = extra.namespace ?? 'default';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name, namespace, uid: `uid-${name}`, resourceVersion: '1',
      creationTimestamp: extra.created ?? `2024-01-01T00:00:${String(clock++ % 60).padStart(2, '0')}Z`,
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
    spec,
    ...(extra.status ? { status: extra.status } : {}),
  };
}

function slice(svc: string, name: string, ports: EndpointPort[], endpoints: Endpoint[], namespace = 'default', addressType = 'IPv4'): StoreObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace, uid: `uid-${name}`, resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z', labels: { 'kubernetes.io/service-name': svc } },
    addressType,
    ports,
    endpoints,
  };
}

const ep = (ip: string, node = 'node1', conditions: Endpoint['conditions'] = { ready: true, serving: true, terminating: false }, zone?: string): Endpoint =>
  ({ addresses: [ip], conditions, nodeName: node, ...(zone ? { zone } : {}) });
const terminating = (ip: string, node = 'node1', serving = true) => ep(ip, node, { ready: false, serving, terminating: true });
const notReady = (ip: string, node = 'node1') => ep(ip, node, { ready: false, serving: false, terminating: false });

const OPTS: LbOptions = { nodeName: 'node1', nodeIPs: ['192.168.1.10'] };
const web = () => service('web', { selector: { app: 'web' }, clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
const webSlice = (...eps: Endpoint[]) => slice('web', 'web-abc', [{ name: 'http', port: 8080, protocol: 'TCP' }], eps);

const fe = (m: LbModel, type?: string) => m.frontends.filter((f) => !type || f.type === type);
const keys = (fs: Frontend[]) => fs.map((f) => frontendKeyString(f.key));
const addrOf = (m: LbModel, ids: number[]) => ids.map((id) => { const b = m.backends.find((x) => x.id === id)!; return `${b.address}:${b.port}`; }).sort();
const errors = (m: LbModel) => m.problems.filter((p) => p.severity === 'error');

test('translate: ClusterIP service with ready backends', () => {
  const m = servicesToLb([web()], [webSlice(ep('10.0.1.5', 'node1', undefined, 'zone-a'), ep('10.0.2.7', 'node2'))], OPTS);
  assert.deepEqual(m.problems, []);
  assert.equal(m.frontends.length, 1);
  const f = m.frontends[0]!;
  assert.deepEqual(f.key, { address: '10.96.0.20', port: 80, protocol: 'TCP' });
  assert.equal(f.type, 'ClusterIP');
  assert.equal(f.service, 'default/web');
  assert.equal(f.portName, 'http');
  assert.equal(f.algorithm, 'random');
  assert.equal(f.noBackends, false);
  assert.equal(f.affinity, undefined);
  assert.deepEqual(f.trafficPolicy, { external: 'Cluster', internal: 'Cluster' });
  assert.ok(f.id >= FRONTEND_ID_RANGE.min && f.id <= FRONTEND_ID_RANGE.max);
  assert.deepEqual(addrOf(m, f.backends), ['10.0.1.5:8080', '10.0.2.7:8080'], 'target port comes from the slice');
  assert.deepEqual(m.backends.map((b) => ({ ...b, id: 0 })), [
    { id: 0, address: '10.0.1.5', port: 8080, protocol: 'TCP', state: 'active', nodeName: 'node1', zone: 'zone-a' },
    { id: 0, address: '10.0.2.7', port: 8080, protocol: 'TCP', state: 'active', nodeName: 'node2' },
  ]);
});

test('translate: not-ready endpoints are left out; terminating ones are the fallback only', () => {
  // Ready ones exist: only they are picked; serving-terminating ones stay in the backend map.
  let m = servicesToLb([web()], [webSlice(ep('10.0.1.5'), terminating('10.0.1.6'), notReady('10.0.1.7'), terminating('10.0.1.8', 'node1', false))], OPTS);
  let f = m.frontends[0]!;
  assert.deepEqual(addrOf(m, f.backends), ['10.0.1.5:8080']);
  assert.deepEqual(m.backends.map((b) => `${b.address}=${b.state}`), ['10.0.1.5=active', '10.0.1.6=terminating']);
  // None ready: the serving terminating ones are used.
  m = servicesToLb([web()], [webSlice(terminating('10.0.1.6'), notReady('10.0.1.7'), terminating('10.0.1.8', 'node1', false))], OPTS);
  f = m.frontends[0]!;
  assert.deepEqual(addrOf(m, f.backends), ['10.0.1.6:8080']);
  assert.equal(f.noBackends, false);
  // Nothing serving: no backends, the frontend rejects.
  m = servicesToLb([web()], [webSlice(notReady('10.0.1.7'))], OPTS);
  assert.deepEqual(m.frontends[0]!.backends, []);
  assert.equal(m.frontends[0]!.noBackends, true);
  assert.deepEqual(m.backends, []);
  // No slice at all: same.
  assert.equal(servicesToLb([web()], [], OPTS).frontends[0]!.noBackends, true);
  // Conditions absent mean ready (Kubernetes: nil ready is true).
  m = servicesToLb([web()], [webSlice({ addresses: ['10.0.1.9'] })], OPTS);
  assert.deepEqual(addrOf(m, m.frontends[0]!.backends), ['10.0.1.9:8080']);
});

test('translate: headless, ExternalName and clusterIP-less services get no ClusterIP frontend', () => {
  const m = servicesToLb([
    service('hl', { clusterIP: 'None', selector: { a: 'b' }, ports: [{ port: 80 }] }),
    service('ext', { type: 'ExternalName', ports: [{ port: 80 }] }),
    service('pending', { ports: [{ port: 80 }] }),
    service('np', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
  ], [slice('hl', 'hl-1', [{ name: '', port: 80, protocol: 'TCP' }], [ep('10.0.1.5')])], OPTS);
  assert.deepEqual(m.problems, []);
  assert.deepEqual(keys(m.frontends), ['0.0.0.0:30080/TCP', '192.168.1.10:30080/TCP'], 'NodePort without clusterIP still gets node ports');
  assert.deepEqual(m.backends, [], 'a headless service programs no backends');
});

test('translate: NodePort on every node IP and the any-address surrogate; LB ingress; externalIPs', () => {
  const svc = service('lb', {
    type: 'LoadBalancer', clusterIP: '10.96.0.30', externalIPs: ['203.0.113.7'],
    ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
  }, { status: { loadBalancer: { ingress: [{ ip: '198.51.100.1' }, { hostname: 'lb.example.com' }] } } });
  const m = servicesToLb([svc], [slice('lb', 'lb-1', [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }], [ep('10.0.1.5')])],
    { nodeName: 'node1', nodeIPs: ['192.168.1.10', '10.1.0.10'] });
  assert.deepEqual(m.problems, []);
  const byType = (t: string) => keys(fe(m, t)).sort();
  assert.deepEqual(byType('ClusterIP'), ['10.96.0.30:53/UDP', '10.96.0.30:80/TCP']);
  assert.deepEqual(byType('ExternalIP'), ['203.0.113.7:53/UDP', '203.0.113.7:80/TCP']);
  assert.deepEqual(byType('LoadBalancer'), ['198.51.100.1:53/UDP', '198.51.100.1:80/TCP']);
  assert.deepEqual(byType('NodePort'), ['0.0.0.0:30053/UDP', '0.0.0.0:30080/TCP', '10.1.0.10:30053/UDP', '10.1.0.10:30080/TCP', '192.168.1.10:30053/UDP', '192.168.1.10:30080/TCP']);
  for (const f of m.frontends) {
    assert.deepEqual(addrOf(m, f.backends), [f.portName === 'http' ? '10.0.1.5:8080' : '10.0.1.5:5353'], frontendKeyString(f.key));
  }
  assert.equal(new Set(m.frontends.map((f) => f.id)).size, m.frontends.length, 'one id per frontend');
  // Backends are shared by id across the service's frontends; one per address:port/protocol.
  assert.deepEqual(m.backends.map((b) => `${b.address}:${b.port}/${b.protocol}`).sort(), ['10.0.1.5:5353/UDP', '10.0.1.5:8080/TCP']);
  // A ClusterIP-type service gets none of the node ports; a NodePort one none of the LB ingress.
  const np = servicesToLb([service('np', { type: 'NodePort', clusterIP: '10.96.0.31', ports: [{ port: 80, nodePort: 30081 }] }, { status: { loadBalancer: { ingress: [{ ip: '198.51.100.2' }] } } })], [], OPTS);
  assert.deepEqual(keys(np.frontends).sort(), ['0.0.0.0:30081/TCP', '10.96.0.31:80/TCP', '192.168.1.10:30081/TCP']);
});

test('translate: lbPool keeps LB ingress IPs outside the pools from being programmed', () => {
  const svc = service('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.30', ports: [{ port: 80, nodePort: 30080 }] },
    { status: { loadBalancer: { ingress: [{ ip: '198.51.100.1' }, { ip: '10.96.0.99' }] } } });
  const m = servicesToLb([svc], [], { ...OPTS, lbPool: ['198.51.100.0/24'] });
  assert.deepEqual(keys(fe(m, 'LoadBalancer')), ['198.51.100.1:80/TCP']);
  assert.deepEqual(m.problems, [{ service: 'default/lb', field: 'status.loadBalancer.ingress[1].ip', severity: 'warning',
    message: 'Invalid value: "10.96.0.99": not in any load-balancer pool (198.51.100.0/24); skipped' }]);
  assert.equal(fe(m, 'ClusterIP').length, 1, 'a warning skips only that address');
});

test('translate: session affinity', () => {
  const mk = (cfg?: unknown) => service('aff', { clusterIP: '10.96.0.40', sessionAffinity: 'ClientIP', ...(cfg === undefined ? {} : { sessionAffinityConfig: cfg }), ports: [{ port: 80 }] });
  assert.deepEqual(servicesToLb([mk()], [], OPTS).frontends[0]!.affinity, { timeoutSeconds: 10800 });
  assert.deepEqual(servicesToLb([mk({ clientIP: { timeoutSeconds: 60 } })], [], OPTS).frontends[0]!.affinity, { timeoutSeconds: 60 });
  assert.deepEqual(servicesToLb([mk({ clientIP: { timeoutSeconds: 86400 } })], [], OPTS).frontends[0]!.affinity, { timeoutSeconds: 86400 });
  for (const bad of [0, 86401, -5, 1.5]) {
    const m = servicesToLb([mk({ clientIP: { timeoutSeconds: bad } }), web()], [], OPTS);
    assert.deepEqual(m.problems, [{ service: 'default/aff', field: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', severity: 'error', message: `Invalid value: ${bad}: must be greater than 0 and less than 86400` }]);
    assert.deepEqual(m.frontends.map((f) => f.service), ['default/web'], 'the bad service gets nothing; others proceed');
  }
  assert.equal(servicesToLb([web()], [], OPTS).frontends[0]!.affinity, undefined);
});

test('translate: traffic policies keep this node\'s backends (with the terminating fallback per node)', () => {
  const svc = service('tp', {
    type: 'NodePort', clusterIP: '10.96.0.50', externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Cluster',
    ports: [{ name: 'http', port: 80, nodePort: 30090 }],
  });
  const sl = (...eps: Endpoint[]) => slice('tp', 'tp-1', [{ name: 'http', port: 8080, protocol: 'TCP' }], eps);
  let m = servicesToLb([svc], [sl(ep('10.0.1.5', 'node1'), ep('10.0.2.5', 'node2'))], OPTS);
  for (const f of m.frontends) {
    assert.deepEqual(f.trafficPolicy, { external: 'Local', internal: 'Cluster' });
    assert.deepEqual(addrOf(m, f.backends), f.type === 'ClusterIP' ? ['10.0.1.5:8080', '10.0.2.5:8080'] : ['10.0.1.5:8080'], frontendKeyString(f.key));
  }
  assert.equal(m.backends.length, 2, 'remote backends stay in the backend map for the ClusterIP');
  // No local backend: node ports reject, the ClusterIP still balances.
  m = servicesToLb([svc], [sl(ep('10.0.2.5', 'node2'))], OPTS);
  for (const f of fe(m, 'NodePort')) assert.equal(f.noBackends, true);
  assert.equal(fe(m, 'ClusterIP')[0]!.noBackends, false);
  // Local ready elsewhere but only terminating here: the local terminating one is used (not the remote ready one).
  m = servicesToLb([svc], [sl(terminating('10.0.1.6', 'node1'), ep('10.0.2.5', 'node2'))], OPTS);
  assert.deepEqual(addrOf(m, fe(m, 'NodePort')[0]!.backends), ['10.0.1.6:8080']);
  assert.deepEqual(addrOf(m, fe(m, 'ClusterIP')[0]!.backends), ['10.0.2.5:8080']);
  // internalTrafficPolicy Local restricts the ClusterIP.
  const itp = service('itp', { clusterIP: '10.96.0.51', internalTrafficPolicy: 'Local', ports: [{ port: 80 }] });
  m = servicesToLb([itp], [slice('itp', 'itp-1', [{ name: '', port: 80, protocol: 'TCP' }], [ep('10.0.1.5', 'node1'), ep('10.0.2.5', 'node2')])], OPTS);
  assert.deepEqual(addrOf(m, m.frontends[0]!.backends), ['10.0.1.5:80']);
  assert.deepEqual(m.frontends[0]!.trafficPolicy, { external: 'Cluster', internal: 'Local' });
});

test('translate: slice ports match service ports by name and protocol; services without selector use their slices', () => {
  const svc = service('multi', { clusterIP: '10.96.0.60', ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }] }); // no selector
  const m = servicesToLb([svc], [
    slice('multi', 'multi-a', [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }], [ep('10.0.1.5')]),
    slice('multi', 'multi-b', [{ name: 'http', port: 8081, protocol: 'TCP' }, { name: 'grpc', port: 9000, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'UDP' }], [ep('10.0.1.6')]),
    slice('other', 'other-1', [{ name: 'http', port: 1, protocol: 'TCP' }], [ep('10.0.9.9')]),
    slice('multi', 'multi-c', [{ name: 'http', port: 8080, protocol: 'TCP' }], [ep('10.0.1.7')], 'elsewhere'),
    slice('multi', 'multi-v6', [{ name: 'http', port: 8080, protocol: 'TCP' }], [{ addresses: ['fd00::1'] }], 'default', 'IPv6'),
  ], OPTS);
  const byName = (n: string) => addrOf(m, m.frontends.find((f) => f.portName === n)!.backends);
  assert.deepEqual(byName('http'), ['10.0.1.5:8080', '10.0.1.6:8081']);
  assert.deepEqual(byName('metrics'), ['10.0.1.5:9100']);
  assert.deepEqual(m.problems, [
    { service: 'default/multi', field: 'EndpointSlice multi-b: ports[1]', severity: 'warning', message: 'no service port named "grpc" with protocol TCP; ignored' },
    { service: 'default/multi', field: 'EndpointSlice multi-b: ports[2]', severity: 'warning', message: 'no service port named "metrics" with protocol UDP; ignored' },
  ]);
  assert.equal(m.frontends.length, 2, 'warnings do not cost the service its frontends');
});

test('translate: the same endpoint in two slices is one backend, ready winning', () => {
  const m = servicesToLb([web()], [
    webSlice(terminating('10.0.1.5')),
    slice('web', 'web-def', [{ name: 'http', port: 8080, protocol: 'TCP' }], [ep('10.0.1.5')]),
  ], OPTS);
  assert.equal(m.backends.length, 1);
  assert.equal(m.backends[0]!.state, 'active');
  assert.deepEqual(m.frontends[0]!.backends, [m.backends[0]!.id]);
  // Two services sharing a pod share the backend entry.
  const m2 = servicesToLb([web(), service('web2', { clusterIP: '10.96.0.21', ports: [{ name: 'http', port: 81 }] })],
    [webSlice(ep('10.0.1.5')), slice('web2', 'web2-1', [{ name: 'http', port: 8080, protocol: 'TCP' }], [ep('10.0.1.5')])], OPTS);
  assert.equal(m2.backends.length, 1);
  assert.deepEqual(m2.frontends[0]!.backends, m2.frontends[1]!.backends);
});

test('translate: load-balancing algorithm from the annotation, else the default', () => {
  const mk = (name: string, ip: string, ann?: string) => service(name, { clusterIP: ip, ports: [{ port: 80 }] }, ann === undefined ? {} : { annotations: { [LB_ALGORITHM_ANNOTATION]: ann } });
  assert.equal(LB_ALGORITHM_ANNOTATION, 'service.cilium.io/lb-algorithm');
  const svcs = [mk('a', '10.96.1.1', 'maglev'), mk('b', '10.96.1.2', 'random'), mk('c', '10.96.1.3'), mk('d', '10.96.1.4', 'least-conn')];
  const algo = (m: LbModel) => Object.fromEntries(m.frontends.map((f) => [f.service, f.algorithm]));
  let m = servicesToLb(svcs, [], OPTS);
  assert.deepEqual(algo(m), { 'default/a': 'maglev', 'default/b': 'random', 'default/c': 'random', 'default/d': 'random' });
  assert.deepEqual(m.problems.map((p) => [p.service, p.severity, p.field]), [['default/d', 'warning', 'metadata.annotations[service.cilium.io/lb-algorithm]']]);
  m = servicesToLb(svcs, [], { ...OPTS, defaultAlgorithm: 'maglev' });
  assert.deepEqual(algo(m), { 'default/a': 'maglev', 'default/b': 'random', 'default/c': 'maglev', 'default/d': 'maglev' });
  m = servicesToLb(svcs, [], { ...OPTS, algorithmAnnotation: false });
  assert.deepEqual(algo(m), { 'default/a': 'random', 'default/b': 'random', 'default/c': 'random', 'default/d': 'random' });
  assert.deepEqual(m.problems, []);
});

test('translate: two services claiming one nodePort: the older keeps it, the newer gets nothing', () => {
  const older = service('older', { type: 'NodePort', clusterIP: '10.96.0.70', ports: [{ port: 80, nodePort: 30080 }] }, { created: '2024-01-01T00:00:00Z' });
  const newer = service('newer', { type: 'NodePort', clusterIP: '10.96.0.71', ports: [{ port: 81, nodePort: 30079 }, { port: 80, protocol: 'UDP', nodePort: 30080 }] }, { created: '2024-01-02T00:00:00Z' });
  for (const order of [[older, newer], [newer, older]]) {
    const m = servicesToLb(order, [], OPTS);
    assert.deepEqual(m.problems, [{ service: 'default/newer', field: 'spec.ports[1].nodePort', severity: 'error', message: 'Invalid value: 30080: provided port is already allocated' }]);
    assert.deepEqual([...new Set(m.frontends.map((f) => f.service))], ['default/older'], 'never half-programmed: not even its ClusterIP or its free node port');
  }
  // One service may use one node port for TCP and UDP.
  const both = service('both', { type: 'NodePort', clusterIP: '10.96.0.72', ports: [{ name: 'a', port: 53, nodePort: 30053 }, { name: 'b', port: 53, protocol: 'UDP', nodePort: 30053 }] });
  assert.deepEqual(servicesToLb([both], [], OPTS).problems, []);
});

test('translate: nodePort range, duplicate ports and address collisions are errors of that service only', () => {
  const m = servicesToLb([
    service('range', { type: 'NodePort', clusterIP: '10.96.0.80', ports: [{ port: 80, nodePort: 8080 }] }),
    service('dup', { clusterIP: '10.96.0.81', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }),
    service('ext1', { clusterIP: '10.96.0.82', externalIPs: ['203.0.113.9'], ports: [{ port: 80 }] }, { created: '2024-01-01T00:00:00Z' }),
    service('ext2', { clusterIP: '10.96.0.83', externalIPs: ['203.0.113.9'], ports: [{ port: 80 }] }, { created: '2024-01-03T00:00:00Z' }),
    service('sctp', { clusterIP: '10.96.0.84', ports: [{ name: 's', port: 9, protocol: 'SCTP' }, { name: 't', port: 10 }] }),
    service('v6', { clusterIP: 'fd00::10', ports: [{ port: 80 }] }),
  ], [], OPTS);
  assert.deepEqual(m.problems.map((p) => `${p.service} ${p.severity} ${p.field}: ${p.message}`).sort(), [
    'default/dup error spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}',
    'default/ext2 error spec.externalIPs[0]: Invalid value: "203.0.113.9": 203.0.113.9:80/TCP is already a frontend of service default/ext1',
    'default/range error spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
    'default/sctp warning spec.ports[0].protocol: Unsupported value: "SCTP": only TCP and UDP are load-balanced; port skipped',
    'default/v6 warning spec.clusterIP: Invalid value: "fd00::10": not an IPv4 address; not load-balanced (IPv4 only)',
  ]);
  assert.deepEqual(keys(m.frontends).sort(), ['10.96.0.82:80/TCP', '10.96.0.84:10/TCP', '203.0.113.9:80/TCP']);
  // An external IP on a node IP at an older service's node port collides too.
  const np = service('np', { type: 'NodePort', clusterIP: '10.96.0.85', ports: [{ port: 80, nodePort: 30080 }] }, { created: '2024-01-01T00:00:00Z' });
  const ext = service('ext', { clusterIP: '10.96.0.86', externalIPs: ['192.168.1.10'], ports: [{ port: 30080 }] }, { created: '2024-01-02T00:00:00Z' });
  const m2 = servicesToLb([ext, np], [], OPTS);
  assert.deepEqual(errors(m2).map((p) => `${p.service} ${p.field}`), ['default/ext spec.externalIPs[0]']);
  assert.deepEqual([...new Set(m2.frontends.map((f) => f.service))], ['default/np']);
});

test('translate: ids stay stable across calls and freed ids are reused last', () => {
  const frontendIds = new IdAllocator(FRONTEND_ID_RANGE);
  const backendIds = new IdAllocator(BACKEND_ID_RANGE);
  const opts = { ...OPTS, frontendIds, backendIds };
  const a = service('a', { clusterIP: '10.96.2.1', ports: [{ port: 80 }] });
  const b = service('b', { clusterIP: '10.96.2.2', ports: [{ port: 80 }] });
  const sa = (...eps: Endpoint[]) => slice('a', 'a-1', [{ name: '', port: 80, protocol: 'TCP' }], eps);
  const m1 = servicesToLb([a, b], [sa(ep('10.0.1.1'), ep('10.0.1.2'))], opts);
  const idOf = (m: LbModel, svc: string) => m.frontends.find((f) => f.service === svc)!.id;
  const bid = (m: LbModel, ip: string) => m.backends.find((x) => x.address === ip)!.id;
  // Same input again (in another order): same ids.
  const m2 = servicesToLb([b, a], [sa(ep('10.0.1.2'), ep('10.0.1.1'))], opts);
  assert.deepEqual(m2, m1);
  // A new backend and a new service get new ids; the old ones keep theirs.
  const c = service('c', { clusterIP: '10.96.2.3', ports: [{ port: 80 }] });
  const m3 = servicesToLb([a, b, c], [sa(ep('10.0.1.1'), ep('10.0.1.2'), ep('10.0.1.3'))], opts);
  assert.equal(idOf(m3, 'default/a'), idOf(m1, 'default/a'));
  assert.equal(idOf(m3, 'default/b'), idOf(m1, 'default/b'));
  assert.equal(bid(m3, '10.0.1.1'), bid(m1, '10.0.1.1'));
  assert.equal(bid(m3, '10.0.1.2'), bid(m1, '10.0.1.2'));
  assert.ok(![idOf(m1, 'default/a'), idOf(m1, 'default/b')].includes(idOf(m3, 'default/c')));
  // Deleting b and a backend frees their ids; the next new ones get fresh ids, not the freed ones.
  const freedF = idOf(m1, 'default/b');
  const freedB = bid(m1, '10.0.1.2');
  const m4 = servicesToLb([a, c], [sa(ep('10.0.1.1'), ep('10.0.1.3'))], opts);
  assert.equal(frontendIds.keyOf(freedF), undefined);
  assert.equal(backendIds.keyOf(freedB), undefined);
  const d = service('d', { clusterIP: '10.96.2.4', ports: [{ port: 80 }] });
  const m5 = servicesToLb([a, c, d], [sa(ep('10.0.1.1'), ep('10.0.1.3'), ep('10.0.1.4'))], opts);
  assert.notEqual(idOf(m5, 'default/d'), freedF);
  assert.notEqual(bid(m5, '10.0.1.4'), freedB);
  assert.equal(idOf(m5, 'default/c'), idOf(m4, 'default/c'));
});

test('IdAllocator: fresh ids first, then freed ones oldest first; restore; exhaustion', () => {
  const ids = new IdAllocator({ min: 1, max: 3 });
  assert.equal(ids.acquire('a'), 1);
  assert.equal(ids.acquire('b'), 2);
  assert.equal(ids.acquire('a'), 1, 'idempotent');
  assert.equal(ids.release('a'), 1);
  assert.equal(ids.release('a'), undefined);
  assert.equal(ids.acquire('c'), 3, 'a never-used id before a freed one');
  assert.equal(ids.release('b'), 2);
  assert.equal(ids.acquire('d'), 1, 'then the oldest freed');
  assert.equal(ids.acquire('e'), 2);
  assert.equal(ids.acquire('f'), undefined, 'exhausted');
  assert.equal(ids.size, 3);
  assert.deepEqual(ids.retainOnly(new Set(['d'])), [['c', 3], ['e', 2]]);
  assert.deepEqual(ids.entries(), [['d', 1]]);
  // Restored from the maps: gaps below the highest id are free.
  const r = new IdAllocator({ min: 1, max: 10 }, new Map([['x', 5], ['y', 2]]));
  assert.equal(r.get('x'), 5);
  assert.equal(r.acquire('z'), 6);
  assert.deepEqual([r.acquire('p'), r.acquire('q'), r.acquire('s'), r.acquire('t'), r.acquire('u'), r.acquire('v'), r.acquire('w')], [7, 8, 9, 10, 1, 3, 4]);
  assert.throws(() => new IdAllocator({ min: 1, max: 10 }, [['x', 11]]), /outside 1-10/);
  assert.throws(() => new IdAllocator({ min: 1, max: 10 }, [['x', 1], ['y', 1]]), /given to both/);
  assert.throws(() => new IdAllocator({ min: 1, max: 10 }, [['x', 1], ['x', 2]]), /given twice/);
});

test('translate: running out of frontend ids is an error of the service that needed one', () => {
  const frontendIds = new IdAllocator({ min: 1, max: 2 });
  const svcs = ['a', 'b', 'c'].map((n, i) => service(n, { clusterIP: `10.96.3.${i + 1}`, ports: [{ port: 80 }] }, { created: `2024-01-0${i + 1}T00:00:00Z` }));
  const m = servicesToLb(svcs, [], { ...OPTS, frontendIds });
  assert.deepEqual(m.frontends.map((f) => f.service), ['default/a', 'default/b']);
  assert.deepEqual(m.problems.map((p) => [p.service, p.severity]), [['default/c', 'error']]);
  assert.match(m.problems[0]!.message, /no free frontend id \(1-2 all in use: a frontend's id is the datapath's 16-bit rev_nat_index, so a node programs at most 2 frontends/);
  assert.equal(m.problems[0]!.code, 'BL_ERR_LB_FRONTEND_IDS');
});

test('translate: bad options throw', () => {
  assert.throws(() => servicesToLb([], [], { nodeName: 'n', nodeIPs: ['not-an-ip'] }), /node IP 'not-an-ip'/);
  assert.throws(() => servicesToLb([], [], { nodeName: 'n', nodeIPs: [], lbPool: ['10.0.0.1/24'] }), /host bits/);
});

test('diffLb: only what changed', () => {
  const frontendIds = new IdAllocator(FRONTEND_ID_RANGE);
  const backendIds = new IdAllocator(BACKEND_ID_RANGE);
  const opts = { ...OPTS, frontendIds, backendIds };
  const a = service('a', { type: 'NodePort', clusterIP: '10.96.4.1', ports: [{ port: 80, nodePort: 30100 }] });
  const b = service('b', { clusterIP: '10.96.4.2', ports: [{ port: 80 }] });
  const sa = (...eps: Endpoint[]) => slice('a', 'a-1', [{ name: '', port: 80, protocol: 'TCP' }], eps);
  const sb = (...eps: Endpoint[]) => slice('b', 'b-1', [{ name: '', port: 80, protocol: 'TCP' }], eps);
  const empty: LbModel = { frontends: [], backends: [], problems: [] };
  const m1 = servicesToLb([a, b], [sa(ep('10.0.1.1')), sb(ep('10.0.2.1'))], opts);
  const first = diffLb(empty, m1);
  assert.equal(first.upsertFrontends.length, 4);
  assert.equal(first.upsertBackends.length, 2);
  assert.deepEqual([first.deleteFrontends, first.deleteBackends], [[], []]);
  // Nothing changed: nothing to do.
  assert.deepEqual(diffLb(m1, servicesToLb([a, b], [sa(ep('10.0.1.1')), sb(ep('10.0.2.1'))], opts)), { upsertFrontends: [], deleteFrontends: [], upsertBackends: [], deleteBackends: [] });
  // A backend added to a: a's frontends (3) and the new backend; b untouched.
  const m2 = servicesToLb([a, b], [sa(ep('10.0.1.1'), ep('10.0.1.2')), sb(ep('10.0.2.1'))], opts);
  let d = diffLb(m1, m2);
  assert.deepEqual(d.upsertFrontends.map((f) => f.service), ['default/a', 'default/a', 'default/a']);
  assert.deepEqual(d.upsertBackends.map((x) => x.address), ['10.0.1.2']);
  assert.deepEqual([d.deleteFrontends, d.deleteBackends], [[], []]);
  // A backend starts terminating (a's only other one stays ready): the backend's state and a's lists change.
  const m3 = servicesToLb([a, b], [sa(ep('10.0.1.1'), terminating('10.0.1.2')), sb(ep('10.0.2.1'))], opts);
  d = diffLb(m2, m3);
  assert.deepEqual(d.upsertBackends.map((x) => `${x.address}=${x.state}`), ['10.0.1.2=terminating']);
  assert.deepEqual(d.upsertFrontends.map((f) => f.service), ['default/a', 'default/a', 'default/a']);
  // b deleted: its frontend and backend go, nothing is upserted.
  const m4 = servicesToLb([a], [sa(ep('10.0.1.1'), terminating('10.0.1.2'))], opts);
  d = diffLb(m3, m4);
  assert.deepEqual(d.upsertFrontends, []);
  assert.deepEqual(d.upsertBackends, []);
  assert.deepEqual(d.deleteFrontends.map((f) => frontendKeyString(f.key)), ['10.96.4.2:80/TCP']);
  assert.deepEqual(d.deleteBackends.map((x) => x.address), ['10.0.2.1']);
  // Affinity switched on for a: only a's frontends, no backends.
  const a2 = { ...a, spec: { ...(a.spec as object), sessionAffinity: 'ClientIP' } } as StoreObject;
  d = diffLb(m4, servicesToLb([a2], [sa(ep('10.0.1.1'), terminating('10.0.1.2'))], opts));
  assert.equal(d.upsertFrontends.length, 3);
  assert.ok(d.upsertFrontends.every((f) => f.affinity?.timeoutSeconds === 10800));
  assert.deepEqual([d.deleteFrontends, d.upsertBackends, d.deleteBackends], [[], [], []]);
  // A service gaining an error loses all its frontends at once.
  const a3 = { ...a, spec: { ...(a.spec as object), sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } } } as StoreObject;
  d = diffLb(m4, servicesToLb([a3], [sa(ep('10.0.1.1'))], opts));
  assert.equal(d.deleteFrontends.length, 3);
  assert.equal(d.deleteBackends.length, 2);
});

test('translate: deterministic without allocators, whatever the input order', () => {
  const svcs = [web(), service('x', { type: 'NodePort', clusterIP: '10.96.5.1', ports: [{ port: 80, nodePort: 30200 }] })];
  const sls = [webSlice(ep('10.0.1.5'), ep('10.0.1.6')), slice('x', 'x-1', [{ name: '', port: 80, protocol: 'TCP' }], [ep('10.0.3.1')])];
  assert.deepEqual(servicesToLb(svcs, sls, OPTS), servicesToLb([...svcs].reverse(), [...sls].reverse(), OPTS));
});

test('sameFrontend and sameBackend compare every field diffLb cares about', () => {
  const f = { id: 1, key: { address: '10.96.0.1', port: 80, protocol: 'TCP' as const }, type: 'ClusterIP' as const, service: 'a/b', portName: '', backends: [1, 2], trafficPolicy: { external: 'Cluster' as const, internal: 'Cluster' as const }, algorithm: 'random' as const, noBackends: false };
  assert.ok(sameFrontend(f, { ...f, backends: [1, 2] }));
  assert.ok(!sameFrontend(f, { ...f, backends: [1, 3] }));
  assert.ok(!sameFrontend(f, { ...f, affinity: { timeoutSeconds: 10 } }));
  assert.ok(!sameFrontend(f, { ...f, trafficPolicy: { external: 'Local', internal: 'Cluster' } }));
  const b = { id: 1, address: '10.0.0.1', port: 80, protocol: 'TCP' as const, state: 'active' as const };
  assert.ok(sameBackend(b, { ...b }));
  assert.ok(!sameBackend(b, { ...b, state: 'terminating' }));
});
