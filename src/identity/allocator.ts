/**
 * Cluster-wide allocation of security identities through etcd, so every node
 * gives one label set the same number (Cilium's kvstore identity allocator,
 * pkg/allocator + pkg/identity/cache, simplified).
 *
 * Keys:
 *   /beeline/v1/identities/id/<n>            = {"labels":[…]}   the identity (master key)
 *   /beeline/v1/identities/value/<labelkey>  = <n>              index: label set → number
 *   /beeline/v1/identities/ref/<n>/<node>    = <node>           node <node> uses it (lease-bound)
 *
 * Allocation is one transaction that creates both `id/<n>` and
 * `value/<labelkey>` only when neither exists, together with this node's
 * reference: two agents racing for one label set get one number (the loser
 * reads the winner's), two racing for different sets cannot both take <n>.
 * Taking a reference to an existing identity is a transaction too; it also
 * rewrites `id/<n>` unchanged, which bumps its mod revision: the garbage
 * collector deletes an identity only if that revision is still the one it
 * saw unreferenced, so a reference taken while it decides wins.
 *
 * Each agent counts its own endpoints per identity in memory and holds one
 * ref key per identity while the count is above zero. Ref keys are bound to
 * the agent's lease: a node that dies stops referencing after the lease TTL;
 * a restarted agent takes references again for the endpoints it restores,
 * and the GC grace period covers the gap.
 */
import { PeriodicPass, UnreferencedClock } from './gc-pass.js';
import type { Etcd3, Lease } from 'etcd3';
import { IdentityExhaustedError, IdentityInvalidError, IdentityStoreError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { KeyedSerial } from '../common/serial.js';
import { KvInformer, type KvEntry } from '../store/kv.js';
import { canonicalLabels, formatLabelSet, labelSetKey, parseLabel, type Label, type LabelSet } from './labels.js';
import {
  CLUSTER_IDENTITY_MAX,
  CLUSTER_IDENTITY_MIN,
  RESERVED_IDENTITIES,
  reservedIdentity,
  reservedIdentityByLabels,
  type Identity,
} from './reserved.js';

export const IDENTITIES_PREFIX = '/beeline/v1/identities/';
export const IDENTITY_ID_PREFIX = `${IDENTITIES_PREFIX}id/`;
export const IDENTITY_VALUE_PREFIX = `${IDENTITIES_PREFIX}value/`;
export const IDENTITY_REF_PREFIX = `${IDENTITIES_PREFIX}ref/`;

export const identityIdKey = (id: number) => `${IDENTITY_ID_PREFIX}${id}`;
export const identityValueKey = (labelKey: string) => `${IDENTITY_VALUE_PREFIX}${labelKey}`;
export const identityRefKey = (id: number, node: string) => `${IDENTITY_REF_PREFIX}${id}/${node}`;

/** What `id/<n>` holds. Deterministic, so a transaction can compare it. */
export const storedValue = (labels: LabelSet) => JSON.stringify({ labels: formatLabelSet(labels) });

function parseStored(key: string, value: string): Identity {
  const id = Number(key.slice(IDENTITY_ID_PREFIX.length));
  let labels: LabelSet;
  try {
    const v = JSON.parse(value) as { labels?: unknown };
    if (!Array.isArray(v.labels) || !v.labels.every((l) => typeof l === 'string')) throw new Error('labels is not a list of strings');
    labels = canonicalLabels((v.labels as string[]).map(parseLabel));
  } catch (e) {
    throw new IdentityStoreError(`read identity ${key}: ${(e as Error).message}`, { hint: `the store holds a malformed identity; etcdctl del ${key}` });
  }
  if (!Number.isInteger(id)) throw new IdentityStoreError(`read identity ${key}: not a number`);
  return { id, labels };
}

/** A change to the set of identities, as every allocator learns it from the watch. */
export interface IdentityEvent {
  type: 'upsert' | 'delete';
  identity: Identity;
}

/**
 * Where an agent's security identities come from, whichever the cluster
 * backend: etcd keys (IdentityAllocator, kvstore mode) or BeelineIdentity
 * objects (CrdIdentityAllocator in src/identity/crd.ts, Kubernetes mode).
 */
export interface IdentitySource {
  /** Loads every identity and keeps following changes. */
  start(): Promise<void>;
  /** Stops following; `revoke: false` (an agent restarting) leaves what this node holds in the store for its successor. */
  stop(opts?: { revoke?: boolean }): Promise<void>;
  /** The identity of a label set, taking one reference for this node; reserved label sets give their reserved identity. */
  acquire(labels: Iterable<Label | string>): Promise<Identity>;
  /** Drops one reference; true when this node holds none any more. */
  release(labels: Iterable<Label | string>): Promise<boolean>;
  /** Reserved and allocated identities, by number. */
  list(): Identity[];
  /** A known identity by number (reserved ones included). */
  lookup(id: number): Identity | undefined;
  /** Called for every identity added or deleted anywhere in the cluster; returns an unsubscribe function. */
  onChange(listener: (e: IdentityEvent) => void): () => void;
  /** This node's references: id → endpoint count. */
  references(): Map<number, number>;
  /** Allocations of new numbers and the races they lost. */
  readonly stats: { allocated: number; lostRaces: number };
}

export interface AllocatorOptions {
  /** This node's name: the last part of its ref keys. */
  node: string;
  /** TTL of the lease that holds this node's references, seconds (15). */
  leaseTtlSeconds?: number;
  /** Range handed out: Cilium's cluster scope 256-65535 unless narrowed (tests). */
  minId?: number;
  maxId?: number;
  /** Transactions tried before giving up on one allocation (64). */
  maxAttempts?: number;
  log?: Logger;
}

/**
 * One node's view of the cluster's identities: allocates and references
 * them, and keeps a cache of all of them current through a watch.
 */
export class IdentityAllocator implements IdentitySource {
  private readonly node: string;
  private readonly ttl: number;
  private readonly minId: number;
  private readonly maxId: number;
  private readonly maxAttempts: number;
  private readonly log: Logger | undefined;
  private readonly cache = new Map<number, Identity>();
  private readonly byKey = new Map<string, number>();
  /** This node's references: label key → id and endpoint count. */
  private readonly held = new Map<string, { id: number; labels: LabelSet; count: number }>();
  /** Serialises acquire/release per label set, so the count and the ref key agree. */
  private readonly locks = new KeyedSerial();
  private readonly listeners = new Set<(e: IdentityEvent) => void>();
  /**
   * Free numbers are chosen from the local view (the watched identities),
   * never by listing the store: numbers this allocator's acquires are trying
   * right now, numbers known to be taken that the watch has not shown yet
   * (won here, or lost to another allocator), and the lowest number that may
   * be free (every one below it is taken).
   */
  private readonly inFlight = new Set<number>();
  private readonly claimed = new Set<number>();
  private lowestFree: number;
  /** Allocations of new numbers and the transactions they lost (contention), for status and benchmarks. */
  readonly stats = { allocated: 0, lostRaces: 0 };
  private lease: Lease | undefined;
  private leaseId: Promise<string> | undefined;
  private informer: KvInformer | undefined;
  private stopped = false;

  constructor(
    private readonly etcd: Etcd3,
    opts: AllocatorOptions,
  ) {
    if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(opts.node)) {
      throw new IdentityInvalidError(`identity allocator: node name '${opts.node}' is invalid`, 'use a DNS subdomain: lower-case letters, digits, - and .');
    }
    this.node = opts.node;
    this.ttl = opts.leaseTtlSeconds ?? 15;
    this.minId = opts.minId ?? CLUSTER_IDENTITY_MIN;
    this.maxId = opts.maxId ?? CLUSTER_IDENTITY_MAX;
    this.maxAttempts = opts.maxAttempts ?? 64;
    this.lowestFree = this.minId;
    if (this.minId < CLUSTER_IDENTITY_MIN || this.maxId > CLUSTER_IDENTITY_MAX || this.minId > this.maxId) {
      throw new IdentityInvalidError(
        `identity allocator: range ${this.minId}-${this.maxId} is not inside the cluster scope ${CLUSTER_IDENTITY_MIN}-${CLUSTER_IDENTITY_MAX}`,
      );
    }
    this.log = opts.log;
  }

  /** Lists every identity, then watches for changes from the revision after that list. */
  async start(): Promise<void> {
    // A watch whose history was compacted (or an etcd that lost it) lists again and applies the difference (store/kv.ts).
    const inf = new KvInformer(this.etcd, IDENTITY_ID_PREFIX);
    inf.on('put', (e: KvEntry) => this.apply('put', e));
    inf.on('delete', (e: KvEntry) => this.apply('delete', e));
    inf.on('error', (e: Error) => this.log?.warn('identity watch error', { error: e.message }));
    inf.on('relisted', (n: { puts: number; deletes: number }) => this.log?.info('identities relisted', n));
    await inf.start();
    this.informer = inf;
  }

  /** Stops watching and revokes the lease: this node's references disappear now rather than after the TTL (`revoke: false`: they live out the lease). */
  async stop(opts: { revoke?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.informer?.stop();
    this.informer = undefined;
    const lease = this.lease;
    this.lease = undefined;
    this.leaseId = undefined;
    // revoke: false (an agent restarting): the entries live out their lease; only the keep-alives stop.
    if (opts.revoke === false) lease?.release();
    else if (lease) await lease.revoke().catch(() => undefined);
    this.held.clear();
  }

  private apply(kind: 'put' | 'delete', kv: KvEntry): void {
    const key = kv.key;
    const id = Number(key.slice(IDENTITY_ID_PREFIX.length));
    if (kind === 'delete') {
      this.claimed.delete(id);
      if (id < this.lowestFree && id >= this.minId) this.lowestFree = id;
      const had = this.cache.get(id);
      if (!had) return;
      this.cache.delete(id);
      const k = labelSetKey(had.labels);
      if (this.byKey.get(k) === id) this.byKey.delete(k);
      this.emit({ type: 'delete', identity: had });
      return;
    }
    let identity: Identity;
    try {
      identity = parseStored(key, kv.value);
    } catch (e) {
      this.log?.warn('ignoring malformed identity', { key, error: (e as Error).message });
      return;
    }
    const had = this.cache.get(id);
    const k = labelSetKey(identity.labels);
    this.claimed.delete(id);
    this.cache.set(id, identity);
    this.byKey.set(k, id);
    // A reference rewrites the key unchanged; only a new (or changed) identity is news.
    if (!had || labelSetKey(had.labels) !== k) this.emit({ type: 'upsert', identity });
  }

  private emit(e: IdentityEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log?.warn('identity listener failed', { error: (err as Error).message });
      }
    }
  }

  /** Calls `listener` for every identity added or deleted anywhere in the cluster; returns an unsubscribe function. */
  onChange(listener: (e: IdentityEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A known identity by number: reserved ones, and every allocated one this node has seen. */
  lookup(id: number): Identity | undefined {
    return reservedIdentity(id) ?? this.cache.get(id);
  }

  /** The identity of exactly this label set, if one exists. */
  lookupByLabels(labels: Iterable<Label | string>): Identity | undefined {
    const set = canonicalLabels(labels);
    const r = reservedIdentityByLabels(set);
    if (r) return r;
    const id = this.byKey.get(labelSetKey(set));
    return id === undefined ? undefined : this.cache.get(id);
  }

  /** Reserved and allocated identities, by number (`beeline identity list`). */
  list(): Identity[] {
    return [...RESERVED_IDENTITIES, ...[...this.cache.values()].sort((a, b) => a.id - b.id)];
  }

  /** This node's references: id → endpoint count. */
  references(): Map<number, number> {
    return new Map([...this.held.values()].map((h) => [h.id, h.count]));
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(key, fn);
  }

  private async currentLease(): Promise<string> {
    if (this.stopped) throw new IdentityStoreError(`identity allocator of ${this.node}: stopped`);
    if (!this.leaseId) {
      const lease = this.etcd.lease(this.ttl, { autoKeepAlive: true });
      lease.on('lost', (err) => {
        if (this.lease !== lease) return;
        this.log?.warn('identity lease lost; taking references again', { error: err.message });
        this.lease = undefined;
        this.leaseId = undefined;
        void this.restoreReferences();
      });
      this.lease = lease;
      this.leaseId = lease.grant();
      this.leaseId.catch(() => {
        if (this.lease === lease) {
          this.lease = undefined;
          this.leaseId = undefined;
        }
      });
    }
    return this.leaseId;
  }

  /**
   * The identity of a label set, taking one reference for this node (one per
   * endpoint that has it). Reserved label sets give their reserved identity
   * and touch no store. Labels are used as given: filter them first
   * (podIdentityLabels).
   */
  async acquire(labels: Iterable<Label | string>): Promise<Identity> {
    const set = canonicalLabels(labels);
    if (set.length === 0) throw new IdentityInvalidError('acquire identity: empty label set', 'an endpoint without labels has reserved:init (5) until it gets some');
    const r = reservedIdentityByLabels(set);
    if (r) return r;
    const key = labelSetKey(set);
    return this.serial(key, async () => {
      const h = this.held.get(key);
      if (h) {
        h.count++;
        return { id: h.id, labels: h.labels };
      }
      const id = await this.reference(set, key);
      this.held.set(key, { id, labels: set, count: 1 });
      return { id, labels: set };
    });
  }

  /**
   * Drops one reference; when this node has none left its ref key goes and
   * the identity becomes a candidate for GC. Returns true when that happened.
   */
  async release(labels: Iterable<Label | string>): Promise<boolean> {
    const set = canonicalLabels(labels);
    const key = labelSetKey(set);
    return this.serial(key, async () => {
      const h = this.held.get(key);
      if (!h) return false;
      if (--h.count > 0) return false;
      this.held.delete(key);
      try {
        await this.etcd.delete().key(identityRefKey(h.id, this.node)).exec();
      } catch (e) {
        // The lease will drop the key; GC waits for that.
        this.log?.warn('release identity reference', { id: h.id, error: (e as Error).message });
      }
      return true;
    });
  }

  /**
   * Allocates (or finds) the number of a label set and puts this node's ref
   * key, atomically with either. A label set the local view does not know
   * goes straight to the creating transaction (one round trip); its guards
   * (neither key exists) make a stale view safe: a lost race reads what won.
   */
  private async reference(set: LabelSet, key: string, preferId?: number): Promise<number> {
    const lease = await this.currentLease();
    const stored = storedValue(set);
    const ref = (id: number) => this.etcd.put(identityRefKey(id, this.node)).value(this.node).lease(lease);
    let lostOne = false;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const existing = attempt === 0 && !this.byKey.has(key) ? null : await this.etcd.get(identityValueKey(key)).string();
      if (existing !== null) {
        const id = Number(existing);
        const tx = await this.etcd
          .if(identityValueKey(key), 'Value', '==', existing)
          .and(identityIdKey(id), 'Value', '==', stored)
          .then(ref(id), this.etcd.put(identityIdKey(id)).value(stored))
          .commit();
        if (tx.succeeded) return id;
        const idNow = await this.etcd.get(identityIdKey(id)).string();
        if (idNow !== null && idNow !== stored) {
          throw new IdentityStoreError(`acquire identity ${key}: ${identityValueKey(key)} says ${id} but ${identityIdKey(id)} holds ${idNow}`, {
            hint: `repair the store: etcdctl del ${identityValueKey(key)} ${identityIdKey(id)}`,
          });
        }
        continue; // GC deleted it meanwhile: allocate again
      }
      const id = preferId !== undefined && attempt === 0 ? preferId : this.freeId(key, lostOne);
      this.inFlight.add(id);
      let won = false;
      try {
        const tx = await this.etcd
          .if(identityIdKey(id), 'Create', '==', 0)
          .and(identityValueKey(key), 'Create', '==', 0)
          .then(this.etcd.put(identityIdKey(id)).value(stored), this.etcd.put(identityValueKey(key)).value(String(id)), ref(id))
          .commit();
        won = tx.succeeded;
      } finally {
        this.inFlight.delete(id);
      }
      if (won) {
        this.stats.allocated++;
        this.claimed.add(id);
        return id;
      }
      // Lost a race: for this number (another allocator has it: never try it again until the watch says
      // whose it is, and take a random free one next) or for this label set (the next attempt reads the winner's).
      this.stats.lostRaces++;
      lostOne = true;
      if (!this.cache.has(id)) this.claimed.add(id);
    }
    throw new IdentityStoreError(`acquire identity ${key}: no transaction succeeded in ${this.maxAttempts} attempts`, {
      hint: 'the store is under heavy contention; retry',
    });
  }

  /**
   * A number of the range that no identity has as far as this node knows
   * (O(1) amortised: never a listing of the store): the lowest, or after a lost
   * race a random free one (as Cilium's idpool leases them), so that
   * allocators racing for the lowest do not all collide again. Concurrent
   * acquires of this allocator get different numbers. A stale view costs a
   * lost race, never a duplicate: the transaction guards the number.
   */
  private freeId(key: string, random: boolean): number {
    const taken = (id: number) => this.cache.has(id) || this.inFlight.has(id) || this.claimed.has(id);
    const size = this.maxId - this.minId + 1;
    if (random && this.cache.size + this.inFlight.size + this.claimed.size < size / 2) {
      for (;;) {
        const id = this.minId + Math.floor(Math.random() * size);
        if (!taken(id)) return id;
      }
    }
    // Numbers below lowestFree are taken (deletions lower it); in-flight ones are skipped, not passed.
    while (this.lowestFree <= this.maxId && (this.cache.has(this.lowestFree) || this.claimed.has(this.lowestFree))) this.lowestFree++;
    for (let id = this.lowestFree; id <= this.maxId; id++) if (!taken(id)) return id;
    throw new IdentityExhaustedError(`acquire identity ${key}: all ${size} identities ${this.minId}-${this.maxId} are allocated`);
  }

  /** After a lost lease: a new lease and this node's ref keys again (the same numbers, recreated if GC took them). */
  private async restoreReferences(): Promise<void> {
    for (const [key, h] of this.held) {
      if (this.stopped) return;
      try {
        const id = await this.serial(key, () => this.reference(h.labels, key, h.id));
        if (id !== h.id) {
          this.log?.warn('identity changed number after the store lost it', { labels: key, from: h.id, to: id });
          h.id = id;
        }
      } catch (e) {
        this.log?.warn('restore identity reference', { labels: key, error: (e as Error).message });
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Garbage collection (the operator's side)

export interface GcResult {
  /** Identities deleted by this pass. */
  deleted: number[];
  /** Unreferenced identities still inside their grace period. */
  pending: number[];
}

export interface GcOptions {
  /** How long an identity must stay unreferenced (and untouched) before it is deleted, ms. */
  graceMs: number;
  /** Clock, ms (Date.now). */
  now?: () => number;
  log?: Logger;
}

/**
 * Deletes identities no node references, after a grace period (Cilium's
 * operator identity GC). Remembers, between passes, since when each
 * identity has been unreferenced and at which mod revision; a reference
 * taken in between changes that revision, which restarts the clock and makes
 * a racing delete fail.
 */
export class IdentityGarbageCollector {
  private readonly clock = new UnreferencedClock();
  private readonly periodic: PeriodicPass<GcResult>;
  private readonly now: () => number;

  constructor(
    private readonly etcd: Etcd3,
    private readonly opts: GcOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.periodic = new PeriodicPass(() => this.pass(), opts.log, 'identity GC');
  }

  /** One pass (concurrent calls share it). */
  run(): Promise<GcResult> {
    return this.periodic.run();
  }

  private async pass(): Promise<GcResult> {
    // Identities first, references second: a reference taken after the first read bumps the identity's revision.
    const ids = await this.etcd.getAll().prefix(IDENTITY_ID_PREFIX).exec();
    const refs = await this.etcd.getAll().prefix(IDENTITY_REF_PREFIX).keys();
    const referenced = new Set(refs.map((k) => Number(k.slice(IDENTITY_REF_PREFIX.length).split('/')[0])));
    const now = this.now();
    const seen = new Set<number>();
    const result: GcResult = { deleted: [], pending: [] };
    for (const kv of ids.kvs) {
      const key = kv.key.toString();
      const id = Number(key.slice(IDENTITY_ID_PREFIX.length));
      seen.add(id);
      if (referenced.has(id)) {
        this.clock.referenced(id);
        continue;
      }
      const mod = String(kv.mod_revision);
      if (!this.clock.expired(id, mod, now, this.opts.graceMs)) {
        result.pending.push(id);
        continue;
      }
      let labelKey: string | undefined;
      try {
        labelKey = labelSetKey(parseStored(key, kv.value.toString()).labels);
      } catch {
        labelKey = undefined; // malformed: delete the id key alone
      }
      let tx = this.etcd.if(key, 'Mod', '==', mod);
      tx = labelKey === undefined
        ? tx.then(this.etcd.delete().key(key))
        : tx.then(this.etcd.delete().key(key), this.etcd.delete().key(identityValueKey(labelKey)));
      // id/<n> and value/<labelkey> are only ever created and deleted together, so the value key is this id's.
      const done = await tx.commit();
      this.clock.referenced(id);
      if (done.succeeded) {
        result.deleted.push(id);
        this.opts.log?.info('identity garbage-collected', { id });
      }
    }
    this.clock.keepOnly(seen);
    return result;
  }

  /** Runs a pass every `intervalMs` (the GC cadence) until stop(). */
  start(intervalMs: number): void {
    this.periodic.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }
}

// ---------------------------------------------------------------------------
// Printing

/**
 * `beeline identity list` in `cilium identity list`'s shape: ID and LABELS
 * columns, the first label beside the number, the others below it.
 */
export function formatIdentityList(identities: readonly Identity[]): string {
  const lines = [`${'ID'.padEnd(10)} LABELS`];
  for (const i of identities) {
    const labels = formatLabelSet(i.labels);
    lines.push(`${String(i.id).padEnd(10)} ${labels[0] ?? ''}`.trimEnd());
    for (const l of labels.slice(1)) lines.push(`${''.padEnd(10)} ${l}`);
  }
  return lines.join('\n') + '\n';
}
