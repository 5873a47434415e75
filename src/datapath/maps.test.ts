import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbiMismatchError, BpfError } from '../common/errors.js';
import { codec, iterateKeys, PerCpuMap, sumPerCpu, TypedMap } from './maps.js';
import { U32_CODEC as u32, U64_CODEC as u64 } from './generated/abi.js';
import type { RawMap } from './native/libbpf.js';

/**
 * An in-memory RawMap that behaves like the kernel's hash map where it
 * matters: get_next_key on a key that no longer exists restarts from the
 * first entry, and per-CPU values are round_up(value_size, 8) per CPU.
 */
class FakeMap implements RawMap {
  readonly entries = new Map<string, Buffer>();
  readonly perCpu: boolean;
  readonly valueSlots: number;
  readonly valueBufferSize: number;
  batchSupported = true;
  /** Called after every nextKey: lets a test mutate the map mid-walk. */
  onNext: ((key: Buffer) => void) | undefined;
  constructor(
    readonly name: string,
    readonly keySize: number,
    readonly valueSize: number,
    opts: { cpus?: number; maxEntries?: number; type?: number } = {},
  ) {
    this.perCpu = opts.cpus !== undefined;
    this.valueSlots = opts.cpus ?? 1;
    this.valueBufferSize = this.perCpu ? Math.ceil(valueSize / 8) * 8 * this.valueSlots : valueSize;
    this.maxEntries = opts.maxEntries ?? 64;
    this.type = opts.type ?? (this.perCpu ? 5 : 1);
  }
  readonly maxEntries: number;
  readonly type: number;
  #k(key: Uint8Array): string {
    assert.equal(key.length, this.keySize, 'key length');
    return Buffer.from(key).toString('hex');
  }
  lookup(key: Uint8Array): Buffer | undefined {
    const v = this.entries.get(this.#k(key));
    return v && Buffer.from(v);
  }
  update(key: Uint8Array, value: Uint8Array): void {
    assert.equal(value.length, this.valueBufferSize, 'value length');
    this.entries.set(this.#k(key), Buffer.from(value));
  }
  delete(key: Uint8Array): boolean {
    return this.entries.delete(this.#k(key));
  }
  nextKey(key: Uint8Array | null): Buffer | undefined {
    const keys = [...this.entries.keys()];
    let i = 0;
    if (key) {
      const at = keys.indexOf(this.#k(key));
      i = at < 0 ? 0 : at + 1; // deleted key: restart, like the kernel's htab
    }
    const next = keys[i] === undefined ? undefined : Buffer.from(keys[i]!, 'hex');
    if (next) this.onNext?.(next);
    return next;
  }
  lookupBatch(cursor: Buffer | null, max: number) {
    if (!this.batchSupported) throw new BpfError('batch lookup: EINVAL', 22);
    const all = [...this.entries.entries()];
    const start = cursor ? cursor.readUInt32LE(0) : 0;
    const slice = all.slice(start, start + max);
    const end = start + slice.length;
    const next = Buffer.alloc(8);
    next.writeUInt32LE(end);
    return {
      keys: slice.map(([k]) => Buffer.from(k, 'hex')),
      values: slice.map(([, v]) => Buffer.from(v)),
      cursor: end >= all.length ? null : next,
    };
  }
}

interface Counter {
  count: bigint;
  bytes: bigint;
}
const counter = codec<Counter>(
  16,
  (v) => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(v.count, 0);
    b.writeBigUInt64LE(v.bytes, 8);
    return b;
  },
  (b) => ({ count: b.readBigUInt64LE(0), bytes: b.readBigUInt64LE(8) }),
);

test('TypedMap: get/set/delete go through the codecs', () => {
  const raw = new FakeMap('m', 4, 8);
  const m = new TypedMap(raw, u32, u64);
  assert.equal(m.get(1), undefined);
  m.set(1, 10n);
  m.set(2, 20n);
  assert.equal(m.get(1), 10n);
  assert.deepEqual([...m.entries()], [[1, 10n], [2, 20n]]);
  assert.deepEqual([...m.keys()], [1, 2]);
  assert.equal(m.delete(1), true);
  assert.equal(m.delete(1), false);
  assert.deepEqual(m.snapshot(), [[2, 20n]]);
});

test('TypedMap: sizes that differ from the kernel map are an AbiMismatchError naming both', () => {
  const raw = new FakeMap('bl_metrics', 8, 16);
  assert.throws(() => new TypedMap(raw, u32, counter), (e: unknown) => {
    assert.ok(e instanceof AbiMismatchError);
    assert.match(e.message, /map bl_metrics: key is 8 bytes in the kernel but 4 in the codec/);
    return true;
  });
  assert.throws(() => new TypedMap(new FakeMap('v', 4, 12), u32, counter), /value is 12 bytes in the kernel but 16/);
});

test('TypedMap: a codec that encodes the wrong length is caught before the kernel reads it', () => {
  const bad = codec<number>(4, () => Buffer.alloc(3), (b) => b.readUInt32LE(0));
  const m = new TypedMap(new FakeMap('m', 4, 8), bad, u64);
  assert.throws(() => m.set(1, 1n), AbiMismatchError);
});

test('TypedMap refuses a per-CPU map and PerCpuMap refuses a plain one', () => {
  assert.throws(() => new TypedMap(new FakeMap('p', 4, 8, { cpus: 2 }), u32, u64), /per-CPU/);
  assert.throws(() => new PerCpuMap(new FakeMap('h', 4, 8), u32, u64), /not per-CPU/);
});

test('entries() survives entries deleted during the walk', () => {
  const raw = new FakeMap('m', 4, 8);
  const m = new TypedMap(raw, u32, u64);
  for (let i = 0; i < 10; i++) m.set(i, BigInt(i));
  // Delete the key just returned (kernel then restarts from the first bucket) and one further ahead.
  let deletes = 0;
  raw.onNext = (k) => {
    const n = k.readUInt32LE(0);
    if (n === 3 && deletes++ === 0) {
      raw.entries.delete(k.toString('hex'));
      const seven = Buffer.alloc(4);
      seven.writeUInt32LE(7);
      raw.entries.delete(seven.toString('hex'));
    }
  };
  const seen = [...m.entries()].map(([k]) => k);
  assert.deepEqual(seen, [0, 1, 2, 4, 5, 6, 8, 9], 'no duplicates, deleted keys skipped');
});

test('iterateKeys aborts instead of spinning when the map keeps changing', () => {
  const raw = new FakeMap('churn', 4, 8, { maxEntries: 2 });
  const k = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  raw.update(k(0), Buffer.alloc(8));
  raw.update(k(1), Buffer.alloc(8));
  // Key 1 vanishes right after being returned (so the walk restarts from key 0)
  // and reappears when key 0 is returned: a walk that never reaches the end.
  raw.onNext = (key) => {
    const hex = key.toString('hex');
    if (key.readUInt32LE(0) === 1) raw.entries.delete(hex);
    else raw.entries.set(k(1).toString('hex'), Buffer.alloc(8));
  };
  assert.throws(() => [...iterateKeys(raw)], (e: unknown) => e instanceof BpfError && e.errno === 11);
});

test('clear() deletes everything; snapshot() falls back to a walk without batch support', () => {
  const raw = new FakeMap('m', 4, 8);
  const m = new TypedMap(raw, u32, u64);
  for (let i = 0; i < 300; i++) m.set(i, 1n);
  assert.equal(m.snapshot().length, 300); // 2 batches of 256
  raw.batchSupported = false;
  assert.equal(m.snapshot().length, 300);
  assert.equal(m.clear(), 300);
  assert.equal(raw.entries.size, 0);
});

test('PerCpuMap: one value per CPU in 8-byte-aligned slots, summed on request', () => {
  // A 12-byte value occupies 16 bytes per CPU in the kernel's buffer.
  const v12 = codec<number>(
    12,
    (n) => {
      const b = Buffer.alloc(12);
      b.writeUInt32LE(n, 8);
      return b;
    },
    (b) => b.readUInt32LE(8),
  );
  const raw = new FakeMap('pc', 4, 12, { cpus: 3 });
  assert.equal(raw.valueBufferSize, 48);
  const m = new PerCpuMap(raw, u32, v12);
  assert.equal(m.cpus, 3);
  m.setPerCpu(7, [1, 2, 3]);
  const buf = raw.lookup(u32.encode(7))!;
  assert.equal(buf.readUInt32LE(8), 1);
  assert.equal(buf.readUInt32LE(16 + 8), 2);
  assert.equal(buf.readUInt32LE(32 + 8), 3);
  assert.deepEqual(m.getPerCpu(7), [1, 2, 3]);
  assert.equal(m.sum(7), 6);
  assert.equal(m.sum(8), undefined);
  assert.throws(() => m.setPerCpu(7, [1, 2]), /2 values for 3 possible CPUs/);
});

test('PerCpuMap: counters fold field by field', () => {
  const m = new PerCpuMap(new FakeMap('bl_metrics', 4, 16, { cpus: 2 }), u32, counter);
  m.setPerCpu(0, [
    { count: 1n, bytes: 60n },
    { count: 2n, bytes: 100n },
  ]);
  assert.deepEqual(m.sum(0), { count: 3n, bytes: 160n });
  assert.deepEqual(m.snapshot(), [[0, { count: 3n, bytes: 160n }]]);
  assert.deepEqual([...m.entriesPerCpu()].length, 1);
  assert.deepEqual(sumPerCpu([1, 2, 3]), 6);
  assert.deepEqual(sumPerCpu([{ a: 1, tag: 'x' }, { a: 2, tag: 'x' }]), { a: 3, tag: 'x' });
});
