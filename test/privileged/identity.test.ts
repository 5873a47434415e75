/**
 * Identities and the ipcache against a real etcd (started here on unix
 * sockets): racing allocators agree, numbers survive a restart, GC deletes
 * only what no node references and only after the grace period, a dead
 * node's references expire with its lease, and watches tell every agent.
 */
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import {
  IdentityAllocator,
  IdentityGarbageCollector,
  formatIdentityList,
  identityIdKey,
  identityRefKey,
  identityValueKey,
  type IdentityEvent,
} from '../../src/identity/allocator.js';
import { IpcacheStore, type IpcacheEvent } from '../../src/identity/ipcache.js';
import { formatLabel, labelSetKey, podIdentityLabels } from '../../src/identity/labels.js';
import { IdentityExhaustedError } from '../../src/common/errors.js';
import { startTestEtcd } from '../lib/etcd.js';

async function withEtcd(t: { after: (fn: () => Promise<void>) => void }) {
  const etcd = await startTestEtcd();
  const clients: Etcd3[] = [];
  const stops: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const s of stops) await s().catch(() => undefined);
    clients.forEach((c) => c.close());
    await etcd.stop();
  });
  const client = () => {
    const c = new Etcd3({ hosts: etcd.endpoint, dialTimeout: 2000 });
    clients.push(c);
    return c;
  };
  const allocator = async (node: string, opts: { leaseTtlSeconds?: number; maxId?: number; etcd?: Etcd3 } = {}) => {
    const a = new IdentityAllocator(opts.etcd ?? client(), { node, ...opts });
    await a.start();
    stops.push(() => a.stop());
    return a;
  };
  return { client, allocator, stops, endpoint: etcd.endpoint };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const pod = (ns: string, app: string, hash = 'h1') => podIdentityLabels({ namespace: ns, labels: { app, 'pod-template-hash': hash } });

test('identity: two allocators racing get one id per label set and distinct ids for distinct sets', async (t) => {
  const { allocator } = await withEtcd(t);
  const a = await allocator('node1');
  const b = await allocator('node2');
  const shared = ['web', 'db', 'cache', 'queue', 'auth'].map((app) => pod('shop', app));
  const onlyA = [1, 2, 3, 4].map((i) => pod('a', `x${i}`));
  const onlyB = [1, 2, 3, 4].map((i) => pod('b', `x${i}`));
  const [ra, rb, rxa, rxb] = await Promise.all([
    Promise.all(shared.map((l) => a.acquire(l))),
    Promise.all(shared.map((l) => b.acquire(l))),
    Promise.all(onlyA.map((l) => a.acquire(l))),
    Promise.all(onlyB.map((l) => b.acquire(l))),
  ]);
  assert.deepEqual(
    ra.map((i) => i.id),
    rb.map((i) => i.id),
  );
  const all = [...ra, ...rxa, ...rxb].map((i) => i.id);
  assert.equal(new Set(all).size, 13, `distinct: ${all.join(' ')}`);
  for (const id of all) assert.ok(id >= 256 && id <= 65535, String(id));
  // Replicas with another pod-template-hash are the same identity, from the local count.
  assert.equal((await a.acquire(pod('shop', 'web', 'other'))).id, ra[0]!.id);
  assert.equal(a.references().get(ra[0]!.id), 2);
  // Reserved label sets never touch the store.
  assert.equal((await a.acquire(['reserved:host'])).id, 1);
  // Both agents learn every identity through their watch.
  await until('b sees a\'s identities', () => rxa.every((i) => b.lookup(i.id) !== undefined));
  assert.equal(b.lookupByLabels(onlyA[0]!)?.id, rxa[0]!.id);
  const text = formatIdentityList(b.list());
  assert.match(text, /^ID +LABELS\n1 +reserved:host\n2 +reserved:world\n/);
  assert.match(text, new RegExp(`\\n${ra[0]!.id} +k8s:app=web\\n +k8s:io\\.cilium\\.k8s\\.namespace\\.labels\\.kubernetes\\.io/metadata\\.name=shop\\n`));
});

test('identity: numbers come from the local view, not a store listing: concurrent acquires of one allocator never collide, a freed number is reused, two allocators lose at most one race per allocation on average', async (t) => {
  const { allocator, client } = await withEtcd(t);
  const a = await allocator('node1');
  const first = await Promise.all(Array.from({ length: 50 }, (_, i) => a.acquire(pod('one', `app${i}`))));
  assert.deepEqual(first.map((i) => i.id).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => 256 + i), 'the lowest free numbers, one each');
  assert.deepEqual(a.stats, { allocated: 50, lostRaces: 0 }, 'no race lost within one allocator');
  // Sequential acquires right after one another (the watch may lag): still no race lost.
  for (let i = 0; i < 20; i++) await a.acquire(pod('seq', `app${i}`));
  assert.equal(a.stats.lostRaces, 0);
  // GC takes number 260 (as the collector does: both keys); the next allocation reuses it.
  const c = client();
  const gone = first.find((i) => i.id === 260)!;
  await c.delete().key(identityIdKey(260)).exec();
  await c.delete().key(identityValueKey(labelSetKey(gone.labels))).exec();
  await until('the allocator sees 260 go', () => a.lookup(260) === undefined);
  assert.equal((await a.acquire(pod('reuse', 'x'))).id, 260);
  // Two allocators (two nodes) allocating at once: distinct numbers, and contention stays bounded.
  const b = await allocator('node2');
  const before = a.stats.lostRaces;
  const [ra, rb] = await Promise.all([
    Promise.all(Array.from({ length: 60 }, (_, i) => a.acquire(pod('race-a', `app${i}`)))),
    Promise.all(Array.from({ length: 60 }, (_, i) => b.acquire(pod('race-b', `app${i}`)))),
  ]);
  const ids = [...ra, ...rb].map((i) => i.id);
  assert.equal(new Set(ids).size, 120, 'distinct numbers');
  const lost = a.stats.lostRaces - before + b.stats.lostRaces;
  assert.ok(lost <= 120, `at most one lost race per allocation on average: ${lost} for 120`);
  await until('each sees the other\'s', () => ra.every((i) => b.lookup(i.id)) && rb.every((i) => a.lookup(i.id)));
});

test('identity: a narrow range runs out with a clear error', async (t) => {
  const { allocator } = await withEtcd(t);
  const a = await allocator('node1', { maxId: 257 });
  await a.acquire(pod('ns', 'one'));
  await a.acquire(pod('ns', 'two'));
  await assert.rejects(a.acquire(pod('ns', 'three')), IdentityExhaustedError);
});

test('identity: an allocator started again (new client, new lease) keeps the numbers', async (t) => {
  const { allocator, client } = await withEtcd(t);
  const a = await allocator('node1');
  const sets = ['web', 'db', 'api'].map((app) => pod('shop', app));
  const before = await Promise.all(sets.map((l) => a.acquire(l)));
  await a.stop(); // revokes the lease: the refs go, the identities stay (no GC ran)
  const c = client();
  assert.equal((await c.getAll().prefix('/beeline/v1/identities/ref/').keys()).length, 0);
  const again = await allocator('node1', { etcd: c });
  assert.equal(again.list().length, 10 + 3);
  const after = await Promise.all(sets.map((l) => again.acquire(l)));
  assert.deepEqual(
    after.map((i) => i.id),
    before.map((i) => i.id),
  );
  assert.equal(await c.get(identityRefKey(after[0]!.id, 'node1')).string(), 'node1');
});

test('identity: GC deletes an unreferenced identity after the grace period, never a referenced one, and a late reference wins', async (t) => {
  const { allocator, client } = await withEtcd(t);
  const a = await allocator('node1');
  const b = await allocator('node2');
  let clock = 1_000_000;
  const gc = new IdentityGarbageCollector(client(), { graceMs: 60_000, now: () => clock });
  const events: IdentityEvent[] = [];
  b.onChange((e) => events.push(e));

  const x = pod('shop', 'x');
  const y = pod('shop', 'y');
  const ix = await a.acquire(x);
  assert.equal((await b.acquire(x)).id, ix.id);
  const iy = await a.acquire(y);

  // x released by node1 only: node2 still references it.
  assert.equal(await a.release(x), true);
  assert.deepEqual(await gc.run(), { deleted: [], pending: [] });
  // Released everywhere: pending, and kept until the grace period is over.
  assert.equal(await b.release(x), true);
  assert.deepEqual(await gc.run(), { deleted: [], pending: [ix.id] });
  clock += 59_999;
  assert.deepEqual(await gc.run(), { deleted: [], pending: [ix.id] });
  clock += 1;
  assert.deepEqual(await gc.run(), { deleted: [ix.id], pending: [] });
  const c = client();
  assert.equal(await c.get(identityIdKey(ix.id)).string(), null);
  assert.equal(await c.get(identityValueKey(labelSetKey(x))).string(), null);
  await until('b learns x is gone', () => b.lookup(ix.id) === undefined);
  assert.ok(events.some((e) => e.type === 'delete' && e.identity.id === ix.id));

  // y stays referenced by node1: never deleted however long GC runs.
  for (let i = 0; i < 5; i++) {
    clock += 3_600_000;
    assert.deepEqual(await gc.run(), { deleted: [], pending: [] });
  }
  assert.equal(a.lookup(iy.id)?.id, iy.id);

  // Unreferenced past the grace period, then referenced again before the next pass: it survives.
  await a.release(y);
  await gc.run();
  clock += 120_000;
  const iy2 = await b.acquire(y);
  assert.equal(iy2.id, iy.id);
  await b.release(y); // unreferenced again, but its revision changed: the clock restarts
  assert.deepEqual(await gc.run(), { deleted: [], pending: [iy.id] });
  clock += 60_000;
  assert.deepEqual(await gc.run(), { deleted: [iy.id], pending: [] });

  // A label set whose identity was collected gets a (new or reused) number again.
  const ix2 = await a.acquire(x);
  assert.ok(ix2.id >= 256);
  await until('a sees x again', () => a.lookupByLabels(x) !== undefined);
  assert.equal(a.lookupByLabels(x)?.id, ix2.id);
});

test('identity: a node killed with -9 stops referencing when its lease expires; the cadence runs GC', async (t) => {
  const { allocator, client, endpoint } = await withEtcd(t);
  const labels = pod('shop', 'ghost');
  const child = spawn(process.execPath, [fileURLToPath(new URL('./identity-child.js', import.meta.url)), endpoint, 'node9', '3', ...labels.map(formatLabel)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    await exited;
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const id = Number(line.toString().trim());
  assert.ok(id >= 256, line.toString());
  const watcher = await allocator('node1');
  assert.equal(watcher.lookupByLabels(labels)?.id, id);
  const gc = new IdentityGarbageCollector(client(), { graceMs: 500 });
  gc.start(200);
  t.after(() => gc.stop());
  // Alive (keeping its lease): referenced, so GC keeps it well past the grace period.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(watcher.lookup(id)?.id, id);
  process.kill(child.pid!, 'SIGKILL');
  await exited;
  // Lease TTL 3 s, then one pass to notice and the 0.5 s grace period.
  await until("the dead node's identity is collected", () => watcher.lookup(id) === undefined, 15_000);
  await gc.stop();
});

test('ipcache: entries written by one agent reach the other; delete only removes what the writer owns; stop removes them', async (t) => {
  const { client } = await withEtcd(t);
  const s1 = new IpcacheStore(client(), { node: 'node1' });
  const s2 = new IpcacheStore(client(), { node: 'node2' });
  t.after(async () => {
    await s1.stop();
    await s2.stop();
  });
  await s1.start();
  await s2.start();
  const seen: IpcacheEvent[] = [];
  s2.onChange((e) => seen.push(e));
  await s1.upsert({ prefix: '10.0.0.5/32', identity: 256, hostIP: '172.18.0.11' });
  await s1.upsert({ prefix: '10.0.0.6', identity: 257, hostIP: '172.18.0.11' });
  await until('node2 sees node1\'s entries', () => s2.entries().length === 2);
  assert.deepEqual(s2.entries()[0], { prefix: '10.0.0.5', identity: 256, hostIP: '172.18.0.11', encryptKey: 0, owner: 'node1' });
  // Mutual authentication required (issue 15): published with the entry, withdrawn by the next write; the stored value
  // has the field only when true, so entries of older agents (without it) read as false.
  await s1.upsert({ prefix: '10.0.0.6', identity: 257, hostIP: '172.18.0.11', authRequired: true });
  await until('node2 sees authRequired', () => s2.entries().find((e) => e.prefix === '10.0.0.6')?.authRequired === true);
  await s1.upsert({ prefix: '10.0.0.6', identity: 257, hostIP: '172.18.0.11' });
  await until('node2 sees it withdrawn', () => s2.entries().find((e) => e.prefix === '10.0.0.6')?.authRequired === undefined);
  // The address moves to node2 (a new pod took it); node1's late delete must not remove node2's entry.
  await s2.upsert({ prefix: '10.0.0.5', identity: 300, hostIP: '172.18.0.12' });
  assert.equal(await s1.delete('10.0.0.5'), false);
  await until('node1 sees the move', () => s1.entries().find((e) => e.prefix === '10.0.0.5')?.identity === 300);
  assert.equal(await s2.delete('10.0.0.5'), true);
  await s1.stop(); // revokes node1's lease: 10.0.0.6 goes
  await until('node2 sees node1\'s entries go', () => s2.entries().length === 0);
  assert.ok(seen.some((e) => e.type === 'delete' && e.entry.prefix === '10.0.0.6'));
});
