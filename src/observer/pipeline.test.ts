import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { FlowPipeline } from './pipeline.js';
import { RingLoss } from './ring.js';
import { compileFlowFilters } from './filter.js';
import type { Flow } from './types.js';

/** Record: u32 index; odd indexes ≥ 1e9 are "not a flow"; 0xffffffff throws. */
const rec = (i: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(i);
  return b;
};
const decode = (b: Buffer): Flow | undefined => {
  const i = b.readUInt32LE(0);
  if (i === 0xffffffff) throw new Error('bad record');
  if (i >= 1e9) return undefined;
  return { uuid: String(i), time: { seconds: String(1_700_000_000 + i), nanos: 0 }, verdict: i % 2 ? 'DROPPED' : 'FORWARDED', node_name: 'n1' };
};

test('push only enqueues; decoding happens later in batches, into the ring and to listeners', async () => {
  const p = new FlowPipeline({ decode, batchSize: 3 });
  const got: string[] = [];
  p.onFlow((f) => got.push(f.uuid!));
  for (let i = 0; i < 10; i++) assert.equal(p.push(rec(i)), true);
  assert.equal(got.length, 0, 'nothing decoded inside push');
  assert.equal(p.stats().queued, 10);
  await p.idle();
  assert.deepEqual(got, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.equal(p.ring.length, 10);
  assert.equal(p.seen, 10);
});

test('records that are not flows, decode errors and throwing listeners are counted and do not stop the pipeline', async () => {
  const errors: string[] = [];
  const p = new FlowPipeline({ decode, onError: (_e, where) => errors.push(where) });
  let calls = 0;
  p.onFlow(() => { calls++; throw new Error('listener bug'); });
  const second: string[] = [];
  const off = p.onFlow((f) => second.push(f.uuid!));
  p.push(rec(1));
  p.push(rec(1e9 + 1));
  p.push(rec(0xffffffff));
  p.push(rec(2));
  await p.idle();
  assert.deepEqual(second, ['1', '2']);
  assert.equal(calls, 2);
  const s = p.stats();
  assert.equal(s.offered, 4);
  assert.equal(s.seen, 2);
  assert.equal(s.undecoded, 1);
  assert.equal(s.decodeErrors, 1);
  assert.equal(s.listenerErrors, 2);
  assert.deepEqual(errors.sort(), ['decode', 'listener', 'listener']);
  off();
  p.push(rec(3));
  await p.idle();
  assert.deepEqual(second, ['1', '2'], 'unsubscribed');
});

test('a full queue counts every lost record exactly: offered = seen + lost; followers are told', async () => {
  const p = new FlowPipeline({ decode, queueSize: 100, batchSize: 1000 });
  const items: (Flow | RingLoss)[] = [];
  p.subscribe({}, (x) => { items.push(x); return true; });
  await tick();
  let accepted = 0;
  for (let i = 0; i < 250; i++) if (p.push(rec(i))) accepted++;
  assert.equal(accepted, 100);
  p.addKernelLost(7);
  await p.idle();
  for (let i = 250; i < 260; i++) p.push(rec(i));
  await p.idle();
  await tick();
  await tick();
  const s = p.stats();
  assert.equal(s.offered, 260);
  assert.equal(s.lost.OBSERVER_EVENTS_QUEUE, 150);
  assert.equal(s.lost.PERF_EVENT_RING_BUFFER, 7);
  assert.equal(s.offered, s.seen + s.lost.OBSERVER_EVENTS_QUEUE);
  const flows = items.filter((x): x is Flow => !(x instanceof RingLoss));
  const losses = items.filter((x): x is RingLoss => x instanceof RingLoss);
  assert.equal(flows.length, 110);
  assert.deepEqual(losses.map((l) => [l.source, l.count]).sort(), [['OBSERVER_EVENTS_QUEUE', 150], ['PERF_EVENT_RING_BUFFER', 7]]);
  assert.equal(flows.length + losses.filter((l) => l.source === 'OBSERVER_EVENTS_QUEUE').reduce((a, l) => a + l.count, 0), 260);
});

test('subscribe: filter, non-follow catch-up, pause/resume with a lapped subscriber getting the exact miss count', async () => {
  const p = new FlowPipeline({ decode, ringCapacity: 50 });
  for (let i = 0; i < 40; i++) p.push(rec(i));
  await p.idle();
  // Non-follow with a filter: the dropped (odd) flows held now, then done.
  const odd: string[] = [];
  await new Promise<void>((resolve) => p.subscribe({ from: p.ring.oldestSeq, follow: false, match: compileFlowFilters([{ verdict: ['DROPPED'] }], []), onCaughtUp: resolve }, (x) => { if (!(x instanceof RingLoss)) odd.push(x.uuid!); return true; }));
  assert.equal(odd.length, 20);
  assert.ok(odd.every((u) => Number(u) % 2 === 1));

  // Two followers: one fast, one that pauses after its first flow.
  const fast: number[] = [], slow: number[] = [];
  let slowLost = 0;
  p.subscribe({}, (x) => { if (!(x instanceof RingLoss)) fast.push(Number(x.uuid)); return true; });
  const slowSub = p.subscribe({}, (x) => {
    if (x instanceof RingLoss) { assert.equal(x.source, 'HUBBLE_RING_BUFFER'); slowLost += x.count; return true; }
    slow.push(Number(x.uuid));
    return slow.length > 1; // pause after the first flow
  });
  await tick();
  for (let i = 40; i < 240; i++) p.push(rec(i));
  await p.idle();
  await tick();
  await tick();
  assert.equal(fast.length, 200, 'the fast follower got everything');
  assert.deepEqual(slow, [40]);
  assert.equal(slowSub.cursor.behind, 200 - 1);
  slowSub.resume();
  for (let i = 0; i < 5; i++) await tick();
  // Delivered + missed = every flow since it started.
  assert.equal(slow.length + slowLost, 200);
  assert.equal(slowLost, 200 - 1 - 50, 'the ring held the last 50; the rest after the first were lost');
  assert.deepEqual(slow.slice(1), Array.from({ length: 50 }, (_, i) => 190 + i));
  assert.equal(p.stats().lost.HUBBLE_RING_BUFFER, slowLost);
  slowSub.close();
});

test('close drops queued records as queue losses and refuses more', async () => {
  const p = new FlowPipeline({ decode });
  p.push(rec(1));
  p.push(rec(2));
  p.close();
  assert.equal(p.push(rec(3)), false);
  await p.idle();
  const s = p.stats();
  assert.equal(s.seen, 0);
  assert.equal(s.lost.OBSERVER_EVENTS_QUEUE, 3);
});

test('back-pressure: the reader is asked to pause at half a queue and to resume at a quarter, once each', async () => {
  const { FlowPipeline } = await import('./pipeline.js');
  const calls: boolean[] = [];
  const p = new FlowPipeline({ decode: () => ({ verdict: 'FORWARDED' }) as never, queueSize: 16, ringCapacity: 64, onPressure: (paused) => calls.push(paused) });
  for (let i = 0; i < 7; i++) p.push(Buffer.alloc(1));
  assert.deepEqual(calls, [], 'below half: nothing');
  p.push(Buffer.alloc(1));
  assert.deepEqual(calls, [true], 'half full: pause');
  for (let i = 0; i < 4; i++) p.push(Buffer.alloc(1));
  assert.deepEqual(calls, [true], 'asked once');
  await p.idle();
  assert.deepEqual(calls, [true, false], 'drained: resume');
  assert.equal(p.stats().readerPauses, 1);
  assert.equal(p.stats().seen, 12);
  p.close();
});

test('ingestFlow: ready-made flows take the decoded ones\' way, in arrival order, counted as seen and as ingested', async () => {
  const p = new FlowPipeline({ decode, queueSize: 4 });
  const got: string[] = [];
  p.onFlow((f) => got.push(f.uuid!));
  p.push(rec(1));
  assert.equal(p.ingestFlow({ uuid: 'l7-a', time: { seconds: 1_700_000_001, nanos: 5 } }), true);
  p.push(rec(2));
  assert.equal(p.ingestFlow({ uuid: 'l7-b' }), true);
  assert.equal(p.ingestFlow({ uuid: 'l7-lost' }), false, 'the queue holds 4');
  assert.equal(got.length, 0, 'nothing written inside ingestFlow');
  await p.idle();
  assert.deepEqual(got, ['1', 'l7-a', '2', 'l7-b']);
  assert.deepEqual([0, 1, 2, 3].map((i) => p.ring.at(i)?.uuid), ['1', 'l7-a', '2', 'l7-b']);
  const s = p.stats();
  assert.equal(s.offered, 2);
  assert.equal(s.ingested, 3);
  assert.equal(s.seen, 4);
  assert.equal(s.lost.OBSERVER_EVENTS_QUEUE, 1);
});

test('monotonicTime: a flow older than the one before takes its time; later ones keep theirs', async () => {
  const p = new FlowPipeline({ decode, monotonicTime: true });
  const t = (seconds: number | string, nanos: number): Flow => ({ uuid: `${seconds}.${nanos}`, time: { seconds, nanos } });
  p.ingestFlow(t(100, 500));
  p.ingestFlow(t(100, 400)); // kernel stamps of two CPUs
  p.ingestFlow(t(99, 999)); // an L7 record that arrived when its exchange was over
  p.ingestFlow(t('100', 600)); // seconds as text (a decoded flow)
  p.ingestFlow(t(101, 0));
  await p.idle();
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => p.ring.at(i)!.time), [
    { seconds: 100, nanos: 500 },
    { seconds: 100, nanos: 500 },
    { seconds: 100, nanos: 500 },
    { seconds: '100', nanos: 600 },
    { seconds: 101, nanos: 0 },
  ]);
  // Without the option, times are left alone.
  const q = new FlowPipeline({ decode });
  q.ingestFlow(t(100, 500));
  q.ingestFlow(t(99, 0));
  await q.idle();
  assert.deepEqual(q.ring.at(1)!.time, { seconds: 99, nanos: 0 });
});
