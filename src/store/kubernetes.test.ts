/**
 * Kubernetes mode against recorded API responses (test/lib/fake-apiserver.ts),
 * not a live API server: list, watch streams with bookmarks, a stream that
 * ends and resumes, 410 Gone (as an ERROR event and as an HTTP status) forcing
 * a relist; the informer's cache must end exactly right.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreAlreadyExistsError, StoreConflictError, StoreExpiredError, StoreInvalidError } from '../common/errors.js';
import { startFakeApiServer, GONE_EVENT, GONE_STATUS, type FakeApiServer } from '../../test/lib/fake-apiserver.js';
import { openKubernetesStore, restPath } from './kubernetes.js';
import { kindInfo, type StoreObject, type WatchEvent } from './store.js';

type T = { after: (fn: () => Promise<void>) => void };

async function fake(t: T): Promise<FakeApiServer> {
  const s = await startFakeApiServer();
  t.after(() => s.close());
  return s;
}

/** A Pod as the API server returns it (trimmed), at resourceVersion `rv`. */
function recPod(name: string, rv: string, extra: Record<string, unknown> = {}) {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      resourceVersion: rv,
      creationTimestamp: '2024-05-01T10:00:00Z',
      labels: { app: 'web' },
    },
    spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'nginx' }] },
    status: { phase: 'Running', podIP: `10.0.1.${rv.length}` },
    ...extra,
  };
}
const podList = (rv: string, items: unknown[]) => ({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: rv }, items });
const ev = (type: string, object: unknown) => ({ type, object: { kind: 'Pod', apiVersion: 'v1', ...(object as object) } });
const bookmark = (rv: string) => ({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: rv } } });

const state = (objs: StoreObject[]) => objs.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();

test('rest paths for core, grouped and custom kinds', () => {
  assert.equal(restPath(kindInfo('Pod'), 'default', 'a'), '/api/v1/namespaces/default/pods/a');
  assert.equal(restPath(kindInfo('Pod')), '/api/v1/pods');
  assert.equal(restPath(kindInfo('Node'), undefined, 'n1'), '/api/v1/nodes/n1');
  assert.equal(restPath(kindInfo('EndpointSlice'), 'kube-system'), '/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices');
  assert.equal(restPath(kindInfo('NetworkPolicy'), 'x'), '/apis/networking.k8s.io/v1/namespaces/x/networkpolicies');
  assert.equal(restPath(kindInfo('CiliumNetworkPolicy'), 'x', 'p'), '/apis/cilium.io/v2/namespaces/x/ciliumnetworkpolicies/p');
  assert.equal(restPath(kindInfo('CiliumClusterwideNetworkPolicy'), undefined, 'p'), '/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies/p');
});

test('kubernetes informer: list, watch, bookmark, 410 as an event and as a status → relists; the cache ends exactly right', { timeout: 30_000 }, async (t) => {
  const api = await fake(t);
  const P = '/api/v1/pods';
  api.script(
    `GET ${P}`,
    { body: podList('100', [recPod('a', '90'), recPod('b', '95')]) },
    // Relist after the 410 ERROR event: b is gone, a changed, d is new.
    { body: podList('200', [recPod('a', '150'), recPod('c', '101'), recPod('d', '180')]) },
    // Relist after the HTTP 410.
    { body: podList('300', [recPod('a', '150'), recPod('d', '180'), recPod('e', '202'), recPod('f', '290')]) },
  );
  api.script(
    `WATCH ${P}`,
    // From the first list: changes, a bookmark, then the server ends the stream (its timeout).
    { events: [ev('ADDED', recPod('c', '101')), ev('MODIFIED', recPod('a', '102')), bookmark('105')] },
    // Resumed from the bookmark: the history is gone.
    { events: [GONE_EVENT] },
    // From the second list.
    { events: [ev('DELETED', recPod('c', '201')), ev('ADDED', recPod('e', '202'))] },
    // Resumed from 202: too old, as an HTTP status.
    GONE_STATUS,
    // From the third list: one more change, then held open.
    { events: [ev('MODIFIED', recPod('f', '301', { status: { phase: 'Succeeded' } }))], hold: true },
  );
  const store = openKubernetesStore({ kubeconfig: api.kubeconfig, backoff: { initialMs: 20, maxMs: 100 } });
  const inf = store.informer('Pod');
  const log: string[] = [];
  inf.on('add', (o) => log.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`));
  inf.on('update', (o, old) => log.push(`update ${o.metadata.name}@${old.metadata.resourceVersion}->${o.metadata.resourceVersion}`));
  inf.on('delete', (o) => log.push(`delete ${o.metadata.name}`));
  await inf.start();
  await inf.waitForSync();
  assert.ok(inf.hasSynced());
  await api.waitFor(`WATCH ${P}`, 5);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && inf.get('default', 'f')?.metadata.resourceVersion !== '301') await new Promise((r) => setTimeout(r, 20));
  await inf.stop();

  assert.deepEqual(state(inf.list()), ['a@150', 'd@180', 'e@202', 'f@301']);
  assert.equal(inf.get('default', 'a')?.kind, 'Pod', 'list items get their kind');
  assert.deepEqual(inf.get('default', 'f')?.status, { phase: 'Succeeded' });
  assert.deepEqual(log, [
    'add a@90',
    'add b@95',
    'add c@101',
    'update a@90->102',
    // relist at 200
    'delete b',
    'update a@102->150',
    'add d@180',
    'delete c',
    'add e@202',
    // relist at 300
    'add f@290',
    'update f@290->301',
  ]);
  const watches = api.requests.filter((r) => r.query.watch === 'true').map((r) => r.query.resourceVersion);
  assert.deepEqual(watches, ['100', '105', '200', '202', '300'], 'each watch starts where the last list or event left off');
  assert.equal(api.requests.filter((r) => r.method === 'GET' && r.query.watch !== 'true').length, 3);
});

test('kubernetes watch: resumes after the stream ends, passes bookmarks, ends with Expired on 410', { timeout: 30_000 }, async (t) => {
  const api = await fake(t);
  const P = '/apis/cilium.io/v2/namespaces/default/ciliumnetworkpolicies';
  const cnp = (name: string, rv: string) => ({ kind: 'CiliumNetworkPolicy', apiVersion: 'cilium.io/v2', metadata: { name, namespace: 'default', uid: name, resourceVersion: rv, creationTimestamp: '2024-05-01T10:00:00Z' }, spec: {} });
  api.script(
    `WATCH ${P}`,
    { events: [{ type: 'ADDED', object: cnp('p1', '11') }, { type: 'BOOKMARK', object: { kind: 'CiliumNetworkPolicy', apiVersion: 'cilium.io/v2', metadata: { resourceVersion: '15' } } }] },
    { events: [{ type: 'MODIFIED', object: cnp('p1', '16') }, { type: 'DELETED', object: cnp('p1', '17') }] },
    GONE_STATUS,
  );
  const store = openKubernetesStore({ kubeconfig: api.kubeconfig, backoff: { initialMs: 20, maxMs: 100 } });
  const w = store.watch('CiliumNetworkPolicy', { namespace: 'default', resourceVersion: '10' });
  const got: WatchEvent[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of w) got.push(e);
    })(),
    StoreExpiredError,
  );
  assert.deepEqual(
    got.map((e) => `${e.type} ${e.object.metadata.name ?? ''}@${e.object.metadata.resourceVersion}`),
    ['ADDED p1@11', 'BOOKMARK @15', 'MODIFIED p1@16', 'DELETED p1@17'],
  );
  assert.deepEqual(api.requests.map((r) => r.query.resourceVersion), ['10', '15', '17']);
  assert.ok(api.requests.every((r) => r.query.allowWatchBookmarks === 'true'));

  // 410 as an in-stream ERROR event ends the watch the same way.
  api.script(`WATCH ${P}`, { events: [GONE_EVENT] });
  await assert.rejects(
    (async () => {
      for await (const _ of store.watch('CiliumNetworkPolicy', { namespace: 'default', resourceVersion: '1' })) void _;
    })(),
    StoreExpiredError,
  );
});

test('kubernetes reads and writes map API answers to store errors', { timeout: 30_000 }, async (t) => {
  const api = await fake(t);
  const store = openKubernetesStore({ kubeconfig: api.kubeconfig });
  api.script('GET /api/v1/namespaces/default/pods', { body: podList('7', [recPod('a', '5')]) });
  const l = await store.list('Pod', { namespace: 'default', labelSelector: 'app=web' });
  assert.equal(l.resourceVersion, '7');
  assert.equal(l.items[0]!.kind, 'Pod');
  assert.equal(api.requests.at(-1)!.query.labelSelector, 'app=web');
  assert.equal(await store.get('Pod', 'default', 'missing'), undefined);

  const input = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'default', resourceVersion: '5' }, spec: {} };
  api.script('POST /api/v1/namespaces/default/pods', { status: 409, body: { kind: 'Status', reason: 'AlreadyExists', code: 409, message: 'pods "a" already exists' } });
  await assert.rejects(store.create(input), StoreAlreadyExistsError);
  api.script('PUT /api/v1/namespaces/default/pods/a', {
    status: 409,
    body: { kind: 'Status', reason: 'Conflict', code: 409, message: 'Operation cannot be fulfilled on pods "a": the object has been modified' },
  });
  await assert.rejects(store.update(input), (e: unknown) => e instanceof StoreConflictError && /has been modified/.test(e.message));
  api.script('PUT /api/v1/namespaces/default/pods/a/status', { body: recPod('a', '6') });
  assert.equal((await store.updateStatus(input)).metadata.resourceVersion, '6');
  assert.deepEqual(api.requests.at(-1)!.body, input);
});

test("openKubernetesStore: 'in-cluster' is the pod's service account; outside a pod it says so", () => {
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  try {
    delete process.env.KUBERNETES_SERVICE_HOST;
    assert.throws(() => openKubernetesStore({ kubeconfig: 'in-cluster' }), (e: unknown) => e instanceof StoreInvalidError && /KUBERNETES_SERVICE_HOST/.test(e.message));
    process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    const s = openKubernetesStore({ kubeconfig: 'in-cluster' });
    assert.equal(s.kubeConfig.getCurrentCluster()?.server, 'https://10.96.0.1:443');
    assert.equal(s.kubeConfig.getCurrentCluster()?.caFile, '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
  } finally {
    for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
