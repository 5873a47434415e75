/**
 * The node's flow pipeline: ring-buffer records in, flows out.
 *
 *   reader callback ─push()→ bounded queue ─setImmediate batches→ decode
 *     → FlowRing (followers read it by cursor) → onFlow listeners (metrics, history)
 *
 * push() only enqueues, so the kernel ring buffer's reader never waits for
 * decoding or for a subscriber. Every record offered ends up counted exactly
 * once: decoded into a flow (seen), not a flow (undecoded), failed to decode,
 * or lost because the queue was full (OBSERVER_EVENTS_QUEUE). Losses are
 * written into the ring so following subscribers are told about them.
 *
 * Flows made elsewhere (the node proxy's L7 records, src/l7/http/flows.ts)
 * come in through ingestFlow(): the same queue, so they reach the ring, the
 * listeners and the subscribers in arrival order with the datapath's flows,
 * counted as seen (or lost to a full queue) like them.
 */
import { DEFAULT_RING_CAPACITY, FlowRing, RingLoss, type LostSource, type RingCursor } from './ring.js';
import type { Flow, FlowPredicate } from './types.js';

/** Default bound of the decode queue (records waiting to be decoded). */
export const DEFAULT_QUEUE_SIZE = 16384;
/** Records decoded per event-loop turn. */
export const DEFAULT_BATCH_SIZE = 1024;

export interface FlowPipelineOptions {
  /** Record → flow; undefined for records that are not flows. Must not throw on bad input (if it does, the record is counted as a decode error). */
  decode: (record: Buffer) => Flow | undefined;
  /** Flows the ring holds (default 4095, Hubble's). */
  ringCapacity?: number;
  /** Records the decode queue holds (default 16384); a push beyond is a loss. */
  queueSize?: number;
  /** Records decoded per event-loop turn (default 4096; at most the ring's capacity, so a follower that keeps up is never lapped). */
  batchSize?: number;
  /** Told about decode and listener failures (default: ignored, counted). */
  onError?: (err: unknown, where: 'decode' | 'listener') => void;
  /**
   * Back-pressure for the reader: called with true when the queue is half
   * full, false once it is down to a quarter. A reader that stops reading
   * meanwhile lets the kernel ring buffer drop (and count) what does not fit,
   * at no cost here, instead of copying records only to drop them at a full
   * queue: a node past its rate still decodes at its full rate.
   */
  onPressure?: (paused: boolean) => void;
  /**
   * Keep the ring's flows in time order: a flow older than the one before it
   * (kernel stamps from two CPUs a few microseconds apart; an L7 record that
   * arrives when its exchange is over) takes that one's time. The ring's
   * time lookups, the history files and the relay's merge assume each
   * node's flows are in time order.
   */
  monotonicTime?: boolean;
}

export interface FlowPipelineStats {
  /** Records pushed. */
  offered: number;
  /** Ready-made flows handed to ingestFlow() (L7 flows from the node proxy). */
  ingested: number;
  /** Flows written to the ring: records decoded into flows and ingested flows (Hubble's seen_flows). */
  seen: number;
  /** Records decode() said are not flows. */
  undecoded: number;
  /** Records decode() threw on. */
  decodeErrors: number;
  /** Records waiting in the queue. */
  queued: number;
  /** Events lost, by where (records and ingested flows alike). HUBBLE_RING_BUFFER sums every slow subscriber's misses. */
  lost: Record<LostSource, number>;
  /** onFlow listeners that threw. */
  listenerErrors: number;
  /** Times the reader was asked to pause (onPressure(true)). */
  readerPauses: number;
}

/** An in-process follower of the ring (the Observer's GetFlows uses one per call). */
export interface FlowSubscription {
  /** Continues delivering after deliver() returned false. */
  resume(): void;
  /** Stops delivering and releases the ring. */
  close(): void;
  readonly closed: boolean;
  /** The cursor (its seq, how far behind it is). */
  readonly cursor: RingCursor;
}

export interface SubscribeOptions {
  /** Where to start (a ring sequence number); default: the next flow written. */
  from?: number;
  /** Flows that do not match are skipped (losses are always delivered). */
  match?: FlowPredicate;
  /** Keep waiting for new flows when caught up (default true); false: onCaughtUp is called and the subscription closes. */
  follow?: boolean;
  /** Non-follow subscriptions: called once when everything held was delivered. */
  onCaughtUp?: () => void;
  /** Items delivered per event-loop turn before yielding (default 4096). */
  slice?: number;
}

export class FlowPipeline {
  readonly ring: FlowRing;
  private readonly decode: (record: Buffer) => Flow | undefined;
  /** Records to decode, and flows ingested ready-made, in arrival order. */
  private readonly queue: (Buffer | Flow | undefined)[];
  private readonly queueSize: number;
  private readonly batchSize: number;
  private readonly onError: ((err: unknown, where: 'decode' | 'listener') => void) | undefined;
  private readonly onPressure: ((paused: boolean) => void) | undefined;
  private paused = false;
  private readonly monotonic: boolean;
  /** Time (ns since the epoch, as a double: ordering only) of the last flow written, for monotonicTime. */
  private lastSec = 0;
  private lastNanos = 0;
  private head = 0;
  private size = 0;
  private scheduled = false;
  private closed = false;
  private listeners: ((flow: Flow) => void)[] = [];
  private readonly subs = new Set<FlowSubscription>();
  private idleWaiters: (() => void)[] = [];
  private pendingQueueLost = 0;
  private pendingKernelLost = 0;
  private counters = { offered: 0, ingested: 0, seen: 0, undecoded: 0, decodeErrors: 0, listenerErrors: 0, readerPauses: 0 };

  constructor(options: FlowPipelineOptions) {
    this.decode = options.decode;
    this.ring = new FlowRing(options.ringCapacity ?? DEFAULT_RING_CAPACITY);
    this.queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    // A batch larger than the ring would lap even a follower that keeps up:
    // followers read between batches.
    this.batchSize = Math.min(options.batchSize ?? DEFAULT_BATCH_SIZE, this.ring.capacity);
    if (!Number.isInteger(this.queueSize) || this.queueSize < 1) throw new RangeError(`flow pipeline queueSize must be a positive integer, got ${this.queueSize}`);
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new RangeError(`flow pipeline batchSize must be a positive integer, got ${this.batchSize}`);
    this.queue = new Array<Buffer | Flow | undefined>(this.queueSize).fill(undefined);
    this.monotonic = options.monotonicTime ?? false;
    this.onError = options.onError;
    this.onPressure = options.onPressure;
  }

  /**
   * Enqueues one ring-buffer record; never decodes or waits. Returns false
   * when the queue was full and the record was counted as lost. The record
   * must stay valid until decoded (copy it if the reader reuses its memory).
   */
  push(record: Buffer): boolean {
    this.counters.offered++;
    return this.enqueue(record);
  }

  /**
   * Enqueues a flow made elsewhere (an L7 flow from the node proxy's record):
   * it takes the datapath's flows' way from here on (time order when
   * monotonicTime, the ring, the onFlow listeners, the subscribers), after
   * the records pushed before it. Never waits; false when the queue was full
   * and the flow was counted as lost (OBSERVER_EVENTS_QUEUE, as Hubble
   * counts an L7 event its full events queue drops).
   */
  ingestFlow(flow: Flow): boolean {
    this.counters.ingested++;
    return this.enqueue(flow);
  }

  private enqueue(record: Buffer | Flow): boolean {
    if (this.closed || this.size === this.queueSize) {
      this.pendingQueueLost++;
      this.schedule();
      return false;
    }
    let tail = this.head + this.size;
    if (tail >= this.queueSize) tail -= this.queueSize;
    this.queue[tail] = record;
    this.size++;
    if (!this.paused && this.onPressure && this.size * 2 >= this.queueSize) {
      this.paused = true;
      this.counters.readerPauses++;
      this.onPressure(true);
    }
    this.schedule();
    return true;
  }

  /** Records the kernel ring buffer dropped (its lost counter): PERF_EVENT_RING_BUFFER losses. */
  addKernelLost(n: number): void {
    if (!(n > 0)) return;
    this.pendingKernelLost += n;
    this.schedule();
  }

  /** Calls `listener` with every flow, after it is in the ring; returns the unsubscribe function. A listener that throws is counted and skipped. */
  onFlow(listener: (flow: Flow) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Open subscriptions (GetFlows calls in progress, in-process followers). */
  get subscriptions(): number {
    return this.subs.size;
  }

  /** Flows decoded so far (ServerStatus seen_flows). */
  get seen(): number {
    return this.counters.seen;
  }

  stats(): FlowPipelineStats {
    const lost = this.ring.lostTotals();
    lost.OBSERVER_EVENTS_QUEUE += this.pendingQueueLost;
    lost.PERF_EVENT_RING_BUFFER += this.pendingKernelLost;
    return { ...this.counters, queued: this.size, lost };
  }

  /** Resolves when every record pushed so far has been decoded and written (and losses recorded). */
  idle(): Promise<void> {
    if (this.size === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops decoding; later pushes count as queue losses. Queued records are dropped (counted as queue losses). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pendingQueueLost += this.size;
    this.queue.fill(undefined);
    this.size = 0;
    this.head = 0;
    this.flushLosses();
    this.ring.notify();
    this.wakeIdle();
  }

  /**
   * Follows the ring from `from`: calls deliver(item) with each matching flow
   * and every loss, in order. deliver returning false pauses delivery until
   * resume() (the gRPC writer's backpressure); a paused subscriber that the
   * ring laps gets a HUBBLE_RING_BUFFER loss with the exact count missed, and
   * nobody else is slowed.
   */
  subscribe(options: SubscribeOptions, deliver: (item: Flow | RingLoss) => boolean): FlowSubscription {
    const ring = this.ring;
    const cursor = ring.cursor(options.from ?? ring.nextSeq);
    const match = options.match;
    const follow = options.follow ?? true;
    const slice = options.slice ?? 4096;
    let paused = false, closed = false, scheduled = false;
    let cancelWait: (() => void) | undefined;
    const sub: FlowSubscription = {
      get closed() { return closed; },
      cursor,
      resume() {
        if (closed || !paused) return;
        paused = false;
        kick();
      },
      close: () => {
        if (closed) return;
        closed = true;
        cancelWait?.();
        cancelWait = undefined;
        this.subs.delete(sub);
      },
    };
    this.subs.add(sub);
    const kick = () => {
      if (scheduled || closed) return;
      scheduled = true;
      setImmediate(pump);
    };
    const pump = () => {
      scheduled = false;
      cancelWait = undefined;
      if (closed || paused) return;
      for (let n = 0; n < slice; n++) {
        const item = cursor.next();
        if (item === undefined) {
          if (!follow) {
            sub.close();
            options.onCaughtUp?.();
            return;
          }
          cancelWait = ring.waitForWrite(kick);
          return;
        }
        if (!(item instanceof RingLoss) && match && !match(item)) continue;
        const more = deliver(item);
        if (closed) return;
        if (!more) {
          paused = true;
          return;
        }
      }
      kick();
    };
    kick();
    return sub;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    const n = Math.min(this.size, this.batchSize);
    const c = this.counters;
    for (let i = 0; i < n; i++) {
      const record = this.queue[this.head]!;
      this.queue[this.head] = undefined;
      if (++this.head === this.queueSize) this.head = 0;
      this.size--;
      let flow: Flow | undefined;
      if (record instanceof Uint8Array) {
        try {
          flow = this.decode(record);
        } catch (e) {
          c.decodeErrors++;
          this.onError?.(e, 'decode');
          continue;
        }
        if (flow === undefined) {
          c.undecoded++;
          continue;
        }
      } else {
        flow = record;
      }
      if (this.monotonic) this.keepOrder(flow);
      c.seen++;
      this.ring.write(flow);
      const ls = this.listeners;
      for (let j = 0; j < ls.length; j++) {
        try {
          ls[j]!(flow);
        } catch (e) {
          c.listenerErrors++;
          this.onError?.(e, 'listener');
        }
      }
    }
    this.flushLosses();
    this.ring.notify();
    if (this.paused && this.size * 4 <= this.queueSize) {
      this.paused = false;
      this.onPressure!(false);
    }
    if (this.size > 0) this.schedule();
    else this.wakeIdle();
  };

  /** monotonicTime: a flow never older than the one written before it. */
  private keepOrder(flow: Flow): void {
    const t = flow.time;
    const s = t?.seconds ?? 0;
    const sec = typeof s === 'number' ? s : Number(String(s));
    const nanos = t ? (t.nanos ?? 0) : 0;
    if (sec < this.lastSec || (sec === this.lastSec && nanos < this.lastNanos)) {
      flow.time = { seconds: this.lastSec, nanos: this.lastNanos };
    } else {
      this.lastSec = sec;
      this.lastNanos = nanos;
    }
  }

  private flushLosses(): void {
    if (this.pendingKernelLost) this.ring.addLost('PERF_EVENT_RING_BUFFER', this.pendingKernelLost);
    if (this.pendingQueueLost) this.ring.addLost('OBSERVER_EVENTS_QUEUE', this.pendingQueueLost);
    this.pendingKernelLost = 0;
    this.pendingQueueLost = 0;
  }

  private wakeIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }
}
