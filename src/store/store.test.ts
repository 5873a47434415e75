import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreExpiredError, StoreInvalidError, StoreUnavailableError } from '../common/errors.js';
import {
  EventQueue,
  RevisionDedup,
  StoreInformer,
  diffSnapshot,
  checkIdentity,
  kindInfo,
  matchesSelector,
  parseLabelSelector,
  parseResourceKey,
  resourceKey,
  resourcePrefix,
  type ListResult,
  type StoreObject,
  type StoreWatch,
  type WatchEvent,
  type WatchOptions,
} from './store.js';
import { resolveKind } from '../k8s/kinds.js';

test('key layout: /beeline/v1/resources/<group>/<kind>/<namespace>/<name>', () => {
  assert.equal(resourceKey('Pod', 'default', 'web-1'), '/beeline/v1/resources/core/Pod/default/web-1');
  assert.equal(resourceKey('Node', undefined, 'node1'), '/beeline/v1/resources/core/Node/_/node1');
  assert.equal(resourceKey('EndpointSlice', 'kube-system', 'kube-dns-x'), '/beeline/v1/resources/discovery.k8s.io/EndpointSlice/kube-system/kube-dns-x');
  assert.equal(resourceKey('CiliumClusterwideNetworkPolicy', undefined, 'p'), '/beeline/v1/resources/cilium.io/CiliumClusterwideNetworkPolicy/_/p');
  assert.equal(resourcePrefix('Pod'), '/beeline/v1/resources/core/Pod/');
  assert.equal(resourcePrefix('Pod', 'default'), '/beeline/v1/resources/core/Pod/default/');
  assert.equal(resourcePrefix('Namespace'), '/beeline/v1/resources/core/Namespace/_/');
  // A namespace that is a prefix of another does not leak into its listing.
  assert.ok(!resourceKey('Pod', 'default2', 'a').startsWith(resourcePrefix('Pod', 'default')));
  assert.deepEqual(parseResourceKey('/beeline/v1/resources/core/Node/_/node1'), { group: '', kind: 'Node', namespace: undefined, name: 'node1' });
  assert.deepEqual(parseResourceKey(resourceKey('CiliumNetworkPolicy', 'x', 'p')), { group: 'cilium.io', kind: 'CiliumNetworkPolicy', namespace: 'x', name: 'p' });
  assert.equal(parseResourceKey('/beeline/v1/nodes/node1'), undefined);
  assert.throws(() => resourceKey('Pod', undefined, 'a'), StoreInvalidError);
  assert.throws(() => resourceKey('Node', 'default', 'a'), StoreInvalidError);
  assert.throws(() => resourceKey('Gizmo', 'default', 'a'), /unknown kind "Gizmo"/);
});

test('kinds: the store and kubectl-style names read one registry; store-only kinds stay out of manifests', () => {
  assert.equal(kindInfo('Pod'), resolveKind('po'));
  assert.equal(kindInfo('CiliumNetworkPolicy'), resolveKind('cnp.cilium.io'));
  assert.equal(kindInfo('Deployment').group, 'apps');
  assert.equal(kindInfo('Lease').apiVersion, 'coordination.k8s.io/v1');
  assert.equal(kindInfo('BeelineNode').namespaced, false);
  for (const k of ['ConfigMap', 'Lease', 'BeelineIdentity', 'BeelineEndpoint', 'BeelineNode']) {
    assert.equal(kindInfo(k).storeOnly, true, k);
    assert.equal(resolveKind(k), undefined, k);
  }
});

test('checkIdentity names the object and the field', () => {
  assert.equal(checkIdentity({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'n' } }).plural, 'pods');
  assert.throws(() => checkIdentity({ apiVersion: 'v2', kind: 'Pod', metadata: { name: 'a', namespace: 'n' } }), /Pod n\/a: apiVersion: must be v1/);
  assert.throws(() => checkIdentity({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'A', namespace: 'n' } }), /metadata\.name/);
  assert.throws(() => checkIdentity({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' } }), /metadata\.namespace: required/);
  assert.throws(() => checkIdentity({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'a', namespace: 'n' } }), /cluster-scoped/);
});

test('label selectors: equality, sets, existence; bad ones say where', () => {
  const l = { app: 'web', tier: 'fe', 'k8s.io/role': 'x' };
  const m = (s: string, labels: Record<string, string> | undefined = l) => matchesSelector(parseLabelSelector(s), labels);
  assert.ok(m(''));
  assert.ok(m('app=web'));
  assert.ok(m('app==web,tier=fe'));
  assert.ok(!m('app=db'));
  assert.ok(m('app!=db'));
  assert.ok(m('missing!=x'));
  assert.ok(m('app in (db, web)'));
  assert.ok(!m('app notin (db,web)'));
  assert.ok(m('missing notin (a)'));
  assert.ok(m('k8s.io/role'));
  assert.ok(!m('!k8s.io/role'));
  assert.ok(m('!canary'));
  assert.ok(!m('app', {}));
  assert.ok(!matchesSelector(parseLabelSelector('app'), undefined));
  assert.ok(m('tier in (fe),app'));
  assert.throws(() => parseLabelSelector('app in (web'), /unbalanced/);
  assert.throws(() => parseLabelSelector('app=we b'), /cannot parse "app=we b"/);
  assert.throws(() => parseLabelSelector('app in (a b)'), StoreInvalidError);
});

test('event dedup: a resumed watch repeats nothing and misses nothing', () => {
  const d = new RevisionDedup(10); // listed at 10
  assert.equal(d.resumeRevision(), 11);
  assert.ok(!d.accept(10, 'a'), 'in the list already');
  assert.ok(d.accept(11, 'a'));
  assert.ok(d.accept(12, 'a'));
  assert.ok(d.accept(12, 'b'), 'same revision, another key (one transaction)');
  // The connection drops mid-revision 12: resume at 12, not 13.
  assert.equal(d.resumeRevision(), 12);
  assert.ok(!d.accept(11, 'a'));
  assert.ok(!d.accept(12, 'a'));
  assert.ok(!d.accept(12, 'b'));
  assert.ok(d.accept(12, 'c'), 'the rest of revision 12');
  d.settle(12);
  assert.equal(d.resumeRevision(), 13);
  assert.ok(!d.accept(12, 'd'));
  d.settle(20); // a progress notification
  assert.equal(d.resumeRevision(), 21);
  assert.ok(!d.accept(19, 'x'));
  assert.ok(d.accept(21, 'x'));
});

test('event queue: buffered, awaited, failed, ended', async () => {
  let closed = 0;
  const q = new EventQueue(() => closed++);
  const ev = (n: string): WatchEvent => ({ type: 'ADDED', object: obj(n, '1') });
  q.push(ev('a'));
  const it = q[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.object.metadata.name, 'a');
  const pending = it.next();
  q.push(ev('b'));
  assert.equal((await pending).value?.object.metadata.name, 'b');
  const failing = it.next();
  q.fail(new StoreExpiredError('gone'));
  await assert.rejects(failing, StoreExpiredError);
  assert.equal(closed, 1);
  const q2 = new EventQueue(() => closed++);
  const it2 = q2[Symbol.asyncIterator]();
  const p2 = it2.next();
  q2.end();
  assert.equal((await p2).done, true);
  assert.equal(closed, 2);
});

function obj(name: string, rv: string, labels?: Record<string, string>): StoreObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: name, resourceVersion: rv, creationTimestamp: '', ...(labels ? { labels } : {}) } };
}

/** A scripted store: each list and each watch answers the next scripted item. */
function scripted(lists: ListResult[], watches: (WatchEvent[] | Error)[]) {
  const seen: WatchOptions[] = [];
  return {
    seen,
    list: async (): Promise<ListResult> => {
      const l = lists.shift();
      if (!l) throw new Error('no more lists');
      return l;
    },
    watch: (_kind: string, o: WatchOptions = {}): StoreWatch => {
      seen.push(o);
      const q = new EventQueue(() => undefined);
      const next = watches.shift();
      setImmediate(() => {
        if (next === undefined) return; // idle
        if (next instanceof Error) return q.fail(next);
        next.forEach((e) => q.push(e));
        q.fail(new StoreUnavailableError('connection lost'));
      });
      return Object.assign(q, { close: () => q.end() });
    },
  };
}

test('informer: list, watch from its version, retry on errors, relist on Expired; cache converges', async () => {
  const src = scripted(
    [
      { items: [obj('a', '5'), obj('b', '6')], resourceVersion: '10' },
      { items: [obj('a', '12'), obj('c', '11'), obj('d', '20')], resourceVersion: '20' },
    ],
    [
      [{ type: 'ADDED', object: obj('c', '11') }, { type: 'BOOKMARK', object: obj('', '15') }],
      [{ type: 'MODIFIED', object: obj('a', '12') }, { type: 'MODIFIED', object: obj('a', '12') }],
      new StoreExpiredError('compacted'),
      [{ type: 'DELETED', object: obj('c', '21') }],
    ],
  );
  const inf = new StoreInformer(src, 'Pod', {}, { initialMs: 1, maxMs: 5 });
  const log: string[] = [];
  const errors: Error[] = [];
  inf.on('add', (o) => log.push(`add ${o.metadata.name}`));
  inf.on('update', (o, old) => log.push(`update ${o.metadata.name} ${old.metadata.resourceVersion}->${o.metadata.resourceVersion}`));
  inf.on('delete', (o) => log.push(`delete ${o.metadata.name}`));
  inf.on('error', (e) => errors.push(e));
  assert.ok(!inf.hasSynced());
  await inf.start();
  await inf.waitForSync();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && src.seen.length < 5) await new Promise((r) => setTimeout(r, 5));
  await inf.stop();
  assert.deepEqual(log, ['add a', 'add b', 'add c', 'update a 5->12', 'delete b', 'add d', 'delete c']);
  assert.deepEqual(src.seen.map((o) => o.resourceVersion), ['10', '15', '12', '20', '21']);
  assert.deepEqual(inf.list().map((o) => o.metadata.name).sort(), ['a', 'd']);
  assert.equal(inf.lists, 2);
  assert.ok(errors.length >= 2 && errors.every((e) => e instanceof StoreUnavailableError));
  assert.equal(inf.resourceVersion(), '21');
});

test('relist diff: new and changed entries are puts (with the old one), vanished ones deletes, unchanged ones nothing', () => {
  const e = (key: string, rev: number) => ({ key, rev });
  const cache = new Map([e('a', 1), e('b', 2), e('c', 3)].map((x) => [x.key, x]));
  const fresh = new Map([e('a', 1), e('b', 7), e('d', 8)].map((x) => [x.key, x]));
  const d = diffSnapshot(cache, fresh, (x) => x.rev);
  assert.deepEqual(d.deletes, [e('c', 3)]);
  assert.deepEqual(d.puts, [
    [e('b', 7), e('b', 2)],
    [e('d', 8), undefined],
  ]);
  // Nothing changed: nothing to do; everything gone: a delete each.
  assert.deepEqual(diffSnapshot(cache, cache, (x) => x.rev), { puts: [], deletes: [] });
  assert.deepEqual(diffSnapshot(cache, new Map(), (x) => x.rev).deletes.map((x) => x.key), ['a', 'b', 'c']);
});

test('informer relist after Expired: a delete carries the last known object, an unchanged object emits nothing', async () => {
  const src = scripted(
    [
      { items: [obj('a', '5'), obj('b', '6'), obj('keep', '7')], resourceVersion: '10' },
      { items: [obj('a', '30'), obj('keep', '7')], resourceVersion: '30' },
    ],
    [new StoreExpiredError('compacted')],
  );
  const inf = new StoreInformer(src, 'Pod', {}, { initialMs: 1, maxMs: 5 });
  const log: string[] = [];
  inf.on('add', (o) => log.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`));
  inf.on('update', (o, old) => log.push(`update ${o.metadata.name} ${old.metadata.resourceVersion}->${o.metadata.resourceVersion}`));
  inf.on('delete', (o) => log.push(`delete ${o.metadata.name}@${o.metadata.resourceVersion}`));
  await inf.start();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && inf.lists < 2) await new Promise((r) => setTimeout(r, 5));
  await inf.stop();
  assert.deepEqual(log, ['add a@5', 'add b@6', 'add keep@7', 'delete b@6', 'update a 5->30']);
  assert.equal(inf.resourceVersion(), '30');
});
