import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { BoundedLineWriter, type LineSink } from './subscriber.js';

/** A socket that takes `room` lines, then says "wait for drain" until the test reads it. */
class SlowSink extends EventEmitter implements LineSink {
  written: string[] = [];
  pending = 0;
  constructor(private readonly room: number) {
    super();
  }
  write(line: string): boolean {
    this.written.push(line);
    this.pending++;
    return this.pending < this.room;
  }
  /** The reader caught up. */
  read(): void {
    this.pending = 0;
    this.emit('drain');
  }
}

const lost = (n: number) => `lost ${n}`;

test('a subscriber that keeps up gets every line, nothing queued', () => {
  const sink = new SlowSink(1e9);
  const w = new BoundedLineWriter(sink, lost, 4);
  for (let i = 0; i < 100; i++) w.push(`e${i}`);
  assert.equal(sink.written.length, 100);
  assert.equal(w.queued, 0);
  w.lost(3);
  assert.equal(sink.written.at(-1), 'lost 3', 'a loss upstream is reported at once');
});

test('a slow subscriber: at most maxQueued lines wait; then it is told how many it missed, where it missed them', () => {
  const sink = new SlowSink(2);
  const w = new BoundedLineWriter(sink, lost, 3);
  for (let i = 0; i < 1000; i++) w.push(`e${i}`);
  // Two went to the socket (the second filled it), three wait, the rest are dropped and counted.
  assert.deepEqual(sink.written, ['e0', 'e1']);
  assert.equal(w.queued, 3);
  assert.equal(w.dropped, 995);
  w.lost(5); // the kernel lost some meanwhile: one report for both
  sink.read();
  assert.deepEqual(sink.written.slice(2), ['e2', 'e3']);
  sink.read();
  assert.deepEqual(sink.written.slice(4), ['e4', 'lost 1000']);
  sink.read();
  w.push('e1000');
  assert.deepEqual(sink.written.slice(6), ['e1000']);
  assert.equal(w.queued, 0);
  // Every event is accounted for: delivered, or counted in a lost line.
  const delivered = sink.written.filter((l) => l.startsWith('e')).length;
  const reported = sink.written.filter((l) => l.startsWith('lost')).reduce((n, l) => n + Number(l.split(' ')[1]), 0);
  assert.equal(delivered + reported, 1001 + 5);
});

test('a closed writer writes nothing more and stops waiting for drain', () => {
  const sink = new SlowSink(1);
  const w = new BoundedLineWriter(sink, lost, 3);
  w.push('a');
  w.push('b');
  assert.equal(sink.listenerCount('drain'), 1);
  w.close();
  assert.equal(sink.listenerCount('drain'), 0);
  w.push('c');
  w.lost(1);
  sink.read();
  assert.deepEqual(sink.written, ['a']);
});
