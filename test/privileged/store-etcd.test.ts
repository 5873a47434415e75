/**
 * The cluster store in kvstore mode against a real etcd (started here on unix
 * sockets, stopped by its pid): resource versions and conflicts, all-or-nothing
 * applyBatch, watches that resume across an etcd restart without missing or
 * repeating events, compaction → Expired → the informer relists, leases;
 * batches over etcd's limits refused whole, big revisions through fragmented watches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  StoreAlreadyExistsError,
  StoreConflictError,
  StoreExpiredError,
  StoreInvalidError,
  StoreNotFoundError,
  StoreTxnLimitError,
} from '../../src/common/errors.js';
import { StoreInformer, type ObjectInput, type StoreObject, type StoreWatch, type WatchEvent } from '../../src/store/store.js';
import { withEtcdStore } from '../lib/etcd.js';



function pod(name: string, extra: Partial<ObjectInput> & { labels?: Record<string, string>; rv?: string } = {}): ObjectInput {
  const { labels, rv, ...rest } = extra;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...(labels ? { labels } : {}), ...(rv ? { resourceVersion: rv } : {}) },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
    ...rest,
  };
}

/** Reads `n` events from a watch, or fails after `ms`. */
async function take(w: StoreWatch, it: AsyncIterator<WatchEvent>, n: number, ms = 15_000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const timer = setTimeout(() => w.close(), ms);
  try {
    while (out.length < n) {
      const r = await it.next();
      if (r.done) throw new Error(`watch ended after ${out.length} of ${n} events: ${JSON.stringify(out.map(brief))}`);
      if (r.value.type !== 'BOOKMARK') out.push(r.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Whether another event arrives within `ms`. */
async function nothingMore(it: AsyncIterator<WatchEvent>, ms: number): Promise<WatchEvent | undefined> {
  const r = await Promise.race([it.next(), new Promise<'idle'>((res) => setTimeout(() => res('idle'), ms))]);
  if (r === 'idle' || r.done) return undefined;
  return r.value.type === 'BOOKMARK' ? nothingMore(it, ms) : r.value;
}

const brief = (e: WatchEvent) => `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`;

async function retry<R>(fn: () => Promise<R>, ms = 20_000): Promise<R> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline || e instanceof StoreConflictError || e instanceof StoreAlreadyExistsError) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test('kvstore: CRUD with resourceVersions, conflicts, generation, status, selectors', async (t) => {
  const { open } = await withEtcdStore(t);
  const s = open();
  const a = await s.create(pod('a', { labels: { app: 'web' } }));
  assert.match(a.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.match(a.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(a.metadata.generation, 1);
  assert.deepEqual(await s.get('Pod', 'default', 'a'), a);
  await assert.rejects(s.create(pod('a')), StoreAlreadyExistsError);

  // A label change keeps the generation; a spec change bumps it.
  const a2 = await s.update(pod('a', { labels: { app: 'web', tier: 'fe' }, rv: a.metadata.resourceVersion }));
  assert.ok(Number(a2.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
  assert.equal(a2.metadata.generation, 1);
  assert.equal(a2.metadata.uid, a.metadata.uid);
  const a3 = await s.update(pod('a', { labels: { app: 'web', tier: 'fe' }, spec: { containers: [] } }));
  assert.equal(a3.metadata.generation, 2);
  // A stale version is a conflict, and changes nothing.
  const stale = s.update(pod('a', { labels: { x: 'y' }, rv: a.metadata.resourceVersion }));
  await assert.rejects(stale, (e: unknown) => e instanceof StoreConflictError && e.code === 'BL_ERR_STORE_CONFLICT');
  assert.deepEqual(await s.get('Pod', 'default', 'a'), a3);

  // Status is written apart from spec and kept by update.
  const st = await s.updateStatus({ ...pod('a'), status: { phase: 'Running' }, metadata: { name: 'a', namespace: 'default' } });
  assert.deepEqual(st.status, { phase: 'Running' });
  assert.deepEqual(st.spec, a3.spec);
  const a4 = await s.update(pod('a', { labels: { app: 'web' }, spec: { containers: [] } }));
  assert.deepEqual(a4.status, { phase: 'Running' });

  await s.create(pod('b', { labels: { app: 'db' } }));
  await s.create({ ...pod('c', { labels: { app: 'web' } }), metadata: { name: 'c', namespace: 'other', labels: { app: 'web' } } });
  await s.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1', labels: { zone: 'a' } } });
  const names = (r: { items: StoreObject[] }) => r.items.map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
  assert.deepEqual(names(await s.list('Pod')), ['default/a', 'default/b', 'other/c']);
  assert.deepEqual(names(await s.list('Pod', { namespace: 'default' })), ['default/a', 'default/b']);
  assert.deepEqual(names(await s.list('Pod', { labelSelector: 'app in (web)' })), ['default/a', 'other/c']);
  assert.deepEqual(names(await s.list('Pod', { labelSelector: 'app!=web' })), ['default/b']);
  assert.deepEqual(names(await s.list('Node')), ['/node1']);
  await assert.rejects(s.list('Pod', { labelSelector: 'app in (web' }), StoreInvalidError);
  await assert.rejects(s.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name', namespace: 'default' } }), StoreInvalidError);
  await assert.rejects(s.create({ apiVersion: 'v1', kind: 'Gizmo', metadata: { name: 'g' } }), StoreInvalidError);

  // Delete: a stale version conflicts; a second delete is NotFound unless told to ignore.
  await assert.rejects(s.delete('Pod', 'default', 'a', { resourceVersion: a.metadata.resourceVersion }), StoreConflictError);
  const gone = await s.delete('Pod', 'default', 'a');
  assert.equal(gone?.metadata.name, 'a');
  assert.ok(Number(gone!.metadata.resourceVersion) > Number(a4.metadata.resourceVersion));
  assert.equal(await s.get('Pod', 'default', 'a'), undefined);
  await assert.rejects(s.delete('Pod', 'default', 'a'), StoreNotFoundError);
  assert.equal(await s.delete('Pod', 'default', 'a', { ignoreNotFound: true }), undefined);
  await assert.rejects(s.update(pod('a')), StoreNotFoundError);
});

test('kvstore: applyBatch is all or nothing', async (t) => {
  const { open } = await withEtcdStore(t);
  const s = open();
  const old = await s.create(pod('keep', { labels: { v: '1' } }));
  const before = (await s.list('Pod')).resourceVersion;

  // One conflicting object (stale resourceVersion): nothing is written.
  await s.update(pod('keep', { labels: { v: '2' } }));
  const afterUpdate = await s.get('Pod', 'default', 'keep');
  await assert.rejects(
    s.applyBatch([pod('n1'), pod('keep', { labels: { v: '3' }, rv: old.metadata.resourceVersion }), pod('n2')]),
    StoreConflictError,
  );
  // One invalid object: nothing is written, and the message names it.
  await assert.rejects(
    s.applyBatch([pod('n1'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'n2' } }]),
    (e: unknown) => e instanceof StoreInvalidError && /object 2 of 2/.test(e.message) && /metadata\.namespace/.test(e.message),
  );
  // The same object twice: refused.
  await assert.rejects(s.applyBatch([pod('n1'), pod('n1')]), StoreInvalidError);
  assert.deepEqual(
    (await s.list('Pod')).items.map((o) => o.metadata.name),
    ['keep'],
  );
  assert.deepEqual(await s.get('Pod', 'default', 'keep'), afterUpdate);
  assert.ok(Number(before) > 0);

  // A good batch: creates and updates, all at one revision.
  const done = await s.applyBatch([pod('n1'), pod('keep', { labels: { v: '4' } }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns1' } }]);
  assert.equal(new Set(done.map((o) => o.metadata.resourceVersion)).size, 1);
  assert.equal(done[1]!.metadata.uid, old.metadata.uid);
  assert.deepEqual(done[1]!.metadata.labels, { v: '4' });
  assert.deepEqual((await s.list('Pod')).items.map((o) => o.metadata.name).sort(), ['keep', 'n1']);
  assert.ok(await s.get('Namespace', undefined, 'ns1'));
});

test("kvstore: a batch over etcd's default limits (--max-txn-ops 128, --max-request-bytes 1.5 MiB) is refused whole with BL_ERR_STORE_TXN_LIMIT", async (t) => {
  // This etcd has etcd's defaults, as an external etcd started without the flags docs/store.md asks for.
  const { open } = await withEtcdStore(t);
  const s = open();
  await s.create(pod('keep', { labels: { v: '1' } }));
  const keep = await s.get('Pod', 'default', 'keep');
  const refused = (flag: string) => (e: unknown) =>
    e instanceof StoreTxnLimitError && e.code === 'BL_ERR_STORE_TXN_LIMIT' && e.message.includes(flag) && /nothing was applied/.test(e.message) && /--max-txn-ops >= \d+ and --max-request-bytes >= \d+/.test(e.hint ?? '');

  // 200 small objects: more operations than 128.
  await assert.rejects(s.applyBatch([pod('keep', { labels: { v: '2' } }), ...Array.from({ length: 199 }, (_, i) => pod(`ops-${i}`))]), refused('--max-txn-ops'));
  // 95 objects of 20 KB (~1.8 MiB: etcd's own size check) and 150 (~2.9 MiB: over its gRPC limit, 1.5 MiB + 512 KiB).
  const big = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => pod(`${prefix}-${i}`, { labels: { big: 'yes' }, spec: { containers: [{ name: 'c', image: 'x'.repeat(20_000) }] } }));
  await assert.rejects(s.applyBatch([pod('keep', { labels: { v: '3' } }), ...big('etcd', 94)]), refused('--max-request-bytes'));
  const t0 = Date.now();
  await assert.rejects(s.applyBatch([pod('keep', { labels: { v: '4' } }), ...big('grpc', 149)]), refused('--max-request-bytes'));
  assert.ok(Date.now() - t0 < 2000, 'refused at once: a message too large is not retried as if transient');

  // Nothing of any of them was written, and the client is not left broken (no open circuit): the next write goes through.
  assert.deepEqual((await s.list('Pod')).items.map((o) => o.metadata.name), ['keep']);
  assert.deepEqual(await s.get('Pod', 'default', 'keep'), keep);
  const ok = await s.applyBatch(Array.from({ length: 128 }, (_, i) => pod(`fits-${i}`)));
  assert.equal(new Set(ok.map((o) => o.metadata.resourceVersion)).size, 1);
});

test('kvstore: a revision larger than one watch message comes in fragments and is delivered whole, with nothing in between', async (t) => {
  const { open } = await withEtcdStore(t);
  const s = open();
  // 100 objects of ~12 KB: a ~1.2 MiB transaction (under this etcd's --max-request-bytes,
  // 1.5 MiB); updating them all makes a watch response (objects and their previous
  // versions) of ~2.4 MB, over the 2 MiB (--max-request-bytes + 512 KiB) where etcd
  // cuts a fragmenting watch's responses.
  const objs = (v: string) => Array.from({ length: 100 }, (_, i) => pod(`frag-${String(i).padStart(2, '0')}`, { labels: { v }, spec: { containers: [{ name: 'c', image: `${v}-${'x'.repeat(12_000)}` }] } }));
  await s.applyBatch(objs('1'));
  const { resourceVersion } = await s.list('Pod');
  const w = s.watch('Pod', { resourceVersion });
  const it = w[Symbol.asyncIterator]();
  const written = await s.applyBatch(objs('2'));

  // Count macrotasks (timers, I/O callbacks: where a consumer's flush would run) between the
  // first and the last event of the revision: there must be none.
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 0);
  try {
    const first = await take(w, it, 1);
    const atFirst = ticks;
    const rest = await take(w, it, 99);
    assert.equal(ticks, atFirst, 'no timer ran between events of one revision');
    const evs = [...first, ...rest];
    assert.deepEqual(new Set(evs.map((e) => `${e.type}@${e.object.metadata.resourceVersion}`)), new Set([`MODIFIED@${written[0]!.metadata.resourceVersion}`]));
    assert.deepEqual(evs.map((e) => e.object.metadata.name), written.map((o) => o.metadata.name));
    assert.ok(evs.every((e) => e.object.metadata.labels?.v === '2'));
  } finally {
    clearInterval(ticker);
  }
  assert.ok((w as unknown as { fragments: number }).fragments >= 1, 'etcd did fragment the response');
  assert.equal(await nothingMore(it, 300), undefined);
  w.close();
});

test('kvstore: a watch from a revision gets exactly the later events, selector transitions included', async (t) => {
  const { open } = await withEtcdStore(t);
  const s = open();
  await s.create(pod('early'));
  const { resourceVersion } = await s.list('Pod');
  const a = await s.create(pod('a', { labels: { app: 'web' } }));
  const a2 = await s.update(pod('a', { labels: { app: 'db' } }));
  const [b] = await s.applyBatch([pod('b', { labels: { app: 'web' } })]);
  const d = await s.delete('Pod', 'default', 'a');
  await s.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } }); // another kind: not seen

  const w = s.watch('Pod', { resourceVersion });
  const it = w[Symbol.asyncIterator]();
  const evs = await take(w, it, 4);
  assert.deepEqual(evs.map(brief), [
    `ADDED a@${a.metadata.resourceVersion}`,
    `MODIFIED a@${a2.metadata.resourceVersion}`,
    `ADDED b@${b!.metadata.resourceVersion}`,
    `DELETED a@${d!.metadata.resourceVersion}`,
  ]);
  assert.deepEqual(evs[3]!.object.metadata.labels, { app: 'db' });
  assert.equal(await nothingMore(it, 300), undefined);
  w.close();

  // With a selector: leaving it reads as DELETED, entering as ADDED.
  const ws = s.watch('Pod', { resourceVersion, labelSelector: 'app=web' });
  const its = ws[Symbol.asyncIterator]();
  assert.deepEqual((await take(ws, its, 3)).map(brief), [
    `ADDED a@${a.metadata.resourceVersion}`,
    `DELETED a@${a2.metadata.resourceVersion}`,
    `ADDED b@${b!.metadata.resourceVersion}`,
  ]);
  ws.close();
});

test('kvstore: a watch survives etcd being killed and restarted, missing and repeating nothing', async (t) => {
  const { etcd, open } = await withEtcdStore(t);
  const writer = open();
  // The watching store backs off long enough that writes land while it is away.
  const reader = open({ watchBackoff: { initialMs: 1500, maxMs: 3000 } });
  const { resourceVersion } = await writer.list('Pod');
  const w = reader.watch('Pod', { resourceVersion });
  const it = w[Symbol.asyncIterator]();
  const expected: string[] = [];
  for (let i = 0; i < 5; i++) expected.push(`ADDED p${i}@${(await writer.create(pod(`p${i}`))).metadata.resourceVersion}`);
  const first = await take(w, it, 5);
  assert.deepEqual(first.map(brief), expected);

  await etcd.kill('SIGKILL');
  await etcd.restart();
  // Written while the watch is reconnecting: it must replay them from history.
  for (let i = 5; i < 10; i++) expected.push(`ADDED p${i}@${(await retry(() => writer.create(pod(`p${i}`)))).metadata.resourceVersion}`);
  const m = await retry(() => writer.update(pod('p0', { labels: { x: '1' } })));
  expected.push(`MODIFIED p0@${m.metadata.resourceVersion}`);
  const d = await retry(() => writer.delete('Pod', 'default', 'p1'));
  expected.push(`DELETED p1@${d!.metadata.resourceVersion}`);

  const rest = await take(w, it, expected.length - 5, 30_000);
  assert.deepEqual([...first, ...rest].map(brief), expected);
  assert.equal(await nothingMore(it, 1000), undefined, 'no repeated event after the resume');
  assert.ok((w as unknown as { attempts: number }).attempts >= 2, 'the watch was recreated after the restart');
  w.close();
});

test('kvstore: compaction expires a watch; the informer relists and converges', async (t) => {
  const { etcd, open } = await withEtcdStore(t);
  const writer = open();
  const { resourceVersion: rv0 } = await writer.list('Pod');
  for (let i = 0; i < 3; i++) await writer.create(pod(`c${i}`));
  const { resourceVersion: now } = await writer.list('Pod');
  await writer.client.kv.compact({ revision: now, physical: true });
  const w = writer.watch('Pod', { resourceVersion: rv0 });
  await assert.rejects(
    (async () => {
      for await (const _ of w) void _;
    })(),
    (e: unknown) => e instanceof StoreExpiredError && e.code === 'BL_ERR_STORE_EXPIRED',
  );

  // An informer whose watch is away while objects change and history is compacted.
  const reader = open({ watchBackoff: { initialMs: 2500, maxMs: 3000 } });
  const inf = reader.informer('Pod') as StoreInformer;
  const seen: string[] = [];
  inf.on('add', (o) => seen.push(`add ${o.metadata.name}`));
  inf.on('update', (o) => seen.push(`update ${o.metadata.name}`));
  inf.on('delete', (o) => seen.push(`delete ${o.metadata.name}`));
  await inf.start();
  await inf.waitForSync();
  assert.ok(inf.hasSynced());
  assert.deepEqual(inf.list().map((o) => o.metadata.name).sort(), ['c0', 'c1', 'c2']);
  await etcd.kill('SIGKILL');
  await etcd.restart();
  await retry(() => writer.delete('Pod', 'default', 'c0'));
  await retry(() => writer.update(pod('c1', { labels: { v: '2' } })));
  await retry(() => writer.create(pod('c3')));
  const { resourceVersion: later } = await writer.list('Pod');
  await writer.client.kv.compact({ revision: later, physical: true });
  await writer.create(pod('c4')); // after the compaction: seen by the new watch

  const deadline = Date.now() + 20_000;
  const truth = async () => (await writer.list('Pod')).items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
  const cached = () => inf.list().map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
  while (Date.now() < deadline && JSON.stringify(cached()) !== JSON.stringify(await truth())) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(cached(), await truth());
  assert.equal(inf.lists, 2, 'one relist after Expired');
  assert.ok(seen.includes('delete c0') && seen.includes('update c1') && seen.includes('add c3') && seen.includes('add c4'), seen.join(', '));
  await inf.stop();
});

test('kvstore: objects on a lease vanish when it expires, stay while kept alive, go on revoke', async (t) => {
  const { open } = await withEtcdStore(t);
  const s = open();
  const kept = await s.lease(2);
  const dying = await s.lease(2, { keepAlive: false });
  await s.create(pod('kept'), { lease: kept });
  await s.create(pod('dying'), { lease: dying });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await s.get('Pod', 'default', 'dying'))) await new Promise((r) => setTimeout(r, 250));
  assert.equal(await s.get('Pod', 'default', 'dying'), undefined, 'expired with its lease');
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(await s.get('Pod', 'default', 'kept'), 'kept alive past its TTL');
  await kept.revoke();
  assert.equal(await s.get('Pod', 'default', 'kept'), undefined);
});

test('kvstore: a list larger than one response (gRPC 4 MiB) comes back whole, in pages of one snapshot', async (t) => {
  const { open } = await withEtcdStore(t);
  const s = open();
  // 1,300 pods of ~4 KiB each: ~5.3 MiB, more than one gRPC message may carry.
  const big = 'x'.repeat(4000);
  for (let i = 0; i < 1300; i += 100) {
    await s.applyBatch(Array.from({ length: 100 }, (_, j) => pod(`p${String(i + j).padStart(4, '0')}`, { labels: { big: 'yes' }, spec: { containers: [{ name: 'c', image: big }] } })));
  }
  const list = await s.list('Pod');
  assert.equal(list.items.length, 1300);
  assert.equal(new Set(list.items.map((o) => o.metadata.name)).size, 1300, 'no page repeated');
  assert.deepEqual(list.items.map((o) => o.metadata.name), [...list.items.map((o) => o.metadata.name)].sort(), 'in key order');
  // Written after the list began's revision: not in it, and a watch from the list's version sees it.
  await s.create(pod('late'));
  const again = await s.list('Pod', { labelSelector: 'big=yes' });
  assert.equal(again.items.length, 1300);
  assert.ok(Number(again.resourceVersion) > Number(list.resourceVersion));
});
