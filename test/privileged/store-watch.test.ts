/**
 * Watches never miss, against a real etcd (started here on unix sockets,
 * stopped by its pid): etcd killed between a list and its watch, history
 * compacted under running watchers with writes and deletes around it, and an
 * etcd that comes back without its history. Both list-then-watch forms are
 * covered: the store's informer (resources) and KvInformer / PrefixWatch
 * (raw prefixes: node records, the ipcache, identities). Each ends with the
 * watcher's cache equal to the store, every delete seen, nothing repeated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { IEvent } from 'etcd3';
import { etcdClient } from '../../src/common/etcd.js';
import { KvInformer, PrefixWatch, listPrefix, type KvEntry } from '../../src/store/kv.js';
import { StoreInformer, type ListOptions, type ObjectInput, type WatchOptions } from '../../src/store/store.js';
import { withEtcdStore } from '../lib/etcd.js';
import { until } from '../lib/wait.js';


const PREFIX = '/beeline/v1/test-watch/';


function pod(name: string, labels?: Record<string, string>): ObjectInput {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
}

/** Retries `fn` while etcd comes back. */
async function retry<R>(fn: () => Promise<R>, ms = 20_000): Promise<R> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** An informer's events as `add a`, `update a`, `delete a`. */
function record(inf: StoreInformer): string[] {
  const seen: string[] = [];
  inf.on('add', (o) => seen.push(`add ${o.metadata.name}`));
  inf.on('update', (o) => seen.push(`update ${o.metadata.name}`));
  inf.on('delete', (o) => seen.push(`delete ${o.metadata.name}`));
  return seen;
}

/** A KvInformer's events as `put k`, `delete k`, keys without the prefix. */
function recordKv(inf: KvInformer): string[] {
  const seen: string[] = [];
  inf.on('put', (e: KvEntry) => seen.push(`put ${e.key.slice(PREFIX.length)}`));
  inf.on('delete', (e: KvEntry) => seen.push(`delete ${e.key.slice(PREFIX.length)}`));
  return seen;
}

async function converged(what: string, cached: () => string[], truth: () => Promise<string[]>): Promise<void> {
  let last: { cached: string[]; truth: string[] } = { cached: [], truth: [] };
  await until(
    what,
    async () => {
      last = { cached: cached().sort(), truth: (await truth()).sort() };
      return JSON.stringify(last.cached) === JSON.stringify(last.truth);
    },
    25_000,
    100,
  ).catch((e: Error) => {
    throw new Error(`${e.message}: cache ${JSON.stringify(last.cached)} store ${JSON.stringify(last.truth)}`);
  });
}

test('store informer: etcd killed between the list and the watch; nothing written meanwhile is missed', async (t) => {
  const { etcd, open } = await withEtcdStore(t);
  const writer = open();
  const reader = open({ watchBackoff: { initialMs: 50, maxMs: 500 } });
  for (const n of ['a0', 'a1', 'a2']) await writer.create(pod(n));

  // The informer's list answers; before its watch starts, etcd dies, comes back, and the pods change.
  let gap = false;
  const source = {
    list: async (kind: string, o?: ListOptions) => {
      const l = await reader.list(kind, o);
      if (!gap) {
        gap = true;
        await etcd.kill('SIGKILL');
        await etcd.restart();
        await retry(() => writer.delete('Pod', 'default', 'a0'));
        await retry(() => writer.update(pod('a1', { v: '2' })));
        await retry(() => writer.create(pod('a3')));
      }
      return l;
    },
    watch: (kind: string, o?: WatchOptions) => reader.watch(kind, o),
  };
  const inf = new StoreInformer(source, 'Pod', {}, { initialMs: 50, maxMs: 500 });
  const seen = record(inf);
  await inf.start();
  t.after(() => inf.stop());
  await inf.waitForSync();
  const truth = async () => (await writer.list('Pod')).items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`);
  const cached = () => inf.list().map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`);
  await converged('the informer caught up with the store', cached, truth);
  assert.equal(gap, true);
  assert.equal(inf.lists, 1, 'the watch from the list revision + 1 got every change: no relist');
  assert.deepEqual(seen, ['add a0', 'add a1', 'add a2', 'delete a0', 'update a1', 'add a3']);
});

test('prefix watch: etcd killed between the list and the watch; events after the list arrive once, in order', async (t) => {
  const { etcd } = await withEtcdStore(t);
  const c = etcdClient(etcd.endpoint);
  t.after(() => c.close());
  for (const k of ['k0', 'k1']) await c.put(PREFIX + k).value('v1');
  const { kvs, revision } = await listPrefix(c, PREFIX);
  assert.deepEqual(kvs.map((kv) => kv.key.toString().slice(PREFIX.length)), ['k0', 'k1']);
  await etcd.kill('SIGKILL');
  await etcd.restart();
  await retry(() => c.delete().key(PREFIX + 'k0').exec());
  await retry(() => c.put(PREFIX + 'k1').value('v2').exec());
  await retry(() => c.put(PREFIX + 'k2').value('v1').exec());

  const got: string[] = [];
  const w = new PrefixWatch(c, PREFIX, revision, {
    event: (ev: IEvent) => got.push(`${ev.type} ${ev.kv.key.toString().slice(PREFIX.length)} ${ev.type === 'Delete' ? '' : ev.kv.value.toString()}`.trim()),
    progress: () => undefined,
    expired: (e) => got.push(`expired ${e.message}`),
  }, { initialMs: 50, maxMs: 500 });
  t.after(() => w.close());
  await until('three events', () => got.length >= 3, 15_000, 50);
  // One more write after the watch runs, and a restart under it: still once each.
  await etcd.kill('SIGKILL');
  await etcd.restart();
  await retry(() => c.put(PREFIX + 'k3').value('v1').exec());
  await until('four events', () => got.length >= 4, 15_000, 50);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(got, ['Delete k0', 'Put k1 v2', 'Put k2 v1', 'Put k3 v1']);
});

test('compaction under running watchers, with writes and deletes around it: caches end equal to the store, deletes seen', async (t) => {
  const { etcd, open } = await withEtcdStore(t);
  const writer = open();
  const c = etcdClient(etcd.endpoint);
  t.after(() => c.close());
  for (const n of ['p0', 'p1', 'p2', 'p3']) await writer.create(pod(n));
  for (const k of ['k0', 'k1', 'k2', 'k3']) await c.put(PREFIX + k).value('v1');

  // Watchers that come back slowly (2.5 s) after etcd restarts: by then their history is compacted.
  const slow = { initialMs: 2500, maxMs: 3000 };
  const reader = open({ watchBackoff: slow });
  const inf = reader.informer('Pod') as StoreInformer;
  const seen = record(inf);
  await inf.start();
  t.after(() => inf.stop());
  await inf.waitForSync();
  const kvc = etcdClient(etcd.endpoint);
  t.after(() => kvc.close());
  const kv = new KvInformer(kvc, PREFIX, slow);
  const seenKv = recordKv(kv);
  await kv.start();
  t.after(() => kv.stop());

  // While connected: a write, a compaction at the current revision, a delete. A caught-up watch is not cut.
  await writer.update(pod('p0', { v: '2' }));
  await c.put(PREFIX + 'k0').value('v2');
  await writer.client.kv.compact({ revision: (await writer.list('Pod')).resourceVersion, physical: true });
  await writer.delete('Pod', 'default', 'p3');
  await c.delete().key(PREFIX + 'k3');
  const podTruth = async () => (await writer.list('Pod')).items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`);
  const podCache = () => inf.list().map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`);
  const kvTruth = async () => (await listPrefix(c, PREFIX)).kvs.map((x) => `${x.key.toString()}@${x.mod_revision}`);
  const kvCache = () => [...kv.entries().values()].map((e) => `${e.key}@${e.modRevision}`);
  await converged('pods after a compaction under a live watch', podCache, podTruth);
  await converged('keys after a compaction under a live watch', kvCache, kvTruth);
  assert.equal(inf.lists, 1);
  assert.equal(kv.lists, 1);

  // Away (etcd restarted): deletes, an update and a create, then history compacted past them, then one more write.
  await etcd.kill('SIGKILL');
  await etcd.restart();
  await retry(() => writer.delete('Pod', 'default', 'p1'));
  await retry(() => writer.update(pod('p2', { v: '2' })));
  await retry(() => writer.create(pod('p4')));
  await retry(() => c.delete().key(PREFIX + 'k1').exec());
  await retry(() => c.put(PREFIX + 'k2').value('v2').exec());
  await retry(() => c.put(PREFIX + 'k4').value('v1').exec());
  await writer.client.kv.compact({ revision: (await writer.list('Pod')).resourceVersion, physical: true });
  await writer.create(pod('p5'));
  await c.put(PREFIX + 'k5').value('v1');

  await converged('pods after the compacted outage', podCache, podTruth);
  await converged('keys after the compacted outage', kvCache, kvTruth);
  assert.equal(inf.lists, 2, 'the informer relisted once, after Expired');
  assert.equal(kv.lists, 2, 'the prefix informer relisted once, after the compaction');
  // The relist emitted the difference: the deletes and changes the compacted history held, nothing for p0/k0 (unchanged).
  assert.deepEqual(seen, ['add p0', 'add p1', 'add p2', 'add p3', 'update p0', 'delete p3', 'delete p1', 'update p2', 'add p4', 'add p5']);
  assert.deepEqual(seenKv, ['put k0', 'put k1', 'put k2', 'put k3', 'put k0', 'delete k3', 'delete k1', 'put k2', 'put k4', 'put k5']);
});

test('an etcd that comes back without its history (data lost): the prefix informer relists and deletes what is gone', async (t) => {
  const { etcd } = await withEtcdStore(t);
  const c = etcdClient(etcd.endpoint);
  t.after(() => c.close());
  for (let i = 0; i < 20; i++) await c.put(PREFIX + `k${i % 4}`).value(`v${i}`);
  const kvc = etcdClient(etcd.endpoint);
  t.after(() => kvc.close());
  const kv = new KvInformer(kvc, PREFIX, { initialMs: 1500, maxMs: 2000 });
  const seen = recordKv(kv);
  const errors: string[] = [];
  kv.on('error', (e: Error) => errors.push(e.message));
  await kv.start();
  t.after(() => kv.stop());
  const before = kv.revision();
  assert.ok(before >= 20);

  await etcd.kill('SIGKILL');
  rmSync(join(etcd.dir, 'data'), { recursive: true, force: true });
  await etcd.restart();
  await retry(() => c.put(PREFIX + 'k1').value('new').exec());
  await retry(() => c.put(PREFIX + 'k9').value('new').exec());
  const kvTruth = async () => (await listPrefix(c, PREFIX)).kvs.map((x) => `${x.key.toString()}=${x.value.toString()}`);
  const kvCache = () => [...kv.entries().values()].map((e) => `${e.key}=${e.value}`);
  await converged('keys after etcd lost its data', kvCache, kvTruth);
  assert.ok(errors.some((m) => /revision went back/.test(m)), errors.join('; '));
  assert.equal(kv.lists, 2);
  assert.deepEqual(seen.slice(4).sort(), ['delete k0', 'delete k2', 'delete k3', 'put k1', 'put k9']);
});
