/**
 * Kubernetes mode against the stateful API test double (test/lib/kube-api.ts)
 * rather than recorded answers: what the store writes is what it reads back,
 * watches and informers see the writes, and the API's rules (conflicts,
 * preconditions, custom resources needing a resourceVersion) apply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreAlreadyExistsError, StoreConflictError, StoreExpiredError } from '../common/errors.js';
import { startKubeApi, type KubeApi } from '../../test/lib/kube-api.js';
import { until } from '../../test/lib/wait.js';
import { openKubernetesStore, type KubernetesStore } from './kubernetes.js';
import type { WatchEvent } from './store.js';

type T = { after: (fn: () => Promise<void> | void) => void };

async function setup(t: T): Promise<{ api: KubeApi; store: KubernetesStore }> {
  const api = await startKubeApi({ bookmarkMs: 100 });
  const store = openKubernetesStore({ kubeconfig: api.kubeconfig, backoff: { initialMs: 20, maxMs: 100 } });
  t.after(async () => {
    await store.close();
    await api.close();
  });
  return { api, store };
}

const pod = (name: string, labels: Record<string, string> = { app: 'web' }) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels },
  spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'nginx' }] },
});
const cnp = (name: string, app: string) => ({
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name, namespace: 'default' },
  spec: { endpointSelector: { matchLabels: { app } } },
});

test('store (Kubernetes mode) against kube-api: create, get, list with selectors, update, status, conflicts, delete', async (t) => {
  const { api, store } = await setup(t);
  const a = await store.create(pod('a'));
  await store.create(pod('b', { app: 'db' }));
  await assert.rejects(store.create(pod('a')), StoreAlreadyExistsError);
  assert.equal((await store.get('Pod', 'default', 'a'))?.metadata.uid, a.metadata.uid);
  const l = await store.list('Pod', { namespace: 'default', labelSelector: 'app=web' });
  assert.deepEqual(
    l.items.map((o) => o.metadata.name),
    ['a'],
  );
  assert.equal(l.resourceVersion, api.resourceVersion());

  const a2 = await store.update({ ...a, spec: { ...(a.spec as object), nodeName: 'node2' } });
  assert.equal((a2.spec as { nodeName: string }).nodeName, 'node2');
  await assert.rejects(store.update(a), StoreConflictError);
  const st = await store.updateStatus({ ...a2, status: { phase: 'Running' } });
  assert.equal((st.status as { phase: string }).phase, 'Running');
  await store.delete('Pod', 'default', 'a');
  assert.equal(await store.get('Pod', 'default', 'a'), undefined);
  assert.equal(api.get('pods', 'default', 'a'), undefined);
  assert.equal(await store.delete('Pod', 'default', 'a', { ignoreNotFound: true }), undefined);
});

// KubernetesStore.call() once wrote a DELETE's DeleteOptions without content-length: the
// server read an empty body and deleted unconditionally (then took the JSON for a request).
test(
  'store (Kubernetes mode) against kube-api: delete with a stale resourceVersion precondition is a conflict and deletes nothing',
  async (t) => {
    const { api, store } = await setup(t);
    const a = await store.create(pod('a'));
    const a2 = await store.update({ ...a, spec: { ...(a.spec as object), nodeName: 'node2' } });
    await assert.rejects(store.delete('Pod', 'default', 'a', { resourceVersion: a.metadata.resourceVersion }), StoreConflictError);
    assert.ok(api.get('pods', 'default', 'a'));
    await store.delete('Pod', 'default', 'a', { resourceVersion: a2.metadata.resourceVersion });
    assert.equal(api.get('pods', 'default', 'a'), undefined);
  },
);

// applyBatch's dry run once carried the current resourceVersion and its write did not:
// the API server refuses an update of a custom resource without one (422).
test(
  'store (Kubernetes mode) against kube-api: applyBatch creates, then updates existing custom resources',
  async (t) => {
  const { api, store } = await setup(t);
  await store.applyBatch([cnp('p1', 'web'), cnp('p2', 'db')]);
  assert.equal(api.get('ciliumnetworkpolicies', 'default', 'p1')?.spec.endpointSelector.matchLabels.app, 'web');
  // Applying the same names again (no resourceVersion in the input, as from a file): updates.
  await store.applyBatch([cnp('p1', 'api'), cnp('p2', 'db')]);
  assert.equal(api.get('ciliumnetworkpolicies', 'default', 'p1')?.spec.endpointSelector.matchLabels.app, 'api');
  },
);

test('store (Kubernetes mode) against kube-api: watch from a resourceVersion, and 410 when compacted', async (t) => {
  const { api, store } = await setup(t);
  await store.create(pod('a'));
  const from = api.resourceVersion();
  await store.create(pod('b'));
  const w = store.watch('Pod', { namespace: 'default', resourceVersion: from });
  const got: WatchEvent[] = [];
  const it = w[Symbol.asyncIterator]();
  t.after(() => w.close());
  got.push((await it.next()).value as WatchEvent);
  assert.deepEqual([got[0].type, got[0].object.metadata.name], ['ADDED', 'b']);
  await store.delete('Pod', 'default', 'a');
  let ev = (await it.next()).value as WatchEvent;
  while (ev.type === 'BOOKMARK') ev = (await it.next()).value as WatchEvent;
  assert.deepEqual([ev.type, ev.object.metadata.name], ['DELETED', 'a']);

  api.compact();
  const old = store.watch('Pod', { namespace: 'default', resourceVersion: from });
  t.after(() => old.close());
  await assert.rejects(old[Symbol.asyncIterator]().next(), StoreExpiredError);
});

test('store (Kubernetes mode) against kube-api: the informer follows writes and relists after a 410', async (t) => {
  const { api, store } = await setup(t);
  await store.create(pod('a'));
  const inf = store.informer('Pod', { namespace: 'default' });
  await inf.start();
  t.after(() => inf.stop());
  const names = () =>
    inf
      .list()
      .map((o) => o.metadata.name)
      .sort()
      .join();
  assert.equal(names(), 'a');
  await store.create(pod('b'));
  await until('b in the informer', () => names() === 'a,b', 5000, 20);
  await until('the informer to watch', () => api.openWatches() === 1, 5000, 20);
  await inf.stop();
  await store.delete('Pod', 'default', 'a');
  await store.create(pod('c'));
  api.compact();
  await inf.start();
  await until('the informer to relist to b,c', () => names() === 'b,c', 5000, 20);
});
