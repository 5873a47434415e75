/**
 * The agent's side of one `GET /v1/monitor` subscriber: its lines go out as
 * fast as it reads them, and never pile up without bound. While the socket
 * does not take more (res.write() said false, waiting for 'drain'), lines
 * wait in a queue of at most `maxQueued`; past that they are dropped and
 * counted, and the subscriber gets one line saying how many it missed
 * (Cilium's monitor prints "lost N events") where they would have been.
 * Nobody else waits for a slow subscriber.
 */

/** What a subscriber's lines are written to (an http.ServerResponse). */
export interface LineSink {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  off(event: 'drain', listener: () => void): unknown;
}

/** Lines held per slow subscriber before events are dropped (~300 bytes a line: about 1 MiB). */
export const MONITOR_QUEUE_LINES = 4096;

export class BoundedLineWriter {
  private readonly queue: (string | undefined)[] = [];
  private head = 0;
  /** Events missed since the last line that said so (dropped here, or reported lost upstream). */
  private pendingLost = 0;
  private waiting = false;
  private closed = false;
  /** Events this subscriber missed because it read too slowly. */
  dropped = 0;

  constructor(
    private readonly sink: LineSink,
    /** The line that reports `n` missed events. */
    private readonly lostLine: (n: number) => string,
    private readonly maxQueued = MONITOR_QUEUE_LINES,
  ) {}

  /** Lines waiting for the socket. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** One event's line. */
  push(line: string): void {
    if (this.closed) return;
    if (!this.waiting && this.queued === 0 && this.pendingLost === 0) {
      if (!this.sink.write(line)) this.waitForDrain();
      return;
    }
    // Behind a gap nothing is queued until the gap is reported: the lost line stands where the events were.
    if (this.pendingLost === 0 && this.queued < this.maxQueued) {
      this.queue.push(line);
      return;
    }
    this.pendingLost++;
    this.dropped++;
  }

  /** `n` events were lost before they reached this subscriber (the kernel's ring buffer was full). */
  lost(n: number): void {
    if (this.closed || n <= 0) return;
    this.pendingLost += n;
    if (!this.waiting) this.flush();
  }

  /** Stops writing; what is queued is dropped. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.head = 0;
    if (this.waiting) this.sink.off('drain', this.onDrain);
  }

  private waitForDrain(): void {
    this.waiting = true;
    this.sink.once('drain', this.onDrain);
  }

  private readonly onDrain = (): void => {
    this.waiting = false;
    this.flush();
  };

  private flush(): void {
    while (!this.closed && this.queued > 0) {
      const line = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      if (!this.sink.write(line)) return this.waitForDrain();
    }
    if (this.closed || this.pendingLost === 0) return;
    const n = this.pendingLost;
    this.pendingLost = 0;
    if (!this.sink.write(this.lostLine(n))) this.waitForDrain();
  }
}
