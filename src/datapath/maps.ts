/**
 * Typed BPF maps: a native map handle plus a key codec and a value codec.
 * The codecs come from src/datapath/generated (encodeX/decodeX/X_SIZE
 * generated from the object's BTF); this file checks once, at construction,
 * that the kernel's map agrees with them, so a stale build fails loudly with
 * AbiMismatchError instead of reading garbage.
 *
 * No fds here: everything goes through the RawMap interface, which
 * native/libbpf.ts implements over a real map and tests implement in memory.
 */
import { AbiMismatchError, BpfError } from '../common/errors.js';
import type { RawMap } from './native/libbpf.js';

/** Fixed-size binary encoding of one C struct (or scalar). */
export interface Codec<T> {
  /** sizeof() the C type. */
  readonly size: number;
  /** The generated codecs write into buf at off when given one (and answer buf); others may ignore it. */
  encode(value: T, buf?: Buffer, off?: number): Uint8Array;
  /** Decodes exactly `size` bytes. */
  decode(bytes: Buffer): T;
}

/** Builds a codec from generated functions, e.g. `codec(BL_METRICS_KEY_SIZE, encodeBlMetricsKey, decodeBlMetricsKey)`. */
export function codec<T>(size: number, encode: (value: T) => Uint8Array, decode: (bytes: Buffer) => T): Codec<T> {
  return { size, encode, decode };
}

const BPF_ANY = 0;
const EAGAIN = 11;
const EINVAL = 22;
const ENOENT = 2;
const ARRAY_TYPES: ReadonlySet<number> = new Set([2 /* ARRAY */, 6 /* PERCPU_ARRAY */]);

function checkCodecs(raw: RawMap, key: Codec<unknown>, value: Codec<unknown>): void {
  if (key.size !== raw.keySize) {
    throw new AbiMismatchError(`map ${raw.name}: key is ${raw.keySize} bytes in the kernel but ${key.size} in the codec`);
  }
  if (value.size !== raw.valueSize) {
    throw new AbiMismatchError(`map ${raw.name}: value is ${raw.valueSize} bytes in the kernel but ${value.size} in the codec`);
  }
}

/** Encodes v into buf at off: in place when the codec can, else copied there. */
function packInto<T>(mapName: string, what: 'key' | 'value', c: Codec<T>, v: T, buf: Buffer, off: number): void {
  const b = c.encode(v, buf, off);
  if (b === buf) return;
  if (b.length !== c.size) throw new AbiMismatchError(`map ${mapName}: ${what} codec produced ${b.length} bytes, not ${c.size}`);
  buf.set(b, off);
}

function encodeChecked<T>(mapName: string, what: 'key' | 'value', c: Codec<T>, v: T): Uint8Array {
  const b = c.encode(v);
  if (b.length !== c.size) throw new AbiMismatchError(`map ${mapName}: ${what} codec produced ${b.length} bytes, not ${c.size}`);
  return b;
}

/**
 * Walks the keys of a map with BPF_MAP_GET_NEXT_KEY, robust to entries being
 * deleted meanwhile (the datapath and other agents write concurrently).
 * When the previous key is deleted under us, the kernel's hash map restarts
 * from its first bucket; keys already yielded are skipped, and a walk that
 * keeps restarting is aborted instead of spinning forever.
 */
export function* iterateKeys(raw: RawMap): Generator<Buffer> {
  const seen = new Set<string>();
  const wastedLimit = raw.maxEntries * 8 + 1024;
  let wasted = 0;
  let prev: Buffer | null = null;
  for (;;) {
    const next = raw.nextKey(prev);
    if (!next) return;
    prev = next;
    const id = next.toString('latin1');
    if (seen.has(id)) {
      if (++wasted > wastedLimit) {
        throw new BpfError(`iterate map ${raw.name}: aborted after ${wasted} repeated keys (the map changes faster than it can be walked)`, EAGAIN, {
          hint: 'retry, or read it with a batch lookup',
        });
      }
      continue;
    }
    seen.add(id);
    yield next;
  }
}

/** Deletes every entry (arrays, which cannot delete, are zeroed). Returns how many entries were removed or zeroed. */
function clearRaw(raw: RawMap): number {
  let n = 0;
  if (ARRAY_TYPES.has(raw.type)) {
    const zero = Buffer.alloc(raw.valueBufferSize);
    for (const k of iterateKeys(raw)) {
      raw.update(k, zero, BPF_ANY);
      n++;
    }
    return n;
  }
  // Collect then delete (deleting while walking makes the kernel restart the walk).
  // Entries added meanwhile are caught by the next pass; stop after a few passes.
  for (let pass = 0; pass < 4; pass++) {
    const keys = [...iterateKeys(raw)];
    if (keys.length === 0) break;
    for (const k of keys) if (raw.delete(k)) n++;
  }
  return n;
}

function isUnsupported(err: unknown): boolean {
  return err instanceof BpfError && (err.errno === EINVAL || err.errno === 524 || err.errno === 95);
}

/** Reads all entries with batch lookups when the map type supports them; undefined when it does not. */
function batchDump(raw: RawMap): Array<[Buffer, Buffer]> | undefined {
  if (!raw.lookupBatch) return undefined;
  const out: Array<[Buffer, Buffer]> = [];
  const chunk = Math.max(1, Math.min(raw.maxEntries, 4096));
  let cursor: Buffer | null = null;
  try {
    do {
      const r: { keys: Buffer[]; values: Buffer[]; cursor: Buffer | null } = raw.lookupBatch(cursor, chunk);
      r.keys.forEach((k, i) => out.push([k, r.values[i]!]));
      cursor = r.cursor;
    } while (cursor);
  } catch (err) {
    if (out.length === 0 && isUnsupported(err)) return undefined;
    throw err;
  }
  return out;
}

/** Entries per batch syscall: bounds the kernel's copy of keys and values to a few MiB. */
export const BATCH_CHUNK = 65536;

/** A map whose values are one V per key (HASH, ARRAY, LPM_TRIE, LRU_HASH …). */
export class TypedMap<K, V> {
  readonly raw: RawMap;
  readonly key: Codec<K>;
  readonly value: Codec<V>;

  /** Throws AbiMismatchError when the codecs' sizes differ from the kernel map's. */
  constructor(raw: RawMap, key: Codec<K>, value: Codec<V>) {
    if (raw.perCpu) {
      throw new BpfError(`map ${raw.name}: is per-CPU; use PerCpuMap (perCpuMap())`, EINVAL);
    }
    checkCodecs(raw, key, value);
    this.raw = raw;
    this.key = key;
    this.value = value;
  }

  get name(): string {
    return this.raw.name;
  }

  get(k: K): V | undefined {
    const v = this.raw.lookup(encodeChecked(this.name, 'key', this.key, k));
    return v === undefined ? undefined : this.value.decode(v);
  }

  /** flags: 0 any, 1 BPF_NOEXIST (create only), 2 BPF_EXIST (update only). */
  set(k: K, v: V, flags = BPF_ANY): void {
    this.raw.update(encodeChecked(this.name, 'key', this.key, k), encodeChecked(this.name, 'value', this.value, v), flags);
  }

  /** False when the key was not there. */
  delete(k: K): boolean {
    return this.raw.delete(encodeChecked(this.name, 'key', this.key, k));
  }

  /**
   * Writes many entries: one syscall per BATCH_CHUNK where the map supports
   * batch updates, else one each. Entries are written in the order given.
   */
  setMany(entries: ReadonlyArray<readonly [K, V]>, flags = BPF_ANY): void {
    if (this.raw.updateBatchPacked && this.raw.valueBufferSize === this.value.size) {
      // Encoded straight into one buffer per chunk: no buffer per entry, no concatenation.
      for (let i = 0; i < entries.length; i += BATCH_CHUNK) {
        const chunk = entries.slice(i, i + BATCH_CHUNK);
        const keys = Buffer.alloc(chunk.length * this.key.size);
        const values = Buffer.alloc(chunk.length * this.value.size);
        chunk.forEach(([k, v], j) => {
          packInto(this.name, 'key', this.key, k, keys, j * this.key.size);
          packInto(this.name, 'value', this.value, v, values, j * this.value.size);
        });
        this.raw.updateBatchPacked(keys, values, chunk.length, flags);
      }
      return;
    }
    const keys = entries.map(([k]) => encodeChecked(this.name, 'key', this.key, k));
    const values = entries.map(([, v]) => encodeChecked(this.name, 'value', this.value, v));
    if (!this.raw.updateBatch) {
      keys.forEach((k, i) => this.raw.update(k, values[i]!, flags));
      return;
    }
    for (let i = 0; i < keys.length; i += BATCH_CHUNK) this.raw.updateBatch(keys.slice(i, i + BATCH_CHUNK), values.slice(i, i + BATCH_CHUNK), flags);
  }

  /** Deletes many keys, every one of which must be there (batch deletes stop at a missing key). */
  deleteMany(keys: readonly K[]): void {
    const raw = keys.map((k) => encodeChecked(this.name, 'key', this.key, k));
    if (!this.raw.deleteBatch) {
      raw.forEach((k) => this.raw.delete(k));
      return;
    }
    for (let i = 0; i < raw.length; i += BATCH_CHUNK) {
      const chunk = raw.slice(i, i + BATCH_CHUNK);
      try {
        this.raw.deleteBatch(chunk);
      } catch (e) {
        // A key was not there after all: the kernel stopped at it; finish one by one, skipping the missing.
        if (!(e instanceof BpfError) || e.errno !== ENOENT) throw e;
        chunk.forEach((k) => this.raw.delete(k));
      }
    }
  }

  *keys(): Generator<K> {
    for (const k of iterateKeys(this.raw)) yield this.key.decode(k);
  }

  /** Lazily walks the map; entries deleted during the walk are skipped, never reported half-read. */
  *entries(): Generator<[K, V]> {
    for (const k of iterateKeys(this.raw)) {
      const v = this.raw.lookup(k);
      if (v === undefined) continue; // deleted between get_next_key and lookup
      yield [this.key.decode(k), this.value.decode(v)];
    }
  }

  [Symbol.iterator](): Generator<[K, V]> {
    return this.entries();
  }

  /** All entries at once: one batch syscall per 256 entries where supported, else a walk. */
  snapshot(): Array<[K, V]> {
    const dumped = batchDump(this.raw);
    if (!dumped) return [...this.entries()];
    return dumped.map(([k, v]) => [this.key.decode(k), this.value.decode(v)]);
  }

  /** Removes every entry; returns how many. */
  clear(): number {
    return clearRaw(this.raw);
  }
}

/** Adds numbers, bigints, or plain objects of them field by field: the usual way to fold per-CPU counters. */
export function sumPerCpu<V>(values: readonly V[]): V {
  if (values.length === 0) throw new BpfError('sum per-CPU values: no values', EINVAL);
  const add = (a: unknown, b: unknown): unknown => {
    if (typeof a === 'bigint' && typeof b === 'bigint') return a + b;
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
      const out: Record<string, unknown> = {};
      for (const [f, av] of Object.entries(a)) out[f] = add(av, (b as Record<string, unknown>)[f]);
      return out;
    }
    // Non-numeric fields (padding, enums that are the same on every CPU): keep the first CPU's.
    return a;
  };
  return values.slice(1).reduce<unknown>((acc, v) => add(acc, v), values[0]) as V;
}

/**
 * A per-CPU map (PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH): every key holds
 * one V per possible CPU. The kernel lays the slots out 8-byte aligned, so a
 * 12-byte value occupies 16 bytes per CPU.
 */
export class PerCpuMap<K, V> {
  readonly raw: RawMap;
  readonly key: Codec<K>;
  readonly value: Codec<V>;
  /** Possible CPUs: the number of values per key. */
  readonly cpus: number;
  readonly #slot: number;

  constructor(raw: RawMap, key: Codec<K>, value: Codec<V>) {
    if (!raw.perCpu) throw new BpfError(`map ${raw.name}: is not per-CPU; use TypedMap (map())`, EINVAL);
    checkCodecs(raw, key, value);
    this.raw = raw;
    this.key = key;
    this.value = value;
    this.cpus = raw.valueSlots;
    this.#slot = Math.ceil(raw.valueSize / 8) * 8;
  }

  get name(): string {
    return this.raw.name;
  }

  #decodeAll(buf: Buffer): V[] {
    const out: V[] = [];
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      const at = cpu * this.#slot;
      out.push(this.value.decode(buf.subarray(at, at + this.raw.valueSize)));
    }
    return out;
  }

  /** One value per possible CPU (index = CPU number), or undefined when the key is absent. */
  getPerCpu(k: K): V[] | undefined {
    const v = this.raw.lookup(encodeChecked(this.name, 'key', this.key, k));
    return v === undefined ? undefined : this.#decodeAll(v);
  }

  /** The CPUs' values folded with `combine` (default: field-wise sum). */
  sum(k: K, combine: (values: readonly V[]) => V = sumPerCpu): V | undefined {
    const all = this.getPerCpu(k);
    return all === undefined ? undefined : combine(all);
  }

  /** Writes one value per CPU (exactly `cpus` of them). */
  setPerCpu(k: K, values: readonly V[], flags = BPF_ANY): void {
    if (values.length !== this.cpus) {
      throw new BpfError(`update map ${this.name}: ${values.length} values for ${this.cpus} possible CPUs`, EINVAL);
    }
    const buf = Buffer.alloc(this.#slot * this.cpus);
    values.forEach((v, cpu) => buf.set(encodeChecked(this.name, 'value', this.value, v), cpu * this.#slot));
    this.raw.update(encodeChecked(this.name, 'key', this.key, k), buf, flags);
  }

  delete(k: K): boolean {
    return this.raw.delete(encodeChecked(this.name, 'key', this.key, k));
  }

  *keys(): Generator<K> {
    for (const k of iterateKeys(this.raw)) yield this.key.decode(k);
  }

  /** Lazily walks the map, yielding every key with its per-CPU values. */
  *entriesPerCpu(): Generator<[K, V[]]> {
    for (const k of iterateKeys(this.raw)) {
      const v = this.raw.lookup(k);
      if (v === undefined) continue;
      yield [this.key.decode(k), this.#decodeAll(v)];
    }
  }

  /** All entries with their CPUs' values folded (default: summed). Uses batch lookups where supported. */
  snapshot(combine: (values: readonly V[]) => V = sumPerCpu): Array<[K, V]> {
    const dumped = batchDump(this.raw);
    if (!dumped) return [...this.entriesPerCpu()].map(([k, vs]) => [k, combine(vs)]);
    return dumped.map(([k, v]) => [this.key.decode(k), combine(this.#decodeAll(v))]);
  }

  clear(): number {
    return clearRaw(this.raw);
  }
}
