/**
 * What the identity garbage collectors (src/identity/allocator.ts over etcd,
 * src/identity/crd.ts over BeelineIdentity objects) share: one pass at a
 * time, run every interval until stopped, and the clock of how long each
 * identity has gone unreferenced at one version of its record.
 */
import type { Logger } from '../common/log.js';

/** A pass that concurrent callers share, and a timer that runs it every interval. */
export class PeriodicPass<T> {
  #running: Promise<T> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pass: () => Promise<T>,
    private readonly log: Logger | undefined,
    private readonly what: string,
  ) {}

  /** One pass; a call while one runs gets that pass's result. */
  run(): Promise<T> {
    this.#running ??= this.pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Runs a pass every `intervalMs` until stop(); a failed pass is logged and the next one tries again. */
  start(intervalMs: number): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.run().catch((e) => this.log?.warn(`${this.what} pass failed`, { error: (e as Error).message }));
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer; resolves when a pass under way has ended. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }
}

/**
 * Since when each unreferenced identity has been seen unreferenced, at which
 * version of its record (etcd's mod revision, a resourceVersion). A new
 * version (a reference taken and dropped, the number reused) restarts its
 * clock, and the delete is made at the version seen, so a racing change
 * makes it fail.
 */
export class UnreferencedClock {
  readonly #since = new Map<number, { since: number; version: string }>();

  /** The identity is referenced: its clock stops. */
  referenced(id: number): void {
    this.#since.delete(id);
  }

  /** The identity is unreferenced at `version`: whether it has been so, at that version, for `graceMs`. */
  expired(id: number, version: string, now: number, graceMs: number): boolean {
    const p = this.#since.get(id);
    if (!p || p.version !== version) {
      this.#since.set(id, { since: now, version });
      return false;
    }
    return now - p.since >= graceMs;
  }

  /** Forgets the clocks of identities that no longer exist (not in `seen`). */
  keepOnly(seen: ReadonlySet<number>): void {
    for (const id of this.#since.keys()) if (!seen.has(id)) this.#since.delete(id);
  }
}
