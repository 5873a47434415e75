/**
 * The agent's periodic datapath resync: every interval each map the agent
 * programs is read back and compared with the model (what the agent would
 * write now from the store); whatever differs is drift (a write that was
 * missed or failed, an entry changed or deleted from outside) and is
 * repaired, and counted per map. Diff-based writes trust what they wrote
 * before; this is what catches the maps disagreeing with that trust.
 *
 * A map that is not ready to be compared (its model not computed yet, a
 * write of a change already scheduled) answers 0 and is looked at next time.
 */
import type { Logger } from '../common/log.js';

/** How often the agent compares its maps with the model unless configured (`resyncIntervalMs`). */
export const DEFAULT_RESYNC_INTERVAL_MS = 30_000;

/** One map (or group of maps) the resync compares: `repair()` fixes what differs and answers how many entries it fixed. */
export interface ResyncTarget {
  /** `ipcache`, `lb`, `policy`, … : the label of the drift counter. */
  name: string;
  repair(): number;
}

/** What `beeline status` shows of the resync. */
export interface ResyncStatus {
  intervalMs: number;
  runs: number;
  lastRun?: string;
  /** Entries repaired since start, per map. */
  repaired: Record<string, number>;
  /** The last run that repaired something: when, and what per map. */
  lastRepair?: { at: string; repaired: Record<string, number> };
  lastError?: string;
}

export class DatapathResync {
  private timer: NodeJS.Timeout | undefined;
  private runs = 0;
  private lastRun: string | undefined;
  private readonly repaired: Record<string, number> = {};
  private lastRepair: ResyncStatus['lastRepair'];
  private lastError: string | undefined;

  constructor(
    private readonly targets: readonly ResyncTarget[],
    readonly intervalMs: number,
    private readonly log: Logger,
  ) {
    for (const t of targets) this.repaired[t.name] = 0;
  }

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.run(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Compares and repairs every map now; answers what it repaired per map. */
  run(): Record<string, number> {
    const now: Record<string, number> = {};
    this.runs++;
    this.lastRun = new Date().toISOString();
    for (const t of this.targets) {
      let n = 0;
      try {
        n = t.repair();
      } catch (e) {
        this.lastError = `${t.name}: ${(e as Error).message}`;
        this.log.warn('datapath resync failed', { map: t.name, error: (e as Error).message });
        continue;
      }
      if (n > 0) {
        now[t.name] = n;
        this.repaired[t.name] = (this.repaired[t.name] ?? 0) + n;
      }
    }
    if (Object.keys(now).length) {
      this.lastRepair = { at: this.lastRun, repaired: now };
      this.log.warn('datapath drift repaired', now);
    }
    return now;
  }

  /** Entries repaired since start, per map (the drift counter's values). */
  counts(): Readonly<Record<string, number>> {
    return this.repaired;
  }

  status(): ResyncStatus {
    return {
      intervalMs: this.intervalMs,
      runs: this.runs,
      ...(this.lastRun ? { lastRun: this.lastRun } : {}),
      repaired: { ...this.repaired },
      ...(this.lastRepair ? { lastRepair: this.lastRepair } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}
