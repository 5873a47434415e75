/**
 * Reading a BPF ring buffer without ever blocking Node's event loop.
 *
 * The native layer (RingBuffer in native/libbpf.ts) maps the ring buffer into
 * our memory and hands the map's fd to libuv (koffi's uv_poll integration), so
 * the event loop wakes us exactly when there is data; we then consume what is
 * there and return at once. Records are copied out of the ring in one piece
 * per run before the space is given back to the kernel, so handlers may keep
 * the Buffer.
 *
 * If libuv polling cannot be set up, the reader falls back to consuming on a
 * short timer: same semantics, a few milliseconds more latency.
 */
import { logger } from '../common/log.js';
import type { Readiness, RingBuffer } from './native/libbpf.js';

export interface RingBufferReaderOptions {
  /** 'poll' (default): woken by the kernel through libuv; 'timer': consume every intervalMs. */
  mode?: 'poll' | 'timer';
  /** Timer period for mode 'timer' and for the fallback; default 5 ms. */
  intervalMs?: number;
  /** Keep the process alive while reading (default true; tests and CLIs may prefer false). */
  keepAlive?: boolean;
  /** A sample handler threw, or reading failed. Default: a warning on stderr. */
  onError?: (err: unknown) => void;
}

const log = logger('datapath');

/** Drives one native RingBuffer from the event loop and counts what it reads. */
export class RingBufferReader {
  readonly name: string;
  /** Records handed to the sample callback so far. */
  samples = 0;
  /** Errors reported to onError so far. */
  errors = 0;
  /** How records are being read right now ('stopped' before start / after stop). */
  mode: 'poll' | 'timer' | 'stopped' = 'stopped';
  readonly #rb: RingBuffer;
  readonly #opts: Required<Omit<RingBufferReaderOptions, 'mode'>> & { mode: 'poll' | 'timer' };
  #readiness: Readiness | undefined;
  #timer: NodeJS.Timeout | undefined;

  /**
   * `open` creates the native ring buffer with the delivery function it is
   * given (so every record is counted and handler errors are caught here).
   */
  constructor(open: (deliver: (data: Buffer) => void) => RingBuffer, onSample: (data: Buffer) => void, opts: RingBufferReaderOptions = {}) {
    this.#rb = open((data) => {
      this.samples++;
      try {
        onSample(data);
      } catch (err) {
        this.#fail(err);
      }
    });
    this.name = this.#rb.mapName;
    this.#opts = {
      mode: opts.mode ?? 'poll',
      intervalMs: opts.intervalMs ?? 5,
      keepAlive: opts.keepAlive ?? true,
      onError: opts.onError ?? ((err) => log.warn('ring buffer reader', { map: this.name, error: err instanceof Error ? err.message : String(err) })),
    };
  }

  /** Starts reading in the background. Idempotent. */
  start(): this {
    if (this.mode !== 'stopped') return this;
    if (this.#opts.mode === 'poll') {
      try {
        this.#readiness = this.#rb.watch((err) => (err ? this.#fail(err) : this.drain()));
        if (!this.#opts.keepAlive) this.#readiness.unref();
        this.mode = 'poll';
        // Records may already be waiting (produced before we watched): level-triggered poll reports them, but read now anyway.
        this.drain();
        return this;
      } catch (err) {
        this.#fail(err);
      }
    }
    this.#timer = setInterval(() => this.drain(), this.#opts.intervalMs);
    if (!this.#opts.keepAlive) this.#timer.unref();
    this.mode = 'timer';
    return this;
  }

  /**
   * Reads every waiting record now, synchronously; returns how many. Useful
   * after BPF_PROG_TEST_RUN, when the caller knows records were just produced.
   */
  drain(): number {
    if (this.#rb.closed) return 0;
    const before = this.samples;
    try {
      this.#rb.consume();
    } catch (err) {
      this.#fail(err);
    }
    return this.samples - before;
  }

  /** Stops background reading; drain() still works. */
  stop(): void {
    this.#readiness?.stop();
    this.#readiness = undefined;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.mode = 'stopped';
  }

  /** Stops and frees the native ring buffer. */
  close(): void {
    this.stop();
    this.#rb.close();
  }

  #fail(err: unknown): void {
    this.errors++;
    if (err instanceof AggregateError) err.errors.forEach((e) => this.#opts.onError(e));
    else this.#opts.onError(err);
  }
}
