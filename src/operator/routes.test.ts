/**
 * The operator's route status against the Kubernetes API double: entries per
 * Service parent with observedGeneration, a lastTransitionTime kept while a
 * condition's status holds, no write when nothing changed, the loser of two
 * identical matches told so, a missing backend reported, other controllers'
 * entries kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreObject } from '../store/store.js';
import { MESH_CONTROLLER } from '../l7/http/mesh.js';
import { RouteStatusController, routeStatus, type RouteParentStatus } from './routes.js';
import { captureLog, kubeStores } from '../../test/lib/kube-stores.js';
import { until } from '../../test/lib/wait.js';

const parentRef = { group: '', kind: 'Service', name: 'web' };

function routeObj(name: string, status?: unknown, generation = 1): StoreObject {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: 'default', uid: name, resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z', generation }, spec: {}, ...(status ? { status } : {}) };
}

test('routeStatus: observedGeneration, lastTransitionTime kept while the status holds, nothing when unchanged, other controllers kept', () => {
  const mesh = [{ parentRef, controllerName: MESH_CONTROLLER, conditions: [{ type: 'Accepted', status: 'True' as const, reason: 'Accepted', message: 'Accepted' }] }];
  const first = routeStatus(routeObj('r'), mesh, 'T1')!;
  assert.deepEqual(first.parents, [{ parentRef, controllerName: MESH_CONTROLLER, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Accepted', observedGeneration: 1, lastTransitionTime: 'T1' }] }]);
  const other: RouteParentStatus = { parentRef: { name: 'gw' } as RouteParentStatus['parentRef'], controllerName: 'example.com/gw', conditions: [] };
  assert.equal(routeStatus(routeObj('r', { parents: [other, ...first.parents] }), mesh, 'T2'), undefined, 'unchanged: no write');
  // A new generation: observedGeneration moves, the transition time stays (still True).
  const g2 = routeStatus(routeObj('r', { parents: [other, ...first.parents] }, 2), mesh, 'T2')!;
  assert.deepEqual(g2.parents[0], other);
  assert.deepEqual([g2.parents[1]!.conditions[0]!.observedGeneration, g2.parents[1]!.conditions[0]!.lastTransitionTime], [2, 'T1']);
  // The status flips: a new transition time.
  const refused = [{ ...mesh[0]!, conditions: [{ type: 'Accepted', status: 'False' as const, reason: 'UnsupportedValue', message: 'x' }] }];
  assert.equal(routeStatus(routeObj('r', g2), refused, 'T3')!.parents[1]!.conditions[0]!.lastTransitionTime, 'T3');
  // No Service parent any more: the mesh's entries go, the others stay.
  assert.deepEqual(routeStatus(routeObj('r', g2), [], 'T4')!.parents, [other]);
});

test('RouteStatusController: writes status.parents through the status path; the shadowed route says so; a missing backend is ResolvedRefs=False', async (t) => {
  const { open } = await kubeStores(t);
  const store = open();
  const log = captureLog();
  await store.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80, protocol: 'TCP' }] } });
  await store.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'v1', namespace: 'default' }, spec: { clusterIP: '10.96.0.11', ports: [{ port: 80, protocol: 'TCP' }] } });
  const route = (name: string, backend: string) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: 'default' }, spec: { parentRefs: [parentRef], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ group: '', kind: 'Service', name: backend, port: 80 }] }] } });
  await store.create(route('a-old', 'v1'));
  await new Promise((r) => setTimeout(r, 1100)); // creationTimestamp has seconds: b is younger
  await store.create(route('b-new', 'missing'));
  const c = new RouteStatusController(store, log);
  await c.start();
  t.after(() => c.stop());
  const parents = async (name: string) => (((await store.get('HTTPRoute', 'default', name))?.status as { parents?: RouteParentStatus[] } | undefined)?.parents ?? []);
  await until('both statuses', async () => (await parents('a-old')).length === 1 && (await parents('b-new')).length === 1, 10_000, 20);
  const a = (await parents('a-old'))[0]!;
  assert.equal(a.controllerName, 'beeline.io/mesh');
  assert.deepEqual(a.conditions.map((x) => `${x.type}=${x.status}/${x.reason}`), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  const b = (await parents('b-new'))[0]!;
  assert.match(b.conditions[0]!.message ?? '', /shadowed by HTTPRoute default\/a-old/);
  assert.deepEqual(`${b.conditions[1]!.type}=${b.conditions[1]!.status}/${b.conditions[1]!.reason}`, 'ResolvedRefs=False/BackendNotFound');
  // Settled: another pass writes nothing.
  const writes = c.writes;
  await c.pass();
  assert.equal(c.writes, writes);
  assert.deepEqual(log.warnings, []);
});
