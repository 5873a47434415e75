import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../common/errors.js';
import {
  DEFAULT_MAGLEV_TABLE_SIZE, MAGLEV_TABLE_SIZES, checkMaglevTableSize, isPrime, maglevOffsetSkip, maglevTable,
} from './maglev.js';

const ids = (...xs: number[]) => xs.map((id) => ({ id }));
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

function counts(table: Uint32Array): Map<number, number> {
  const c = new Map<number, number>();
  for (const id of table) c.set(id, (c.get(id) ?? 0) + 1);
  return c;
}

function changed(a: Uint32Array, b: Uint32Array): number {
  assert.equal(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

test('maglev: isPrime', () => {
  const small = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31];
  for (let n = -3; n <= 31; n++) assert.equal(isPrime(n), small.includes(n), String(n));
  for (const m of MAGLEV_TABLE_SIZES) assert.equal(isPrime(m), true, String(m));
  for (const n of [16383, 65535, 131073, 25, 49, 121, 1.5, NaN, Infinity]) assert.equal(isPrime(n), false, String(n));
});

test('maglev: only the table sizes Cilium allows, and the error names the value', () => {
  for (const m of MAGLEV_TABLE_SIZES) assert.doesNotThrow(() => checkMaglevTableSize(m));
  assert.equal(DEFAULT_MAGLEV_TABLE_SIZE, 16381);
  for (const m of [0, 1, 250, 16383, 16380, 131072, 7, 65537]) {
    assert.throws(() => checkMaglevTableSize(m), (e: UsageError) => e instanceof UsageError && e.message.includes(String(m)) && /16381/.test(e.hint!), String(m));
    assert.throws(() => maglevTable(ids(1), m), UsageError, String(m));
  }
});

test('maglev: offset < m and skip in 1..m-1', () => {
  for (const m of [251, 16381]) {
    for (const id of range(0, 200)) {
      const { offset, skip } = maglevOffsetSkip(id, m);
      assert.ok(offset >= 0 && offset < m && Number.isInteger(offset));
      assert.ok(skip >= 1 && skip < m && Number.isInteger(skip));
    }
  }
});

test('maglev: every slot holds one of the backends', () => {
  for (const m of [251, 1021, 16381]) {
    const backends = range(1, 7);
    const t = maglevTable(ids(...backends), m);
    assert.equal(t.length, m);
    for (const id of t) assert.ok(backends.includes(id), `slot holds ${id}`);
    assert.deepEqual([...counts(t).keys()].sort((a, b) => a - b), backends, 'every backend has slots');
  }
  // One backend owns the whole table; none gives an empty one.
  assert.ok(maglevTable(ids(42), 251).every((id) => id === 42));
  assert.equal(maglevTable([], 251).length, 0);
  assert.equal(maglevTable([{ id: 1, weight: 0 }], 251).length, 0, 'weight 0 only: no backends');
});

test('maglev: even within 1% for 4 backends at M=16381', () => {
  const t = maglevTable(ids(10, 20, 30, 40));
  const even = 16381 / 4;
  for (const [id, n] of counts(t)) assert.ok(Math.abs(n - even) / even < 0.01, `backend ${id}: ${n} slots, want ${even}±1%`);
});

test('maglev: weighted shares within 1% of the weights', () => {
  const backends = [{ id: 1, weight: 1 }, { id: 2, weight: 2 }, { id: 3, weight: 3 }, { id: 4, weight: 4 }, { id: 5, weight: 0 }];
  const t = maglevTable(backends);
  const c = counts(t);
  assert.equal(c.has(5), false, 'weight 0 gets no slot');
  for (const b of backends.filter((b) => b.weight > 0)) {
    const want = (16381 * b.weight) / 10;
    const got = c.get(b.id)!;
    assert.ok(Math.abs(got - want) / want < 0.01, `backend ${b.id} (weight ${b.weight}): ${got} slots, want ${want}±1%`);
  }
  // Equal weights are the unweighted table.
  assert.deepEqual(maglevTable([{ id: 7, weight: 5 }, { id: 8, weight: 5 }], 1021), maglevTable(ids(7, 8), 1021));
});

test('maglev: deterministic, independent of input order, seed-dependent', () => {
  const a = maglevTable(ids(...range(1, 10)));
  const b = maglevTable(ids(...range(1, 10).reverse()));
  assert.deepEqual(a, b);
  assert.deepEqual(maglevTable(ids(...range(1, 10)), 16381, 'seed-x'), maglevTable(ids(...range(1, 10)), 16381, 'seed-x'));
  assert.ok(changed(a, maglevTable(ids(...range(1, 10)), 16381, 'seed-x')) > 16381 / 2, 'another seed, another table');
});

test('maglev: removing 1 of 10 backends moves few slots; adding it back restores the table', () => {
  const all = range(101, 10);
  const before = maglevTable(ids(...all));
  const removed = 105;
  const after = maglevTable(ids(...all.filter((id) => id !== removed)));
  const moved = changed(before, after);
  assert.ok(moved / 16381 < 0.15, `removal changed ${moved} slots (${((moved / 16381) * 100).toFixed(1)}%)`);
  // The slots the removed backend held must move; few others should.
  const owned = counts(before).get(removed)!;
  assert.ok(moved >= owned);
  assert.ok(!after.includes(removed));
  assert.deepEqual(maglevTable(ids(...all)), before, 'adding it back gives the original table');
  // Adding an 11th backend also moves about 1/11.
  const grown = maglevTable(ids(...all, 999));
  assert.ok(changed(before, grown) / 16381 < 0.15);
});

test('maglev: refuses bad ids and weights', () => {
  assert.throws(() => maglevTable(ids(1, 1)), /given twice/);
  assert.throws(() => maglevTable(ids(-1)), /not a u32/);
  assert.throws(() => maglevTable(ids(2 ** 32)), /not a u32/);
  assert.throws(() => maglevTable([{ id: 1, weight: 1.5 }]), /weight/);
  assert.throws(() => maglevTable([{ id: 1, weight: -1 }]), /weight/);
});

test('maglev: large M with many backends stays fast enough', () => {
  const start = Date.now();
  const t = maglevTable(ids(...range(1, 200)), 131071);
  assert.equal(t.length, 131071);
  assert.equal(counts(t).size, 200);
  assert.ok(Date.now() - start < 5000);
});

test('maglev: keyed backends: two nodes with different ids build tables that agree on every slot', () => {
  const addrs = ['10.0.1.5:8080/TCP', '10.0.2.7:8080/TCP', '10.0.1.9:8080/TCP', '10.0.3.3:8080/TCP'];
  // Each node allocates its own ids (and lists backends in its own order).
  const node1 = addrs.map((key, i) => ({ id: 10 + i, key }));
  const node2 = addrs.map((key, i) => ({ id: 900 - 7 * i, key })).reverse();
  const addrOf = (bs: { id: number; key: string }[]) => new Map(bs.map((b) => [b.id, b.key]));
  const a1 = addrOf(node1);
  const a2 = addrOf(node2);
  for (const m of [251, 16381]) {
    const t1 = maglevTable(node1, m);
    const t2 = maglevTable(node2, m);
    assert.equal(t1.length, m);
    for (let s = 0; s < m; s++) assert.equal(a1.get(t1[s]!), a2.get(t2[s]!), `slot ${s}`);
    assert.equal(new Set(t1).size, addrs.length, 'every backend has slots');
  }
  // Unkeyed, the same ids on the two nodes would not agree: the key is what makes them.
  const u1 = maglevTable(node1.map(({ id }) => ({ id })), 251);
  const u2 = maglevTable(node2.map(({ id }) => ({ id })), 251);
  let differ = 0;
  for (let s = 0; s < 251; s++) if (a1.get(u1[s]!) !== a2.get(u2[s]!)) differ++;
  assert.ok(differ > 0, 'ids hashed per node give different tables');
});

test('maglev: the key, not the id, places a backend', () => {
  const t1 = maglevTable([{ id: 1, key: 'a' }, { id: 2, key: 'b' }], 251);
  const t2 = maglevTable([{ id: 2, key: 'a' }, { id: 1, key: 'b' }], 251);
  for (let s = 0; s < 251; s++) assert.equal(t1[s], 3 - t2[s]!, `slot ${s}: ids swapped with the keys`);
  assert.throws(() => maglevTable([{ id: 1, key: 'a' }, { id: 2, key: 'a' }]), /key a given twice/);
  assert.throws(() => maglevTable([{ id: 1, key: '' }]), /empty key/);
});
