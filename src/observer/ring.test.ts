import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RING_CAPACITY, FlowRing, RingLoss, ringTime } from './ring.js';
import type { Flow } from './types.js';

/** Flow i at second 1000 + i. */
const mk = (i: number): Flow => ({ uuid: `f${i}`, time: { seconds: String(1000 + i), nanos: i }, node_name: 'n1' });
const ns = (i: number) => BigInt(1000 + i) * 1_000_000_000n + BigInt(i);

function fill(ring: FlowRing, from: number, to: number) {
  for (let i = from; i < to; i++) ring.write(mk(i));
}

function drain(ring: FlowRing, seq: number): (string | RingLoss)[] {
  const c = ring.cursor(seq);
  const out: (string | RingLoss)[] = [];
  for (let x = c.next(); x !== undefined; x = c.next()) out.push(x instanceof RingLoss ? x : x.uuid!);
  return out;
}

test('default capacity is Hubble\'s 4095; length, oldest and wrap', () => {
  assert.equal(new FlowRing().capacity, DEFAULT_RING_CAPACITY);
  assert.equal(DEFAULT_RING_CAPACITY, 4095);
  const ring = new FlowRing(5);
  assert.equal(ring.length, 0);
  assert.equal(ring.oldestNs(), undefined);
  fill(ring, 0, 3);
  assert.equal(ring.length, 3);
  assert.equal(ring.oldestNs(), ns(0));
  fill(ring, 3, 12);
  assert.equal(ring.length, 5);
  assert.equal(ring.written, 12);
  assert.equal(ring.oldestSeq, 7);
  assert.equal(ring.oldestNs(), ns(7));
  assert.equal(ring.at(6), undefined);
  assert.equal(ring.at(7)?.uuid, 'f7');
  assert.deepEqual(drain(ring, ring.oldestSeq), ['f7', 'f8', 'f9', 'f10', 'f11']);
  assert.throws(() => new FlowRing(0), RangeError);
});

test('last N matching, since, until', () => {
  const ring = new FlowRing(8);
  fill(ring, 0, 20); // holds f12..f19
  const even = (f: Flow) => Number(f.uuid!.slice(1)) % 2 === 0;
  assert.deepEqual(drain(ring, ring.seqOfLastMatches(3, () => true)), ['f17', 'f18', 'f19']);
  // The last 2 even flows: f16, f18 — reading from f16 yields f16..f19; the reader filters.
  assert.equal(ring.at(ring.seqOfLastMatches(2, even))?.uuid, 'f16');
  assert.equal(ring.seqOfLastMatches(100, () => true), ring.oldestSeq, 'fewer than N: from the oldest');
  assert.equal(ring.seqOfLastMatches(0, () => true), ring.oldestSeq);
  assert.equal(ring.at(ring.seqOfLastMatches(2, () => true, ringTime(ns(15))))?.uuid, 'f14', 'last 2 not after until');
  assert.equal(ring.at(ring.seqAtOrAfter(ringTime(ns(15))))?.uuid, 'f15');
  assert.equal(ring.at(ring.seqAtOrAfter(ringTime(ns(15) + 1n)))?.uuid, 'f16', 'one ns later is the next flow');
  assert.equal(ring.seqAtOrAfter(ringTime(ns(0))), ring.oldestSeq);
  assert.equal(ring.seqAtOrAfter(ringTime(ns(99))), ring.nextSeq);
});

test('a cursor lapped by the writer reports exactly how many flows it missed and continues from the oldest', () => {
  const ring = new FlowRing(4);
  fill(ring, 0, 2);
  const c = ring.cursor(0);
  assert.equal((c.next() as Flow).uuid, 'f0');
  fill(ring, 2, 13); // cursor at seq 1; the ring holds 9..12
  const loss = c.next();
  assert.ok(loss instanceof RingLoss);
  assert.equal(loss.source, 'HUBBLE_RING_BUFFER');
  assert.equal(loss.count, 8, 'f1..f8 were overwritten');
  assert.deepEqual([1, 2, 3, 4].map(() => (c.next() as Flow).uuid), ['f9', 'f10', 'f11', 'f12']);
  assert.equal(c.next(), undefined);
  assert.equal(ring.lostTotals().HUBBLE_RING_BUFFER, 8);
  // A cursor asked to start at a seq already overwritten reports that too.
  assert.deepEqual(drain(ring, 5).slice(0, 2), [new RingLoss('HUBBLE_RING_BUFFER', 4), 'f9']);
});

test('losses before the ring are reported between the flows they happened between, once per cursor', () => {
  const ring = new FlowRing(10);
  const following = ring.cursor();
  fill(ring, 0, 2);
  ring.addLost('OBSERVER_EVENTS_QUEUE', 3);
  ring.addLost('PERF_EVENT_RING_BUFFER', 2);
  fill(ring, 2, 3);
  ring.addLost('OBSERVER_EVENTS_QUEUE', 1);
  const seen: (string | RingLoss)[] = [];
  for (let x = following.next(); x !== undefined; x = following.next()) seen.push(x instanceof RingLoss ? x : x.uuid!);
  assert.deepEqual(seen, ['f0', 'f1', new RingLoss('PERF_EVENT_RING_BUFFER', 2), new RingLoss('OBSERVER_EVENTS_QUEUE', 3), 'f2', new RingLoss('OBSERVER_EVENTS_QUEUE', 1)]);
  assert.equal(following.next(), undefined, 'reported once');
  // A reader that starts later does not report losses before its start.
  assert.deepEqual(drain(ring, 2), ['f2', new RingLoss('OBSERVER_EVENTS_QUEUE', 1)]);
  assert.deepEqual(ring.lostTotals(), { PERF_EVENT_RING_BUFFER: 2, OBSERVER_EVENTS_QUEUE: 4, HUBBLE_RING_BUFFER: 0 });
});

test('waitForWrite wakes once at notify, and can be cancelled', () => {
  const ring = new FlowRing(4);
  let woke = 0;
  ring.waitForWrite(() => woke++);
  const cancel = ring.waitForWrite(() => woke += 100);
  cancel();
  ring.notify();
  ring.notify();
  assert.equal(woke, 1);
});
