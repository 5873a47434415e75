/**
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable
 * Software Network Load Balancer", NSDI 2016, section 3.4), the way the
 * kube-proxy replacement fills a service's lookup table: the datapath hashes
 * a flow's 5-tuple to a slot of an M-slot table and sends it to the backend
 * in that slot, so every node (with the same seed and M) picks the same
 * backend for the same flow, and a backend change moves few flows.
 *
 * Each backend gets a permutation of the slots, offset + j*skip (mod M),
 * with offset and skip from two independent hashes of its stable key and the
 * cluster-wide seed. The key must be the same on every node: backend ids are
 * allocated per node, so the agent keys backends by `address:port/protocol`
 * (`key`) and keeps the id only as what a slot holds; without a key the id is
 * hashed (one node's tables, tests). Backends take turns claiming their
 * next preferred free slot until the table is full. M is prime, so every
 * skip in 1..M-1 walks every slot. With weights, a backend claims slots in
 * proportion to its weight (credit-based turns); weight 0 takes no slots.
 *
 * Pure: no I/O, no randomness. The same backends (in any order), M and seed
 * give the same table.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../common/errors.js';

/** The table sizes Cilium accepts for --bpf-lb-maglev-table-size (all prime). */
export const MAGLEV_TABLE_SIZES: readonly number[] = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071];
/** Default M: about 100 slots per backend for up to ~160 backends. */
export const DEFAULT_MAGLEV_TABLE_SIZE = 16381;
/** Default seed; a cluster must use one seed on every node, or nodes disagree on backends. */
export const DEFAULT_MAGLEV_SEED = 'beeline-maglev-v1';

export interface MaglevBackend {
  /** The backend id (u32, as in the backend map): what its slots hold; hashed when there is no `key`. */
  id: number;
  /**
   * The cluster-wide stable key hashed into its permutation and sorted on,
   * e.g. `10.0.1.5:8080/TCP`: the same backend has the same key on every
   * node, whatever id each node gave it, so every node builds the same table.
   */
  key?: string;
  /** Relative weight, a non-negative integer; default 1. 0 takes no slots. */
  weight?: number;
}

/** Deterministic primality test by trial division (M is at most 131071). */
export function isPrime(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  if (n % 3 === 0) return n === 3;
  for (let d = 5; d * d <= n; d += 6) {
    if (n % d === 0 || n % (d + 2) === 0) return false;
  }
  return true;
}

/** Throws a UsageError naming `m` unless it is one of MAGLEV_TABLE_SIZES. */
export function checkMaglevTableSize(m: number): void {
  if (!MAGLEV_TABLE_SIZES.includes(m) || !isPrime(m)) {
    throw new UsageError(
      `maglev table size ${m} is not supported`,
      `use one of ${MAGLEV_TABLE_SIZES.join(', ')} (primes; M should be well above 100 x the largest backend count)`,
    );
  }
}

/** A 64-bit hash of (purpose, seed, key) as a bigint: two purposes give two independent hashes. */
function hash64(purpose: string, seed: string, key: number | string): bigint {
  return createHash('sha256').update(`${purpose}\0${seed}\0${key}`).digest().readBigUInt64BE(0);
}

/** Where a backend's permutation starts and how far it steps (skip in 1..m-1, coprime with prime m); `id` is its key or id. */
export function maglevOffsetSkip(id: number | string, m: number, seed: string = DEFAULT_MAGLEV_SEED): { offset: number; skip: number } {
  const M = BigInt(m);
  return {
    offset: Number(hash64('offset', seed, id) % M),
    skip: Number(hash64('skip', seed, id) % (M - 1n)) + 1,
  };
}

/**
 * The M-slot lookup table: slot → backend id. Empty (length 0) when no
 * backend has a positive weight; the datapath treats that service as having
 * no backends. Throws UsageError for an unsupported M, a duplicate or
 * invalid id, a duplicate or empty key, or an invalid weight (programming or
 * configuration errors).
 */
export function maglevTable(backends: MaglevBackend[], m: number = DEFAULT_MAGLEV_TABLE_SIZE, seed: string = DEFAULT_MAGLEV_SEED): Uint32Array {
  checkMaglevTableSize(m);
  const seen = new Set<number>();
  const seenKeys = new Set<string>();
  for (const b of backends) {
    if (!Number.isInteger(b.id) || b.id < 0 || b.id > 0xffffffff) throw new UsageError(`maglev: backend id ${b.id} is not a u32`);
    if (seen.has(b.id)) throw new UsageError(`maglev: backend id ${b.id} given twice`);
    seen.add(b.id);
    if (b.key !== undefined) {
      if (b.key === '') throw new UsageError(`maglev: backend ${b.id} has an empty key`);
      if (seenKeys.has(b.key)) throw new UsageError(`maglev: backend key ${b.key} given twice`);
      seenKeys.add(b.key);
    }
    const w = b.weight ?? 1;
    if (!Number.isSafeInteger(w) || w < 0) throw new UsageError(`maglev: backend ${b.id} has weight ${w}, want a non-negative integer`);
  }
  // Sorted by key (by id when unkeyed), so neither the order the caller lists
  // backends in nor the ids a node gave them matter.
  const live = backends
    .map((b) => ({ id: b.id, key: b.key, weight: b.weight ?? 1 }))
    .filter((b) => b.weight > 0)
    .sort((a, b) => (a.key !== undefined && b.key !== undefined ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.id - b.id));
  if (live.length === 0) return new Uint32Array(0);

  const n = live.length;
  const maxWeight = Math.max(...live.map((b) => b.weight));
  const pos = new Array<number>(n);
  const skip = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const os = maglevOffsetSkip(live[i]!.key ?? live[i]!.id, m, seed);
    pos[i] = os.offset;
    skip[i] = os.skip;
  }
  const credit = new Array<number>(n).fill(0);
  const taken = new Uint8Array(m);
  const table = new Uint32Array(m);
  let filled = 0;
  // Each round every backend earns its weight in credit and claims one slot
  // per maxWeight of credit: the heaviest claims one slot a round, a backend
  // of half its weight one every other round. At least one slot is claimed
  // per round, so this ends after at most M rounds.
  for (;;) {
    for (let i = 0; i < n; i++) {
      credit[i]! += live[i]!.weight;
      while (credit[i]! >= maxWeight) {
        credit[i]! -= maxWeight;
        let c = pos[i]!;
        while (taken[c]) c = (c + skip[i]!) % m;
        taken[c] = 1;
        table[c] = live[i]!.id;
        pos[i] = (c + skip[i]!) % m;
        if (++filled === m) return table;
      }
    }
  }
}
