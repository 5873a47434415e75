/**
 * The node's flow ring: the last `capacity` flows (Hubble's default 4095),
 * each with a sequence number, read by cursors. A cursor that falls more
 * than the capacity behind the writer learns exactly how many flows it
 * missed (a HUBBLE_RING_BUFFER loss) and continues from the oldest.
 *
 * Losses before the ring (the kernel ring buffer, the decode queue) are
 * cumulative counters; every flow carries the counters as they were when it
 * was written, so a cursor reports the losses that happened between the
 * flows it reads, in order and exactly, even after it skipped some.
 */
import type { Flow } from './types.js';

/** Hubble's default ring size (observer's --hubble-event-buffer-capacity). */
export const DEFAULT_RING_CAPACITY = 4095;

/** Where events were lost (flow.LostEventSource names). */
export type LostSource = 'PERF_EVENT_RING_BUFFER' | 'OBSERVER_EVENTS_QUEUE' | 'HUBBLE_RING_BUFFER';

/** A gap a cursor reports instead of a flow: `count` events lost at `source`. */
export class RingLoss {
  constructor(
    readonly source: LostSource,
    readonly count: number,
  ) {}
}

/** seconds (any protobuf long form) as a number. */
function secondsOf(s: unknown): number {
  if (typeof s === 'number') return s;
  if (s === undefined || s === null) return 0;
  return Number(String(s));
}

/** A time bound as the ring compares it: seconds and nanoseconds. */
export interface RingTime { sec: number; nanos: number }

/** Nanoseconds since the epoch → RingTime. */
export function ringTime(ns: bigint): RingTime {
  const sec = ns / 1_000_000_000n;
  return { sec: Number(sec), nanos: Number(ns - sec * 1_000_000_000n) };
}

export class FlowRing {
  readonly capacity: number;
  private readonly flows: (Flow | undefined)[];
  private readonly secs: Float64Array;
  private readonly nanos: Int32Array;
  private readonly kernelLostAt: Float64Array;
  private readonly queueLostAt: Float64Array;
  private nextSeqNo = 0;
  private kernelLostTotal = 0;
  private queueLostTotal = 0;
  private slowLost = 0;
  private waiters: (() => void)[] = [];

  constructor(capacity = DEFAULT_RING_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`flow ring capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.flows = new Array<Flow | undefined>(capacity).fill(undefined);
    this.secs = new Float64Array(capacity);
    this.nanos = new Int32Array(capacity);
    this.kernelLostAt = new Float64Array(capacity);
    this.queueLostAt = new Float64Array(capacity);
  }

  /** Appends a flow (overwriting the oldest when full); returns its sequence number. Wakes nobody: call notify() after a batch. */
  write(flow: Flow): number {
    const seq = this.nextSeqNo++;
    const i = seq % this.capacity;
    this.flows[i] = flow;
    const t = flow.time;
    this.secs[i] = t ? secondsOf(t.seconds) : 0;
    this.nanos[i] = t ? (t.nanos ?? 0) : 0;
    this.kernelLostAt[i] = this.kernelLostTotal;
    this.queueLostAt[i] = this.queueLostTotal;
    return seq;
  }

  /** Counts events lost before the ring; cursors report them before the next flow they read. */
  addLost(source: 'PERF_EVENT_RING_BUFFER' | 'OBSERVER_EVENTS_QUEUE', n: number): void {
    if (!(n > 0)) return;
    if (source === 'PERF_EVENT_RING_BUFFER') this.kernelLostTotal += n;
    else this.queueLostTotal += n;
  }

  /** Lost-event totals: before the ring by source, and flows cursors missed because the ring wrapped (all cursors summed). */
  lostTotals(): Record<LostSource, number> {
    return { PERF_EVENT_RING_BUFFER: this.kernelLostTotal, OBSERVER_EVENTS_QUEUE: this.queueLostTotal, HUBBLE_RING_BUFFER: this.slowLost };
  }

  /** Flows held now (≤ capacity). */
  get length(): number {
    return Math.min(this.nextSeqNo, this.capacity);
  }

  /** Flows ever written. */
  get written(): number {
    return this.nextSeqNo;
  }

  /** Sequence number of the oldest flow held (== nextSeq when empty). */
  get oldestSeq(): number {
    return Math.max(0, this.nextSeqNo - this.capacity);
  }

  /** Sequence number the next write gets. */
  get nextSeq(): number {
    return this.nextSeqNo;
  }

  /** The flow with that sequence number, if still held. */
  at(seq: number): Flow | undefined {
    if (seq < this.oldestSeq || seq >= this.nextSeqNo) return undefined;
    return this.flows[seq % this.capacity];
  }

  /** Time of the oldest flow held, in ns since the epoch (undefined: empty). */
  oldestNs(): bigint | undefined {
    if (this.nextSeqNo === 0) return undefined;
    const i = this.oldestSeq % this.capacity;
    return BigInt(this.secs[i]!) * 1_000_000_000n + BigInt(this.nanos[i]!);
  }

  /** <0, 0, >0 as the flow at seq is before, at, after t. */
  compareTime(seq: number, t: RingTime): number {
    const i = seq % this.capacity;
    const s = this.secs[i]!;
    if (s !== t.sec) return s < t.sec ? -1 : 1;
    return this.nanos[i]! - t.nanos;
  }

  /**
   * The first flow at or after `since`, scanning back from the newest like
   * Hubble (flow times are monotonic in practice); nextSeq when none is.
   */
  seqAtOrAfter(since: RingTime): number {
    let seq = this.nextSeqNo;
    const oldest = this.oldestSeq;
    while (seq > oldest && this.compareTime(seq - 1, since) >= 0) seq--;
    return seq;
  }

  /**
   * Where to start reading to get the last `n` flows that match (and are not
   * after `until`): the n-th match counted back from the newest, or the
   * oldest flow when fewer match. n = 0: the oldest flow.
   */
  seqOfLastMatches(n: number, match: (f: Flow) => boolean, until?: RingTime): number {
    const oldest = this.oldestSeq;
    if (n <= 0) return oldest;
    let count = 0;
    for (let seq = this.nextSeqNo - 1; seq >= oldest; seq--) {
      if (until && this.compareTime(seq, until) > 0) continue;
      if (!match(this.flows[seq % this.capacity]!)) continue;
      if (++count === n) return seq;
    }
    return oldest;
  }

  /**
   * A reader from sequence number `seq` (at most nextSeq). A seq the ring no
   * longer holds makes the first read a HUBBLE_RING_BUFFER loss of the flows
   * overwritten since.
   */
  cursor(seq = this.nextSeqNo): RingCursor {
    return new RingCursor(this, Math.min(Math.max(seq, 0), this.nextSeqNo));
  }

  /** Calls `wake` once, at the next notify(); returns a function that cancels the wait. */
  waitForWrite(wake: () => void): () => void {
    this.waiters.push(wake);
    return () => {
      const i = this.waiters.indexOf(wake);
      if (i >= 0) this.waiters.splice(i, 1);
    };
  }

  /** Wakes the cursors waiting for flows (the pipeline calls this once per batch). */
  notify(): void {
    if (this.waiters.length === 0) return;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) {
      try {
        w();
      } catch {
        // A subscriber's failure is its own; the writer goes on.
      }
    }
  }

  /** @internal cursor access */
  entry(seq: number): Flow {
    return this.flows[seq % this.capacity]!;
  }

  /** @internal */
  kernelLostAtSeq(seq: number): number {
    return this.kernelLostAt[seq % this.capacity]!;
  }

  /** @internal */
  queueLostAtSeq(seq: number): number {
    return this.queueLostAt[seq % this.capacity]!;
  }

  /** @internal a cursor skipped `n` overwritten flows */
  countSlow(n: number): void {
    this.slowLost += n;
  }

  /** @internal current totals */
  get kernelLost(): number {
    return this.kernelLostTotal;
  }

  /** @internal */
  get queueLost(): number {
    return this.queueLostTotal;
  }
}

/**
 * A reader of the ring by sequence number. next() returns the next flow, a
 * RingLoss to report first, or undefined when it has caught up with the writer.
 */
export class RingCursor {
  private kernelSeen: number;
  private queueSeen: number;

  constructor(
    private readonly ring: FlowRing,
    /** The sequence number of the next flow to read. */
    public seq: number,
  ) {
    // Losses before the starting point are not this reader's to report.
    if (seq < ring.nextSeq) {
      const at = Math.max(seq, ring.oldestSeq);
      this.kernelSeen = ring.kernelLostAtSeq(at);
      this.queueSeen = ring.queueLostAtSeq(at);
    } else {
      this.kernelSeen = ring.kernelLost;
      this.queueSeen = ring.queueLost;
    }
  }

  /** How far behind the writer this cursor is (flows not read yet). */
  get behind(): number {
    return this.ring.nextSeq - this.seq;
  }

  next(): Flow | RingLoss | undefined {
    const ring = this.ring;
    const oldest = ring.oldestSeq;
    if (this.seq < oldest) {
      const missed = oldest - this.seq;
      this.seq = oldest;
      ring.countSlow(missed);
      return new RingLoss('HUBBLE_RING_BUFFER', missed);
    }
    let k: number, q: number;
    if (this.seq >= ring.nextSeq) {
      k = ring.kernelLost;
      q = ring.queueLost;
    } else {
      k = ring.kernelLostAtSeq(this.seq);
      q = ring.queueLostAtSeq(this.seq);
    }
    if (k > this.kernelSeen) {
      const d = k - this.kernelSeen;
      this.kernelSeen = k;
      return new RingLoss('PERF_EVENT_RING_BUFFER', d);
    }
    if (q > this.queueSeen) {
      const d = q - this.queueSeen;
      this.queueSeen = q;
      return new RingLoss('OBSERVER_EVENTS_QUEUE', d);
    }
    if (this.seq >= ring.nextSeq) return undefined;
    return ring.entry(this.seq++);
  }
}
