/**
 * Kubernetes mode's identities and ipcache (src/identity/crd.ts) against the
 * stateful API test double (test/lib/kube-api.ts), through the store's
 * Kubernetes mode: allocation races, what a second allocator learns, the
 * identity GC with a fake clock, the ipcache across two nodes, and malformed
 * objects skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpcacheInvalidError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { captureLog, kubeStores } from '../../test/lib/kube-stores.js';
import { until } from '../../test/lib/wait.js';
import type { Store } from '../store/store.js';
import { laggyStore } from '../../test/lib/laggy-store.js';
import type { IdentityEvent } from './allocator.js';
import { CrdIdentityAllocator, CrdIdentityGarbageCollector, CrdIpcache } from './crd.js';
import type { IpcacheEvent } from './ipcache.js';
import { RESERVED_IDENTITIES } from './reserved.js';

type T = { after: (fn: () => Promise<void> | void) => void };



const set = (app: string) => [`k8s:app=${app}`, 'k8s:io.kubernetes.pod.namespace=default'];

async function allocator(t: T, open: () => Store, node: string, log?: Logger): Promise<CrdIdentityAllocator> {
  const a = new CrdIdentityAllocator(open(), { node, minId: 300, maxId: 400, log });
  await a.start();
  t.after(() => a.stop());
  return a;
}

test('CrdIdentityAllocator: allocators racing for the same and for different label sets get one number per set', async (t) => {
  const { api, open } = await kubeStores(t);
  const allocs = await Promise.all(['node1', 'node2', 'node3'].map((n) => allocator(t, () => laggyStore(open(), 300), n)));
  for (let round = 0; round < 3; round++) {
    const apps = [`web${round}`, `db${round}`, `cache${round}`, `api${round}`];
    // Every allocator asks for every set at once, in a different order.
    const got = await Promise.all(allocs.map((a, i) => Promise.all(apps.map((_, j) => apps[(i + j) % apps.length]!).map(async (app) => ({ app, id: (await a.acquire(set(app))).id })))));
    const byApp = new Map<string, Set<number>>();
    for (const r of got.flat()) byApp.set(r.app, (byApp.get(r.app) ?? new Set()).add(r.id));
    for (const [app, ids] of byApp) assert.equal(ids.size, 1, `${app}: one number, got ${[...ids]}`);
    const numbers = [...byApp.values()].map((s) => [...s][0]!);
    assert.equal(new Set(numbers).size, apps.length, 'different sets, different numbers');
    for (const n of numbers) assert.ok(n >= 300 && n <= 400);
  }
  // Exactly one object per set in the API: no duplicate created by a lost race.
  const objs = await open().list('BeelineIdentity');
  assert.equal(objs.items.length, 12);
  assert.equal(new Set(objs.items.map((o) => JSON.stringify(o.securityLabels))).size, 12);
  const stats = allocs.map((a) => a.stats);
  assert.equal(stats.reduce((n, s) => n + s.allocated, 0), 12, 'each identity created once');
  assert.ok(api.get('beelineidentities.beeline.io', undefined, String(objs.items[0]!.metadata.name)));
});

test('CrdIdentityAllocator: a second allocator learns identities; references are counted locally; reserved sets touch nothing', async (t) => {
  const { api, open } = await kubeStores(t);
  const a = await allocator(t, open, 'node1');
  const web = await a.acquire(set('web'));
  assert.equal(web.id, 300);
  assert.equal((await a.acquire(set('web'))).id, 300);
  assert.deepEqual([...a.references()], [[300, 2]]);
  assert.equal(await a.release(set('web')), false);
  assert.equal(await a.release(set('web')), true);
  assert.deepEqual([...a.references()], []);
  // Released locally only: the identity stays for the GC to judge.
  assert.ok(api.get('beelineidentities', undefined, '300'));
  assert.deepEqual(api.get('beelineidentities', undefined, '300')!.securityLabels, ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=default']);

  const b = await allocator(t, open, 'node2');
  assert.deepEqual(b.lookup(300)?.labels.map((l) => l.key), ['app', 'io.kubernetes.pod.namespace']);
  assert.equal(b.lookupByLabels(set('web'))?.id, 300);
  const events: IdentityEvent[] = [];
  b.onChange((e) => events.push(e));
  const db = await a.acquire(set('db'));
  await until('node2 to learn db', () => b.lookup(db.id), 5000, 20);
  assert.deepEqual(events.map((e) => `${e.type} ${e.identity.id}`), [`upsert ${db.id}`]);
  assert.deepEqual(b.list().map((i) => i.id), [...RESERVED_IDENTITIES.map((i) => i.id), 300, db.id]);
  assert.equal(b.lookup(1)?.labels[0]?.key, 'host');
  // The second allocator reuses the number without creating anything.
  const before = api.requests.filter((r) => r.method === 'POST').length;
  assert.equal((await b.acquire(set('db'))).id, db.id);
  assert.equal(api.requests.filter((r) => r.method === 'POST').length, before);
  assert.equal((await b.acquire(['reserved:host'])).id, 1);
  // A deletion reaches everyone.
  await open().delete('BeelineIdentity', undefined, '300');
  await until('node2 to forget 300', () => !b.lookup(300), 5000, 20);
  assert.deepEqual(events.at(-1), { type: 'delete', identity: { id: 300, labels: web.labels } });
});

test('CrdIdentityAllocator: an identity in use that is deleted is created again under its number', async (t) => {
  const { api, open } = await kubeStores(t);
  const a = await allocator(t, open, 'node1');
  const web = await a.acquire(set('web'));
  await until('node1 to see its identity', () => a.lookup(web.id), 5000, 20);
  await open().delete('BeelineIdentity', undefined, String(web.id));
  await until('the identity to be back', () => api.get('beelineidentities', undefined, String(web.id)), 5000, 20);
  assert.deepEqual(api.get('beelineidentities', undefined, String(web.id))!.securityLabels, ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=default']);
});

test('CrdIdentityAllocator: malformed BeelineIdentities are logged and skipped; their numbers are not reused', async (t) => {
  const { api, open } = await kubeStores(t);
  api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: '300' }, securityLabels: 'k8s:app=web' });
  api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: 'web' }, securityLabels: ['k8s:app=web'] });
  api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: '301' }, securityLabels: ['=x'] });
  api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: '302' }, securityLabels: ['k8s:app=db'] });
  const log = captureLog();
  const a = await allocator(t, open, 'node1', log);
  assert.deepEqual(a.list().filter((i) => i.id >= 256).map((i) => i.id), [302]);
  assert.equal(log.warnings.filter((w) => w.startsWith('ignoring malformed identity')).length, 3);
  assert.match(log.warnings.join('\n'), /"name":"300".*securityLabels is not a non-empty list/);
  const web = await a.acquire(set('web'));
  assert.equal(web.id, 303, 'past the malformed ones and the taken one');
  // A valid object turning malformed is a deletion as far as the allocator can tell.
  const obj = await open().get('BeelineIdentity', undefined, '302');
  await open().update({ ...obj!, securityLabels: [] });
  await until('302 dropped', () => !a.lookup(302), 5000, 20);
});

test('CrdIdentityGarbageCollector: deletes identities no endpoint references after the grace, not one re-referenced meanwhile', async (t) => {
  const { api, open } = await kubeStores(t);
  const store = open();
  const id = (n: number, app: string) => ({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: String(n) }, securityLabels: [`k8s:app=${app}`] });
  const ep = (name: string, identity: number) => ({
    apiVersion: 'beeline.io/v1alpha1',
    kind: 'BeelineEndpoint',
    metadata: { name, namespace: 'default' },
    spec: { identity, ipv4: '10.0.0.5', node: 'node1', hostIP: '172.18.0.11' },
  });
  for (const [n, app] of [[300, 'used'], [301, 'unused'], [302, 'later'], [303, 'replaced']] as const) await store.create(id(n, app));
  await store.create(ep('a', 300));
  api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: 'junk' }, securityLabels: 7 });
  api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineEndpoint', metadata: { name: 'bad', namespace: 'default' }, spec: { identity: 'x' } });
  let clock = 1_000_000;
  const log = captureLog();
  const gc = new CrdIdentityGarbageCollector(open(), { graceMs: 60_000, now: () => clock, log });
  t.after(() => gc.stop());

  assert.deepEqual(await gc.run(), { deleted: [], pending: [301, 302, 303] });
  // 302 gets a reference, 303 is deleted and its number reused, within the grace.
  clock += 30_000;
  await store.create(ep('b', 302));
  await store.delete('BeelineIdentity', undefined, '303');
  await store.create(id(303, 'reused'));
  await until('the GC to see both', async () => {
    const r = await gc.run();
    return !r.pending.includes(302) && r.pending.includes(303);
  }, 5000, 20);
  clock += 30_000;
  const r = await gc.run();
  assert.deepEqual(r.deleted, [301]);
  assert.deepEqual(r.pending, [303], '303 is new: its clock started again');
  assert.equal(api.get('beelineidentities', undefined, '301'), undefined);
  for (const n of ['300', '302', '303', 'junk']) assert.ok(api.get('beelineidentities', undefined, n), `${n} kept`);
  assert.equal(log.warnings.filter((w) => w.includes('malformed')).length, 1, 'a malformed identity is logged once');

  // The reference goes: 302 is deleted only a grace after that.
  await store.delete('BeelineEndpoint', 'default', 'b');
  await until('the GC to see 302 unreferenced', async () => (await gc.run()).pending.includes(302), 5000, 20);
  assert.ok(api.get('beelineidentities', undefined, '302'));
  clock += 60_000;
  assert.deepEqual((await gc.run()).deleted.sort(), [302, 303]);
});

test('CrdIdentityGarbageCollector: a racing re-use of the number wins (the delete carries the resourceVersion seen)', async (t) => {
  const { api, open } = await kubeStores(t);
  const store = open();
  await store.create({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: '300' }, securityLabels: ['k8s:app=a'] });
  let clock = 0;
  // A store whose delete first lets the identity be replaced, as a racing allocator would.
  const gcStore = open();
  const realDelete = gcStore.delete.bind(gcStore);
  gcStore.delete = async (kind, ns, name, opts) => {
    await store.delete('BeelineIdentity', undefined, '300');
    await store.create({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: '300' }, securityLabels: ['k8s:app=b'] });
    return realDelete(kind, ns, name, opts);
  };
  const gc = new CrdIdentityGarbageCollector(gcStore, { graceMs: 10, now: () => clock });
  t.after(() => gc.stop());
  await gc.run();
  clock += 10;
  assert.deepEqual(await gc.run(), { deleted: [], pending: [] });
  assert.deepEqual(api.get('beelineidentities', undefined, '300')!.securityLabels, ['k8s:app=b']);
});

test("CrdIpcache: entries are seen by another node's ipcache; a delete of someone else's entry is refused", async (t) => {
  const { api, open } = await kubeStores(t);
  const n1 = new CrdIpcache(open(), { node: 'node1' });
  const n2 = new CrdIpcache(open(), { node: 'node2' });
  await n1.start();
  await n2.start();
  t.after(() => n1.stop({ revoke: false }));
  t.after(() => n2.stop({ revoke: false }));
  const events: IpcacheEvent[] = [];
  n2.onChange((e) => events.push(e));

  await n1.upsert({ prefix: '10.0.0.5', identity: 300, hostIP: '172.18.0.11', pod: { namespace: 'default', name: 'a' }, endpointID: 12 });
  await until('node2 to see 10.0.0.5', () => n2.entries().length === 1, 5000, 20);
  assert.deepEqual(n2.entries(), [{ prefix: '10.0.0.5', identity: 300, hostIP: '172.18.0.11', encryptKey: 0, owner: 'node1' }]);
  assert.deepEqual(api.get('beelineendpoints', 'default', 'a')!.spec, { identity: 300, ipv4: '10.0.0.5', node: 'node1', hostIP: '172.18.0.11', endpointID: 12 });

  // Mutual authentication required (its ingress policy): published with the entry, and withdrawn.
  await n1.upsert({ prefix: '10.0.0.5', identity: 300, hostIP: '172.18.0.11', pod: { namespace: 'default', name: 'a' }, endpointID: 12, authRequired: true });
  await until('node2 to see authRequired', () => n2.entries()[0]?.authRequired === true, 5000, 20);
  assert.equal(api.get('beelineendpoints', 'default', 'a')!.spec.authRequired, true);

  // Update in place (the pod's identity changed; no authentication any more).
  await n1.upsert({ prefix: '10.0.0.5/32', identity: 301, hostIP: '172.18.0.11', pod: { namespace: 'default', name: 'a' }, endpointID: 12 });
  await until('node2 to see the new identity', () => n2.entries()[0]?.identity === 301, 5000, 20);
  assert.equal(n2.entries()[0]?.authRequired, undefined);
  assert.equal('authRequired' in api.get('beelineendpoints', 'default', 'a')!.spec, false);

  // Not node2's: refused, nothing deleted.
  assert.equal(await n2.delete('10.0.0.5'), false);
  assert.ok(api.get('beelineendpoints', 'default', 'a'));

  // The pod moved to node2 (same name, new address): node1's delete of the old address takes nothing.
  await n2.upsert({ prefix: '10.0.1.9', identity: 301, hostIP: '172.18.0.12', pod: { namespace: 'default', name: 'a' } });
  assert.equal(await n1.delete('10.0.0.5'), false);
  assert.equal(api.get('beelineendpoints', 'default', 'a')!.spec.node, 'node2');
  await until('node2 to see the move', () => n2.entries().map((e) => e.prefix).join() === '10.0.1.9', 5000, 20);

  // Its own entry: deleted, and everyone sees it go.
  await n1.upsert({ prefix: '10.0.0.7', identity: 300, hostIP: '172.18.0.11', pod: { namespace: 'default', name: 'b' } });
  await until('node2 to see 10.0.0.7', () => n2.entries().some((e) => e.prefix === '10.0.0.7'), 5000, 20);
  assert.equal(await n1.delete('10.0.0.7'), true);
  assert.equal(api.get('beelineendpoints', 'default', 'b'), undefined);
  await until('node2 to see it go', () => !n2.entries().some((e) => e.prefix === '10.0.0.7'), 5000, 20);
  assert.deepEqual(events.filter((e) => e.entry.prefix === '10.0.0.7').map((e) => e.type), ['upsert', 'delete']);
  assert.equal(await n1.delete('10.0.0.7'), false, 'twice: nothing left');

  // Kubernetes mode needs the pod: it names the object.
  await assert.rejects(n1.upsert({ prefix: '10.0.0.8', identity: 300, hostIP: '172.18.0.11' }), IpcacheInvalidError);
  await assert.rejects(n1.upsert({ prefix: '10.0.0.0/24', identity: 300, hostIP: '172.18.0.11', pod: { namespace: 'default', name: 'c' } }), IpcacheInvalidError);
});

test('CrdIpcache: after a restart a node deletes its own entries found in the cache; stop() without revoke: false deletes its entries', async (t) => {
  const { api, open } = await kubeStores(t);
  const before = new CrdIpcache(open(), { node: 'node1' });
  await before.start();
  await before.upsert({ prefix: '10.0.0.5', identity: 300, hostIP: '172.18.0.11', pod: { namespace: 'default', name: 'a' } });
  await before.upsert({ prefix: '10.0.0.6', identity: 300, hostIP: '172.18.0.11', pod: { namespace: 'default', name: 'b' } });
  await before.stop({ revoke: false });
  assert.ok(api.get('beelineendpoints', 'default', 'a'));

  const after = new CrdIpcache(open(), { node: 'node1' });
  await after.start();
  assert.equal(after.entries().length, 2);
  assert.equal(await after.delete('10.0.0.5'), true);
  assert.equal(api.get('beelineendpoints', 'default', 'a'), undefined);
  await after.upsert({ prefix: '10.0.0.7', identity: 300, hostIP: '172.18.0.11', pod: { namespace: 'default', name: 'c' } });
  await after.stop();
  assert.equal(api.get('beelineendpoints', 'default', 'c'), undefined, 'written by this run: deleted at stop');
});

test('CrdIpcache: malformed BeelineEndpoints are logged and skipped; two objects with one address show the later one', async (t) => {
  const { api, open } = await kubeStores(t);
  const ep = (name: string, spec: unknown) => ({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineEndpoint', metadata: { name, namespace: 'default' }, spec });
  api.seed(ep('bad-ip', { identity: 300, ipv4: '10.0.0', node: 'node1', hostIP: '172.18.0.11' }));
  api.seed(ep('bad-id', { identity: 'web', ipv4: '10.0.0.2', node: 'node1', hostIP: '172.18.0.11' }));
  api.seed(ep('bad-node', { identity: 300, ipv4: '10.0.0.3', node: 'Node 1', hostIP: '172.18.0.11' }));
  api.seed(ep('no-spec', undefined));
  api.seed(ep('old', { identity: 300, ipv4: '10.0.0.9', node: 'node1', hostIP: '172.18.0.11' }));
  const log = captureLog();
  const c = new CrdIpcache(open(), { node: 'node2', log });
  await c.start();
  t.after(() => c.stop({ revoke: false }));
  assert.deepEqual(c.entries().map((e) => `${e.prefix} ${e.identity}`), ['10.0.0.9 300']);
  assert.equal(log.warnings.filter((w) => w.startsWith('ignoring malformed ipcache entry')).length, 4);
  // A new pod has the address while the old pod's object lingers: the later one shows, and the old one when it goes.
  const store = open();
  await store.create(ep('new', { identity: 301, ipv4: '10.0.0.9', node: 'node2', hostIP: '172.18.0.12' }));
  await until('the new pod to show', () => c.entries()[0]?.identity === 301, 5000, 20);
  await store.delete('BeelineEndpoint', 'default', 'old');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(c.entries().map((e) => `${e.prefix} ${e.identity} ${e.owner}`), ['10.0.0.9 301 node2']);
  await store.delete('BeelineEndpoint', 'default', 'new');
  await until('none left', () => c.entries().length === 0, 5000, 20);
});
