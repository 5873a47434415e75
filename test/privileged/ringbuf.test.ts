/**
 * The ring buffer reader (src/datapath/native/libbpf.ts RingBuffer) against
 * the kernel: bpf/test/perf.bpf.c's bl_perf_emit writes `count` copies of a
 * template record into a 1 MiB BPF ring buffer, and the reader must hand over
 * exactly what was written, byte for byte, in order, across many wraps of the
 * ring, with records the handler keeps staying intact after the kernel has
 * written over their place in the ring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot } from '../../src/common/version.js';
import { Datapath } from '../../src/datapath/loader.js';
import { codec } from '../../src/datapath/maps.js';
import { ETH_IPV4 } from '../lib/packets.js';
import { requireObject } from './datapath-support.js';

const PERF_OBJECT = join(repoRoot, 'build/bpf/test/perf.bpf.o');
const EVENT_SIZE = 176;
const EMIT_MAX = 256;
const RING_BYTES = 1 << 20;

const u32 = codec<number>(4, (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; }, (b) => b.readUInt32LE(0));
const bytes = codec<Buffer>(EVENT_SIZE, (v) => v, (b) => Buffer.from(b));
const u64 = codec<bigint>(8, (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; }, (b) => b.readBigUInt64LE(0));

/** Record of run `k`: every byte says which run wrote it (and where), so a stale or torn record shows. */
function template(k: number): Buffer {
  const b = Buffer.alloc(EVENT_SIZE);
  for (let i = 0; i < EVENT_SIZE; i += 4) b.writeUInt32LE((k * 1000 + i) >>> 0, i);
  return b;
}

function emit(dp: Datapath, count: number): void {
  const frame = Buffer.alloc(64);
  frame.writeUInt16BE(ETH_IPV4, 12);
  frame.writeUInt32LE(count, 14);
  assert.equal(dp.testRun('bl_perf_emit', frame).retval, 0);
}

test('every record, in order and byte for byte, across many wraps of the ring; kept records stay intact', () => {
  const dp = Datapath.open(requireObject(PERF_OBJECT)).load();
  try {
    const tmpl = dp.map('perf_event_tmpl', u32, bytes);
    const lost = dp.map('perf_events_lost', u32, u64);
    const got: Buffer[] = [];
    const reader = dp.ringBuffer('perf_events', (rec) => got.push(rec), { keepAlive: false });
    const want: Buffer[] = [];
    // Runs of uneven sizes, drained every few runs, until the ring wrapped about 4 times.
    const perRecord = EVENT_SIZE + 8;
    let k = 0;
    while (want.length * perRecord < 4 * RING_BYTES) {
      const t = template(k);
      tmpl.set(0, t);
      const count = 1 + ((k * 37) % EMIT_MAX);
      emit(dp, count);
      for (let i = 0; i < count; i++) want.push(t);
      if (k % 5 === 4) reader.drain();
      k++;
    }
    reader.drain();
    assert.equal(lost.get(0), 0n, 'nothing lost: the reader drained before the ring filled');
    assert.equal(got.length, want.length);
    assert.equal(reader.samples, want.length);
    for (let i = 0; i < want.length; i++) {
      if (!got[i]!.equals(want[i]!)) assert.fail(`record ${i} differs from what run wrote it: ${got[i]!.subarray(0, 8).toString('hex')} vs ${want[i]!.subarray(0, 8).toString('hex')}`);
    }
    reader.close();
  } finally {
    dp.close();
  }
});

test('a full ring: what does not fit is the kernel\'s loss, the rest is read exactly once', () => {
  const dp = Datapath.open(requireObject(PERF_OBJECT)).load();
  try {
    const tmpl = dp.map('perf_event_tmpl', u32, bytes);
    const lost = dp.map('perf_events_lost', u32, u64);
    tmpl.set(0, template(7));
    let got = 0;
    const reader = dp.ringBuffer('perf_events', () => got++, { keepAlive: false });
    const fits = Math.floor(RING_BYTES / (EVENT_SIZE + 8));
    const runs = Math.ceil((fits + 1000) / EMIT_MAX);
    for (let i = 0; i < runs; i++) emit(dp, EMIT_MAX);
    const offered = runs * EMIT_MAX;
    assert.equal(reader.drain(), got);
    const dropped = Number(lost.get(0));
    assert.ok(dropped > 0, 'the ring overflowed');
    assert.equal(got + dropped, offered);
    assert.equal(got, fits);
    // The space is back: the next run fits again.
    emit(dp, 10);
    assert.equal(reader.drain(), 10);
    reader.close();
  } finally {
    dp.close();
  }
});
