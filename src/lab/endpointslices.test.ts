import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreObject, ObjectInput } from '../store/store.js';
import type { Endpoint, EndpointPort } from '../k8s/types.js';
import {
  CONTROLLER_NAME, MANAGED_BY_LABEL, MAX_ENDPOINTS_PER_SLICE, SERVICE_NAME_LABEL,
  desiredEndpointSlices, endpointSliceName, reconcileEndpointSlices,
} from './endpointslices.js';

const meta = (name: string, namespace = 'default', extra: Record<string, unknown> = {}) => ({
  name, namespace, uid: `uid-${namespace}-${name}`, resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z', ...extra,
});

function service(name: string, spec: Record<string, unknown>, namespace = 'default', labels?: Record<string, string>): StoreObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { ...meta(name, namespace), ...(labels ? { labels } : {}) }, spec };
}

function pod(name: string, opts: {
  ip?: string; labels?: Record<string, string>; ready?: boolean; namespace?: string; node?: string;
  phase?: string; deleting?: boolean; ports?: { name?: string; containerPort: number; protocol?: string }[];
} = {}): StoreObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(name, opts.namespace ?? 'default', {
      labels: opts.labels ?? { app: 'web' },
      ...(opts.deleting ? { deletionTimestamp: '2024-01-01T00:01:00Z' } : {}),
    }),
    spec: { containers: [{ name: 'c', image: 'i', ports: opts.ports ?? [] }], nodeName: opts.node ?? 'node1' },
    status: {
      phase: opts.phase ?? 'Running',
      ...(opts.ip === undefined ? {} : { podIP: opts.ip }),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

const web = service('web', { selector: { app: 'web' }, clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
const eps = (s: ObjectInput) => s['endpoints'] as Endpoint[];
const ports = (s: ObjectInput) => s['ports'] as EndpointPort[];
const ips = (s: ObjectInput) => eps(s).map((e) => e.addresses[0]);

/** What the store would hold after writing `o`. */
const stored = (o: ObjectInput): StoreObject => JSON.parse(JSON.stringify({ ...o, metadata: { ...o.metadata, uid: 'x', resourceVersion: '7', creationTimestamp: 't' } }));

test('one slice per service: endpoints sorted by IP, conditions, node, targetRef, metadata', () => {
  const out = desiredEndpointSlices(web, [
    pod('b', { ip: '10.0.1.10', node: 'node2' }),
    pod('a', { ip: '10.0.1.9' }),
    pod('c', { ip: '10.0.2.3', ready: false }),
  ])!;
  assert.equal(out.length, 1);
  const s = out[0]!;
  assert.equal(s.apiVersion, 'discovery.k8s.io/v1');
  assert.equal(s.kind, 'EndpointSlice');
  assert.equal(s['addressType'], 'IPv4');
  assert.deepEqual(ips(s), ['10.0.1.9', '10.0.1.10', '10.0.2.3']); // numeric, not text, order
  assert.deepEqual(eps(s)[1], {
    addresses: ['10.0.1.10'],
    conditions: { ready: true, serving: true, terminating: false },
    nodeName: 'node2',
    targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-default-b' },
  });
  assert.deepEqual(eps(s)[2]!.conditions, { ready: false, serving: false, terminating: false });
  assert.deepEqual(ports(s), [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.equal(s.metadata.namespace, 'default');
  assert.match(s.metadata.name, /^web-[0-9a-f]{10}$/);
  assert.deepEqual(s.metadata.labels, { [SERVICE_NAME_LABEL]: 'web', [MANAGED_BY_LABEL]: CONTROLLER_NAME });
  assert.deepEqual((s.metadata as Record<string, unknown>)['ownerReferences'], [
    { apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'uid-default-web', controller: true, blockOwnerDeletion: true },
  ]);
});

test('terminating pods stay as serving-but-not-ready; finished and address-less pods are left out', () => {
  const out = desiredEndpointSlices(web, [
    pod('term', { ip: '10.0.1.1', deleting: true }),
    pod('term-unready', { ip: '10.0.1.2', deleting: true, ready: false }),
    pod('done', { ip: '10.0.1.3', phase: 'Succeeded' }),
    pod('failed', { ip: '10.0.1.4', phase: 'Failed' }),
    pod('pending', {}),
  ])!;
  assert.deepEqual(ips(out[0]!), ['10.0.1.1', '10.0.1.2']);
  assert.deepEqual(eps(out[0]!)[0]!.conditions, { ready: false, serving: true, terminating: true });
  assert.deepEqual(eps(out[0]!)[1]!.conditions, { ready: false, serving: false, terminating: true });
});

test('publishNotReadyAddresses makes every endpoint ready', () => {
  const svc = service('web', { ...(web.spec as object), publishNotReadyAddresses: true });
  const out = desiredEndpointSlices(svc, [pod('a', { ip: '10.0.1.1', ready: false })])!;
  assert.deepEqual(eps(out[0]!)[0]!.conditions, { ready: true, serving: false, terminating: false });
});

test('pods of other namespaces or not matching every selector key are ignored', () => {
  const svc = service('web', { selector: { app: 'web', tier: 'fe' }, ports: [{ port: 80 }] });
  const out = desiredEndpointSlices(svc, [
    pod('match', { ip: '10.0.1.1', labels: { app: 'web', tier: 'fe', extra: 'x' } }),
    pod('partial', { ip: '10.0.1.2', labels: { app: 'web' } }),
    pod('wrong', { ip: '10.0.1.3', labels: { app: 'web', tier: 'be' } }),
    pod('elsewhere', { ip: '10.0.1.4', labels: { app: 'web', tier: 'fe' }, namespace: 'other' }),
  ])!;
  assert.equal(out.length, 1);
  assert.deepEqual(ips(out[0]!), ['10.0.1.1']);
  // targetPort absent: the service port itself; protocol and name defaulted.
  assert.deepEqual(ports(out[0]!), [{ name: '', port: 80, protocol: 'TCP' }]);
});

test('a service without a selector gets undefined: its slices are not the controller\'s', () => {
  assert.equal(desiredEndpointSlices(service('ext', { ports: [{ port: 80 }] }), [pod('a', { ip: '10.0.1.1' })]), undefined);
});

test('a selector matching no pods gives one placeholder slice with no endpoints and no ports', () => {
  const out = desiredEndpointSlices(web, [pod('x', { ip: '10.0.1.1', labels: { app: 'db' } })])!;
  assert.equal(out.length, 1);
  assert.deepEqual(eps(out[0]!), []);
  // As Kubernetes' reconciler does (endpointMeta{ports: []}); consumers see no backends either way.
  assert.deepEqual(ports(out[0]!), []);
  assert.equal(out[0]!.metadata.name, endpointSliceName('web', [], 0));
});

test('named target ports resolve per pod; pods grouped by their resolved port list', () => {
  const svc = service('api', {
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' },
      { name: 'metrics', port: 9090, targetPort: 9100, protocol: 'TCP' },
    ],
  });
  const out = desiredEndpointSlices(svc, [
    pod('v1a', { ip: '10.0.1.1', ports: [{ name: 'web', containerPort: 8080 }] }),
    pod('v1b', { ip: '10.0.1.2', ports: [{ name: 'web', containerPort: 8080, protocol: 'TCP' }] }),
    pod('v2', { ip: '10.0.1.3', ports: [{ name: 'web', containerPort: 9000 }] }),
    // The name exists but for UDP: FindPort matches name and protocol, so it does not resolve.
    pod('udp', { ip: '10.0.1.4', ports: [{ name: 'web', containerPort: 8080, protocol: 'UDP' }] }),
    pod('none', { ip: '10.0.1.5' }),
  ])!;
  const byPorts = new Map(out.map((s) => [JSON.stringify(ports(s).map((p) => [p.name, p.port])), ips(s)]));
  assert.equal(out.length, 3);
  assert.deepEqual(byPorts.get('[["http",8080],["metrics",9100]]'), ['10.0.1.1', '10.0.1.2']);
  assert.deepEqual(byPorts.get('[["http",9000],["metrics",9100]]'), ['10.0.1.3']);
  // Where the named port does not resolve, the pod keeps only the ports that do.
  assert.deepEqual(byPorts.get('[["metrics",9100]]'), ['10.0.1.4', '10.0.1.5']);
  assert.equal(new Set(out.map((s) => s.metadata.name)).size, 3);
});

test('more than 100 endpoints split into slices of at most 100, in address order', () => {
  const pods = Array.from({ length: 250 }, (_, i) => pod(`p${i}`, { ip: `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}` }));
  const out = desiredEndpointSlices(web, pods.reverse())!;
  assert.deepEqual(out.map((s) => eps(s).length), [MAX_ENDPOINTS_PER_SLICE, MAX_ENDPOINTS_PER_SLICE, 50]);
  assert.equal(ips(out[0]!)[0], '10.0.0.1');
  assert.equal(ips(out[1]!)[0], '10.0.0.101');
  assert.equal(ips(out[2]!)[49], '10.0.1.50');
  assert.equal(new Set(out.map((s) => s.metadata.name)).size, 3);
});

test('deterministic: same input in another order gives identical slices; names stay within 63 characters', () => {
  const pods = [pod('a', { ip: '10.0.1.1' }), pod('b', { ip: '10.0.1.2' }), pod('c', { ip: '10.0.1.3' })];
  const one = desiredEndpointSlices(web, pods);
  const two = desiredEndpointSlices(web, [...pods].reverse());
  assert.deepEqual(one, two);
  const long = 'a'.repeat(63);
  const name = endpointSliceName(long, [], 0);
  assert.ok(name.length <= 63 && /^a+-[0-9a-f]{10}$/.test(name), name);
  assert.notEqual(endpointSliceName('web', [], 0), endpointSliceName('web', [], 1));
  assert.notEqual(endpointSliceName('web', [], 0), endpointSliceName('web2', [], 0));
});

test('headless services label their slices; service labels are copied', () => {
  const svc = service('db', { selector: { app: 'web' }, clusterIP: 'None' }, 'default', { team: 'x', [MANAGED_BY_LABEL]: 'me' });
  const out = desiredEndpointSlices(svc, [pod('a', { ip: '10.0.1.1' })])!;
  assert.deepEqual(out[0]!.metadata.labels, {
    team: 'x', 'service.kubernetes.io/headless': '', [SERVICE_NAME_LABEL]: 'db', [MANAGED_BY_LABEL]: CONTROLLER_NAME,
  });
  assert.deepEqual(ports(out[0]!), []);
});

test('reconcile: nothing to do when the store already matches, even with fields in another order', () => {
  const desired = desiredEndpointSlices(web, [pod('a', { ip: '10.0.1.1' })])!;
  const existing = desired.map(stored);
  // Reorder keys the way a round trip through another encoder might.
  const e = existing[0]!;
  existing[0] = { ports: e['ports'], endpoints: e['endpoints'], addressType: e['addressType'], kind: e.kind, apiVersion: e.apiVersion, metadata: e.metadata };
  assert.deepEqual(reconcileEndpointSlices(desired, existing), { upsert: [], delete: [] });
});

test('reconcile: changed slices are upserted, stale managed slices deleted, user-made slices untouched', () => {
  const before = desiredEndpointSlices(web, [pod('a', { ip: '10.0.1.1' })])!;
  const placeholderBefore = desiredEndpointSlices(web, [])!;
  const userMade: StoreObject = stored({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'web-manual', namespace: 'default', labels: { [SERVICE_NAME_LABEL]: 'web' } }, addressType: 'IPv4', endpoints: [],
  });
  const existing = [...before, ...placeholderBefore].map(stored).concat(userMade);
  // Pod a turns unready: same slice name, new content; the placeholder name is
  // not desired any more (there are endpoints) and goes.
  const after = desiredEndpointSlices(web, [pod('a', { ip: '10.0.1.1', ready: false })])!;
  assert.equal(after[0]!.metadata.name, before[0]!.metadata.name);
  const r = reconcileEndpointSlices(after, existing);
  assert.deepEqual(r.upsert, after);
  assert.deepEqual(r.delete, [{ namespace: 'default', name: placeholderBefore[0]!.metadata.name }]);
});

test('reconcile: a new port set replaces the old slices', () => {
  const old = desiredEndpointSlices(web, [pod('a', { ip: '10.0.1.1' })])!;
  const svc2 = service('web', { ...(web.spec as object), ports: [{ name: 'http', port: 80, targetPort: 8081, protocol: 'TCP' }] });
  const now = desiredEndpointSlices(svc2, [pod('a', { ip: '10.0.1.1' })])!;
  const r = reconcileEndpointSlices(now, old.map(stored));
  assert.deepEqual(r.upsert.map((s) => s.metadata.name), [now[0]!.metadata.name]);
  assert.deepEqual(r.delete, [{ namespace: 'default', name: old[0]!.metadata.name }]);
  assert.notEqual(now[0]!.metadata.name, old[0]!.metadata.name);
});
