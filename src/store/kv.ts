/**
 * List-then-watch over a raw etcd key prefix, for the state that lives in
 * etcd outside the resource layout (node records, the ipcache, identities).
 *
 * PrefixWatch is the one etcd watch loop of beeline (the store's resource
 * watches in etcd.ts use it too): it starts right after a given revision (a
 * list's), resumes after a lost connection from its own resume point with
 * back-off (the etcd client's watcher advances its revision on reconnect and
 * can skip events), drops events delivered twice (RevisionDedup), and
 * reports `expired` when the revision it must resume from is gone: compacted,
 * or an etcd that came back with an older revision than it had (restored or
 * wiped data). Its owner then relists.
 *
 * KvInformer is the prefix's list-then-watch cache: it lists (in pages, one
 * revision), watches from that revision + 1, and on `expired` lists again and
 * emits the difference (put for what is new or changed, delete for what went),
 * never a blind reset, so a consumer sees every delete even when its event
 * was compacted away.
 */
import { EventEmitter } from 'node:events';
import { Range, type Etcd3, type IEvent, type IWatchCreateRequest, type Watcher } from 'etcd3';
import { StoreExpiredError } from '../common/errors.js';
import { RevisionDedup, diffSnapshot } from './store.js';

/** Keys per range request of a list: well under gRPC's message limit for values of a few KiB. */
export const LIST_PAGE = 500;

/** Back-off of a watch (or an informer's relist) that lost its store: first and largest delay. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

const DEFAULT_BACKOFF: Backoff = { initialMs: 100, maxMs: 5000 };

/**
 * Every key under `prefix`, in pages, all read at the first page's revision
 * (one consistent snapshot), with that revision: a watch from revision + 1
 * sees exactly the later changes.
 */
export async function listPrefix(client: Etcd3, prefix: string): Promise<{ kvs: IEvent['kv'][]; revision: number }> {
  const whole = Range.prefix(prefix);
  const kvs: IEvent['kv'][] = [];
  let start: Buffer = whole.start;
  let revision: string | undefined;
  for (;;) {
    let q = client.getAll().inRange(new Range(start, whole.end)).limit(LIST_PAGE);
    if (revision) q = q.revision(revision);
    const res = await q.exec();
    revision ??= String(res.header.revision);
    kvs.push(...res.kvs);
    if (!res.more || res.kvs.length === 0) break;
    start = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
  }
  return { kvs, revision: Number(revision) };
}

export function isCompacted(e: unknown): boolean {
  return /compacted/i.test(String((e as Error)?.message ?? e));
}

/** What a PrefixWatch hands its owner. */
export interface PrefixWatchSink {
  /** One event not delivered before, in revision order; `revision` is its kv's mod_revision. */
  event(ev: IEvent, revision: number): void;
  /** Everything up to `revision` has been delivered (a progress notification). */
  progress(revision: number): void;
  /** The revision to resume from is gone; the watch has stopped, the owner must relist. */
  expired(err: StoreExpiredError): void;
}

/** One watch over a key prefix, resuming by itself; see the file comment. */
export class PrefixWatch {
  private readonly dedup: RevisionDedup;
  private watcher: Watcher | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  /** Times a watcher was (re)created; for tests and status. */
  attempts = 0;
  /** Responses that were fragments of a larger one (put back together before delivery); for tests. */
  fragments = 0;

  /** Starts watching after revision `after` (every event at or below it is known to the owner). */
  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    after: number,
    private readonly sink: PrefixWatchSink,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
    /** Names the watch in errors: `watch Pod`, `watch /beeline/v1/nodes/`. */
    private readonly what = `watch ${prefix}`,
  ) {
    this.dedup = new RevisionDedup(after);
    this.delay = backoff.initialMs;
    void this.connect(false);
  }

  private retryLater(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.connect(true), this.delay);
    this.delay = Math.min(this.delay * 2, this.backoff.maxMs);
  }

  private expire(message: string): void {
    if (this.closed) return;
    this.close();
    this.sink.expired(new StoreExpiredError(message));
  }

  /**
   * Creates the etcd watcher from the resume point. After a lost connection
   * it first asks etcd for its revision: one lower than what this watch has
   * seen means the store came back without that history (restored or wiped),
   * and a watch from the old revision would wait for events that never come.
   */
  private async connect(reconnect: boolean): Promise<void> {
    if (this.closed) return;
    const dedup = this.dedup;
    if (reconnect) {
      let now: number;
      try {
        now = Number((await this.client.get(this.prefix).exec()).header.revision);
      } catch {
        this.retryLater();
        return;
      }
      if (this.closed) return;
      if (now < dedup.revision) {
        this.expire(`${this.what}: the store's revision went back from ${dedup.revision} to ${now} (etcd lost its history)`);
        return;
      }
    }
    const from = dedup.resumeRevision();
    this.attempts++;
    const builder = this.client.watch().prefix(this.prefix).startRevision(String(from)).withPreviousKV();
    // A revision larger than etcd's --max-request-bytes (a big `apply -f` file, with
    // prev_kv) comes in fragments, each a gRPC message the client can take in; they
    // are put back together below, so a revision's events are delivered at once,
    // never part of them. etcd3 has no builder method for the flag.
    (builder as unknown as { request: IWatchCreateRequest }).request.fragment = true;
    const w = builder.watcher();
    this.watcher = w;
    let fragments: IEvent[] = [];
    w.on('data', (res) => {
      if (this.watcher !== w) return;
      this.delay = this.backoff.initialMs;
      if (res.fragment) {
        this.fragments++;
        for (const ev of res.events) fragments.push(ev);
        return;
      }
      const events = fragments.length ? fragments.concat(res.events) : res.events;
      fragments = [];
      if (events.length === 0) {
        // A progress notification: everything up to header.revision was sent.
        const rev = Number(res.header.revision);
        if (rev > dedup.revision) {
          dedup.settle(rev);
          this.sink.progress(rev);
        }
        return;
      }
      let last = 0;
      for (const ev of events) {
        const rev = Number(ev.kv.mod_revision);
        last = rev;
        if (!dedup.accept(rev, ev.kv.key.toString())) continue;
        this.sink.event(ev, rev);
        if (this.watcher !== w) return; // the sink closed the watch
      }
      // etcd sends a revision's events in one response (reassembled above when fragmented).
      dedup.settle(last);
    });
    w.on('disconnected', () => this.restart(w));
    w.on('error', (err: Error) => {
      if (this.watcher !== w) return;
      void this.checkCompacted(from, err);
    });
  }

  private restart(w: Watcher): void {
    if (this.watcher !== w || this.closed) return;
    this.watcher = undefined;
    void w.cancel().catch(() => undefined);
    this.retryLater();
  }

  /** A cancelled watch: compacted (expired, final) or anything else (retry). */
  private async checkCompacted(from: number, err: Error): Promise<void> {
    let compacted = isCompacted(err);
    if (!compacted) {
      try {
        await this.client.getAll().prefix(this.prefix).limit(1).revision(from).exec();
      } catch (e) {
        compacted = isCompacted(e);
      }
    }
    if (compacted) {
      this.expire(`${this.what}: resourceVersion ${from - 1} was compacted`);
      return;
    }
    const w = this.watcher;
    if (w) this.restart(w);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const w = this.watcher;
    this.watcher = undefined;
    void w?.cancel().catch(() => undefined);
  }
}

/** One key as a KvInformer holds it. */
export interface KvEntry {
  key: string;
  value: string;
  /** The key's mod_revision: an entry whose revision is unchanged is unchanged. */
  modRevision: number;
}

/**
 * The list-then-watch cache of one key prefix (see the file comment).
 * Events: `put` (entry, old?), `delete` (last known entry), `synced` (the
 * first list is in), `relisted` (a list after expiry, with what it changed),
 * `error` (transient: the store is away; it keeps trying).
 */
export class KvInformer extends EventEmitter {
  private readonly cache = new Map<string, KvEntry>();
  private watch: PrefixWatch | undefined;
  private running = false;
  private stopped = false;
  private starting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private rev = 0;
  /** Lists so far (1 + relists after expiry); for tests and status. */
  lists = 0;

  constructor(
    private readonly client: Etcd3,
    readonly prefix: string,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
  ) {
    super();
    this.delay = backoff.initialMs;
  }

  /** Lists the prefix (rejecting when the store cannot be read: call again), emits a `put` per entry, then watches. */
  async start(): Promise<void> {
    if (this.running || this.stopped) return;
    // One list at a time: a caller that gave up waiting (a timeout) may call again while the first is in flight.
    this.starting ??= this.list()
      .then(() => {
        if (this.stopped || this.running) return;
        this.running = true;
        this.watchFrom(this.rev);
      })
      .finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Every entry, as last seen, by key. */
  entries(): Map<string, KvEntry> {
    return this.cache;
  }

  /** The revision the cache reflects. */
  revision(): number {
    return this.rev;
  }

  stop(): void {
    this.stopped = true;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.watch?.close();
    this.watch = undefined;
  }

  /** Reads the prefix and applies the difference to the cache (a put per new or changed key, a delete per key gone). */
  private async list(): Promise<{ puts: number; deletes: number }> {
    const { kvs, revision } = await listPrefix(this.client, this.prefix);
    this.lists++;
    const fresh = new Map<string, KvEntry>();
    for (const kv of kvs) {
      const key = kv.key.toString();
      fresh.set(key, { key, value: kv.value.toString(), modRevision: Number(kv.mod_revision) });
    }
    // The value too: after etcd lost its history a new key can have an old key's revision.
    const diff = diffSnapshot(this.cache, fresh, (e) => `${e.modRevision} ${e.value}`);
    this.rev = revision;
    for (const old of diff.deletes) {
      this.cache.delete(old.key);
      this.emit('delete', old);
    }
    for (const [e, old] of diff.puts) {
      this.cache.set(e.key, e);
      this.emit('put', e, old);
    }
    if (this.lists === 1) this.emit('synced');
    return { puts: diff.puts.length, deletes: diff.deletes.length };
  }

  private watchFrom(after: number): void {
    if (!this.running) return;
    const sink: PrefixWatchSink = {
      event: (ev, revision) => {
        const key = ev.kv.key.toString();
        this.rev = revision;
        if (ev.type === 'Delete') {
          const old = this.cache.get(key);
          if (!old) return;
          this.cache.delete(key);
          this.emit('delete', old);
          return;
        }
        const e: KvEntry = { key, value: ev.kv.value.toString(), modRevision: revision };
        const old = this.cache.get(key);
        this.cache.set(key, e);
        this.emit('put', e, old);
      },
      progress: (revision) => {
        this.rev = revision;
      },
      expired: (err) => {
        this.watch = undefined;
        this.emit('error', err);
        void this.relist();
      },
    };
    this.watch = new PrefixWatch(this.client, this.prefix, after, sink, this.backoff);
  }

  /** After expiry: list again (with back-off while the store is away) and watch from the new list. */
  private async relist(): Promise<void> {
    if (!this.running) return;
    try {
      const changed = await this.list();
      this.delay = this.backoff.initialMs;
      this.emit('relisted', changed);
      this.watchFrom(this.rev);
    } catch (e) {
      if (!this.running) return;
      this.emit('error', e as Error);
      this.timer = setTimeout(() => void this.relist(), this.delay);
      this.delay = Math.min(this.delay * 2, this.backoff.maxMs);
    }
  }

  // EventEmitter's 'error' throws when nobody listens; an informer's errors are transient.
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this.listenerCount('error') === 0) return false;
    return super.emit(event, ...args);
  }
}
