/**
 * The cluster store: one interface with Kubernetes' list-and-watch semantics,
 * implemented over etcd (kvstore mode, src/store/etcd.ts) and over the
 * Kubernetes API (src/store/kubernetes.ts). Objects are plain JSON shaped like
 * Kubernetes objects; the agent and controllers consume them through an
 * Informer (list, then watch from the list's resourceVersion, local cache,
 * relist on Expired), so they cannot tell the two modes apart.
 *
 * This file holds the interface and the pure parts: kind lookup (the one
 * registry is src/k8s/kinds.ts), the etcd key layout, label selectors (parsed
 * by src/k8s/selector.ts), watch-event dedup and the Informer.
 */
import { EventEmitter } from 'node:events';
import { StoreExpiredError, StoreInvalidError } from '../common/errors.js';
import { ALL_KINDS, type KindInfo } from '../k8s/kinds.js';
import { dns1123LabelError, dns1123SubdomainError } from '../k8s/names.js';
import { parseSelectorRequirements, requirementsMatch } from '../k8s/selector.js';
import type { LabelSelectorRequirement } from '../k8s/types.js';

/** Object metadata, the subset of Kubernetes' ObjectMeta the store owns or reads. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  /** Opaque; compare for equality only. In kvstore mode the etcd mod_revision. */
  resourceVersion: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** RFC 3339, set by the store on create. */
  creationTimestamp: string;
  /** Bumped by the store when `spec` changes. */
  generation?: number;
  /** Objects this one belongs to (a Deployment's pods, a Service's EndpointSlices): the garbage collector's edges. */
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  /** Set when a graceful deletion has begun: the object goes when its owner (a pod's kubelet) has finished with it. */
  deletionTimestamp?: string;
  /** The grace period of that deletion, seconds. */
  deletionGracePeriodSeconds?: number;
}

/** A stored object. */
export interface StoreObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

/** What a caller hands to create/update/apply: the store fills in uid, resourceVersion, timestamps. */
export interface ObjectInput {
  apiVersion: string;
  kind: string;
  metadata: Partial<ObjectMeta> & { name: string };
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/**
 * One change. For DELETED the object is its last state with `resourceVersion`
 * set to the revision of the deletion; for BOOKMARK only
 * `metadata.resourceVersion` means anything (everything up to it was sent).
 */
export interface WatchEvent {
  type: WatchEventType;
  object: StoreObject;
}

/** Names one object: kind, namespace (ignored for cluster-scoped kinds), name. */
export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
}

export interface ListOptions {
  namespace?: string;
  /** Kubernetes label selector syntax: `app=web,tier!=db,env in (a,b),!canary`. */
  labelSelector?: string;
}

export interface ListResult {
  items: StoreObject[];
  /** Pass to `watch` to get exactly the changes after this list. */
  resourceVersion: string;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  /** Changes after this version are delivered; '' or absent: from now on. */
  resourceVersion?: string;
}

/**
 * A running watch: iterate it for events. It resumes by itself after a lost
 * connection, without missing or repeating events; the iterator throws
 * StoreExpiredError when the version it must resume from is gone (compacted),
 * and the caller must relist. `close()` ends the iteration.
 */
export interface StoreWatch extends AsyncIterable<WatchEvent> {
  close(): void;
}

export interface WriteOptions {
  /** Attach the object to a lease: it is deleted when the lease expires (kvstore mode). */
  lease?: StoreLease;
  /** Check everything (identity, existence, version) and answer the would-be object; write nothing. */
  dryRun?: boolean;
}

export interface DeleteOptions {
  /** Only delete this version (optimistic concurrency). */
  resourceVersion?: string;
  /** Missing object is not an error; resolves undefined. */
  ignoreNotFound?: boolean;
}

/** A time-to-live held alive by keep-alives while the process lives. */
export interface StoreLease {
  readonly id: string;
  readonly ttlSeconds: number;
  /** Called once when the lease is lost (expired on the server, or keep-alives failed past its TTL). */
  onLost(cb: (err: Error) => void): void;
  /** Ends the lease now; objects attached to it are deleted. */
  revoke(): Promise<void>;
}

export interface Store {
  /** `kvstore` (etcd) or `kubernetes`. */
  readonly mode: 'kvstore' | 'kubernetes';
  get(kind: string, namespace: string | undefined, name: string): Promise<StoreObject | undefined>;
  /** Many objects at once (undefined for each one missing), in the order asked; kvstore mode reads them at one revision. */
  getMany(refs: ObjectRef[]): Promise<(StoreObject | undefined)[]>;
  list(kind: string, options?: ListOptions): Promise<ListResult>;
  /** Fails with StoreAlreadyExistsError when the object exists. */
  create(obj: ObjectInput, options?: WriteOptions): Promise<StoreObject>;
  /**
   * Replaces spec/labels/annotations (status is kept). With
   * `metadata.resourceVersion` set, a stale version fails with
   * StoreConflictError; without it the write is unconditional.
   */
  update(obj: ObjectInput, options?: WriteOptions): Promise<StoreObject>;
  /** Replaces only `status`; same concurrency rule as update. */
  updateStatus(obj: ObjectInput): Promise<StoreObject>;
  delete(kind: string, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<StoreObject | undefined>;
  /**
   * Creates or updates every object, all or nothing. An object carrying a
   * resourceVersion must still be at that version; one failing object means
   * nothing is written. Resolves with the stored objects in input order.
   * kvstore mode writes the batch as one etcd transaction (one revision, so no
   * reader sees part of it), which etcd bounds (BL_ERR_STORE_TXN_LIMIT beyond);
   * Kubernetes mode has no multi-object transaction (see kubernetes.ts).
   */
  applyBatch(objects: ObjectInput[]): Promise<StoreObject[]>;
  watch(kind: string, options?: WatchOptions): StoreWatch;
  /** A list-watch cache for one kind; call `start()`. */
  informer(kind: string, options?: ListOptions): Informer;
  lease(ttlSeconds: number): Promise<StoreLease>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Kinds

/** Where a kind lives (group, version, plural, scope): a row of src/k8s/kinds.ts. */
export type { KindInfo };

/** Every kind the store takes, by name: the one registry in src/k8s/kinds.ts, store-only kinds included. */
const kinds = new Map<string, KindInfo>(ALL_KINDS.map((k) => [k.kind, k]));

/** The registered kind, or StoreInvalidError naming it. */
export function kindInfo(kind: string): KindInfo {
  const k = kinds.get(kind);
  if (!k) throw new StoreInvalidError(`store: unknown kind ${JSON.stringify(kind)}`, `known kinds: ${[...kinds.keys()].join(', ')}`);
  return k;
}

// ---------------------------------------------------------------------------
// Key layout (kvstore mode)

export const RESOURCES_PREFIX = '/beeline/v1/resources/';
/** The namespace segment of cluster-scoped objects; `_` is not a valid namespace name, so it cannot collide. */
export const CLUSTER_SCOPE = '_';

function groupSegment(k: KindInfo): string {
  return k.group || 'core';
}

/** `/beeline/v1/resources/<group>/<kind>/<namespace>/<name>` (group `core` for ''; namespace `_` for cluster-scoped). */
export function resourceKey(kind: string, namespace: string | undefined, name: string): string {
  const k = kindInfo(kind);
  const ns = scopeOf(k, namespace);
  return `${RESOURCES_PREFIX}${groupSegment(k)}/${k.kind}/${ns}/${name}`;
}

/** The prefix every object of `kind` (in `namespace`, when given and namespaced) lives under. */
export function resourcePrefix(kind: string, namespace?: string): string {
  const k = kindInfo(kind);
  const base = `${RESOURCES_PREFIX}${groupSegment(k)}/${k.kind}/`;
  if (!k.namespaced) return `${base}${CLUSTER_SCOPE}/`;
  return namespace ? `${base}${namespace}/` : base;
}

/** Inverse of resourceKey; undefined for keys outside the layout. */
export function parseResourceKey(key: string): { group: string; kind: string; namespace: string | undefined; name: string } | undefined {
  if (!key.startsWith(RESOURCES_PREFIX)) return undefined;
  const parts = key.slice(RESOURCES_PREFIX.length).split('/');
  if (parts.length !== 4 || parts.some((p) => p === '')) return undefined;
  const [group, kind, ns, name] = parts as [string, string, string, string];
  return { group: group === 'core' ? '' : group, kind, namespace: ns === CLUSTER_SCOPE ? undefined : ns, name };
}

function scopeOf(k: KindInfo, namespace: string | undefined): string {
  if (!k.namespaced) {
    if (namespace) throw new StoreInvalidError(`store: ${k.kind} is cluster-scoped but namespace ${JSON.stringify(namespace)} was given`);
    return CLUSTER_SCOPE;
  }
  if (!namespace) throw new StoreInvalidError(`store: ${k.kind} is namespaced: metadata.namespace is required`);
  return namespace;
}


/** Checks what the store itself needs of an object (kind, apiVersion, name, namespace); schema validation lives in src/k8s. */
export function checkIdentity(obj: ObjectInput): KindInfo {
  const where = `${obj?.kind ?? '?'} ${obj?.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj?.metadata?.name ?? '?'}`;
  if (!obj || typeof obj !== 'object') throw new StoreInvalidError('store: object must be a JSON object');
  if (typeof obj.kind !== 'string') throw new StoreInvalidError(`store: ${where}: kind: required`);
  const k = kindInfo(obj.kind);
  if (obj.apiVersion !== k.apiVersion) throw new StoreInvalidError(`store: ${where}: apiVersion: must be ${k.apiVersion}, not ${JSON.stringify(obj.apiVersion)}`);
  const m = obj.metadata;
  if (!m || typeof m !== 'object') throw new StoreInvalidError(`store: ${where}: metadata: required`);
  if (typeof m.name !== 'string' || dns1123SubdomainError(m.name)) {
    throw new StoreInvalidError(`store: ${where}: metadata.name: must be a DNS subdomain (lower case letters, digits, '-', '.')`);
  }
  if (k.namespaced) {
    if (typeof m.namespace !== 'string' || dns1123LabelError(m.namespace)) {
      throw new StoreInvalidError(`store: ${where}: metadata.namespace: required, a DNS label`);
    }
  } else if (m.namespace !== undefined && m.namespace !== '') {
    throw new StoreInvalidError(`store: ${where}: metadata.namespace: ${k.kind} is cluster-scoped`);
  }
  return k;
}

// ---------------------------------------------------------------------------
// Label selectors

/** One requirement of a label selector (the meta/v1 form: `In`, `NotIn`, `Exists`, `DoesNotExist`). */
export type Requirement = LabelSelectorRequirement;

/**
 * Parses Kubernetes' label selector string (src/k8s/selector.ts holds the
 * parser). Throws StoreInvalidError naming the part that does not parse.
 */
export function parseLabelSelector(s: string | undefined): Requirement[] {
  const r = parseSelectorRequirements(s);
  if ('error' in r) throw new StoreInvalidError(r.error);
  return r.requirements;
}

/** Whether `labels` satisfy every requirement. */
export const matchesSelector: (reqs: readonly Requirement[], labels: Record<string, string> | undefined) => boolean = requirementsMatch;

// ---------------------------------------------------------------------------
// Watch-event dedup

/**
 * Decides which watch events are new across reconnects. A watch resumes from
 * the last revision it saw (not one past it: a revision's events may have
 * arrived only in part), so events already delivered come again; this keeps
 * the last revision and the keys delivered at it, and drops repeats.
 * `resumeRevision()` is where a recreated watch must start.
 */
export class RevisionDedup {
  private last: number;
  private keysAtLast = new Set<string>();
  /** Whether every event at `last` is known delivered (a bookmark or a later revision said so). */
  private complete: boolean;

  /** `after`: every event at or below it is already known (e.g. the list's revision). */
  constructor(after: number) {
    this.last = after;
    this.complete = true;
  }

  /** True when the event (revision, key) was not delivered yet; records it. */
  accept(revision: number, key: string): boolean {
    if (revision < this.last) return false;
    if (revision === this.last) {
      if (this.complete || this.keysAtLast.has(key)) return false;
      this.keysAtLast.add(key);
      return true;
    }
    this.last = revision;
    this.keysAtLast = new Set([key]);
    this.complete = false;
    return true;
  }

  /** Everything up to `revision` has been delivered (a watch response ended, or a progress notification). */
  settle(revision: number): void {
    if (revision > this.last || (revision === this.last && !this.complete)) {
      this.last = revision;
      this.keysAtLast.clear();
      this.complete = true;
    }
  }

  /** The highest revision seen. */
  get revision(): number {
    return this.last;
  }

  /** Where a new watch must start so nothing is missed. */
  resumeRevision(): number {
    return this.complete ? this.last + 1 : this.last;
  }
}

// ---------------------------------------------------------------------------
// Relist diff

/**
 * What a fresh list changes in a cache, both keyed alike: `puts` holds each
 * entry that is new (old undefined) or whose version differs (with the old
 * one), `deletes` each cached entry the list no longer has. An informer
 * relisting after its watch expired applies exactly this, so its consumers
 * see the deletes and updates the lost watch history held, and nothing for
 * what did not change.
 */
export function diffSnapshot<T>(cache: ReadonlyMap<string, T>, fresh: ReadonlyMap<string, T>, version: (v: T) => string | number): { puts: [T, T | undefined][]; deletes: T[] } {
  const deletes: T[] = [];
  for (const [k, old] of cache) if (!fresh.has(k)) deletes.push(old);
  const puts: [T, T | undefined][] = [];
  for (const [k, v] of fresh) {
    const old = cache.get(k);
    if (old === undefined || version(old) !== version(v)) puts.push([v, old]);
  }
  return { puts, deletes };
}

// ---------------------------------------------------------------------------
// Informer

export type InformerEvent = 'add' | 'update' | 'delete' | 'synced' | 'error';

/** What consumers see of an informer, whichever mode built it. */
export interface Informer {
  on(event: 'add' | 'delete', cb: (obj: StoreObject) => void): this;
  on(event: 'update', cb: (obj: StoreObject, old: StoreObject) => void): this;
  on(event: 'synced', cb: () => void): this;
  /** Transient trouble (the store went away); the informer keeps retrying. */
  on(event: 'error', cb: (err: Error) => void): this;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True once the first list has been loaded into the cache. */
  hasSynced(): boolean;
  /** Resolves when synced. */
  waitForSync(): Promise<void>;
  get(namespace: string | undefined, name: string): StoreObject | undefined;
  list(namespace?: string): StoreObject[];
  /** The last version the cache reflects. */
  resourceVersion(): string;
}

export function cacheKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/**
 * Base of both modes' informers: the cache and its events. `replace` applies
 * a fresh list (adds, updates, deletes what vanished); `apply` one watch event.
 */
export abstract class CacheInformer extends EventEmitter implements Informer {
  protected cache = new Map<string, StoreObject>();
  protected synced = false;
  protected rv = '';
  private syncWaiters: (() => void)[] = [];

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  get(namespace: string | undefined, name: string): StoreObject | undefined {
    return this.cache.get(cacheKey(namespace, name));
  }

  list(namespace?: string): StoreObject[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  resourceVersion(): string {
    return this.rv;
  }

  /** Applies a full list: the difference to the cache as events (a relist after Expired is not a reset). */
  protected replace(items: StoreObject[], resourceVersion: string): void {
    const fresh = new Map(items.map((o) => [cacheKey(o.metadata.namespace, o.metadata.name), o]));
    const diff = diffSnapshot(this.cache, fresh, (o) => o.metadata.resourceVersion);
    for (const old of diff.deletes) {
      this.cache.delete(cacheKey(old.metadata.namespace, old.metadata.name));
      this.emit('delete', old);
    }
    for (const [o, old] of diff.puts) {
      this.cache.set(cacheKey(o.metadata.namespace, o.metadata.name), o);
      if (old) this.emit('update', o, old);
      else this.emit('add', o);
    }
    this.rv = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      this.emit('synced');
      this.syncWaiters.splice(0).forEach((r) => r());
    }
  }

  protected apply(ev: WatchEvent): void {
    const o = ev.object;
    if (ev.type !== 'BOOKMARK') {
      const k = cacheKey(o.metadata.namespace, o.metadata.name);
      if (ev.type === 'DELETED') {
        const old = this.cache.get(k);
        if (old) {
          this.cache.delete(k);
          this.emit('delete', o);
        }
      } else this.upsert(k, o);
    }
    if (o.metadata?.resourceVersion) this.rv = o.metadata.resourceVersion;
  }

  private upsert(k: string, o: StoreObject): void {
    const old = this.cache.get(k);
    if (!old) {
      this.cache.set(k, o);
      this.emit('add', o);
    } else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) {
      this.cache.set(k, o);
      this.emit('update', o, old);
    }
  }
}

/** Source of lists and watches, i.e. a Store. */
type ListWatcher = Pick<Store, 'list' | 'watch'>;

/**
 * The informer over any Store: list, then watch from the list's
 * resourceVersion; on Expired relist (the cache converges by diffing); on other
 * errors retry with back-off, keeping the cache as it is meanwhile.
 */
export class StoreInformer extends CacheInformer {
  private running = false;
  private current: StoreWatch | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** How many times the informer listed (1 + relists); for tests and status. */
  lists = 0;

  constructor(
    private readonly source: ListWatcher,
    private readonly kind: string,
    private readonly options: ListOptions = {},
    private readonly backoff: { initialMs: number; maxMs: number } = { initialMs: 200, maxMs: 5000 },
  ) {
    super();
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.current?.close();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let delay = this.backoff.initialMs;
    let needList = true;
    while (this.running) {
      try {
        if (needList) {
          const l = await this.source.list(this.kind, this.options);
          this.lists++;
          this.replace(l.items, l.resourceVersion);
          needList = false;
        }
        this.current = this.source.watch(this.kind, { ...this.options, resourceVersion: this.rv });
        for await (const ev of this.current) {
          delay = this.backoff.initialMs;
          this.apply(ev);
        }
      } catch (e) {
        if (!this.running) break;
        if (e instanceof StoreExpiredError) {
          needList = true;
          continue;
        }
        this.emit('error', e as Error);
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        delay = Math.min(delay * 2, this.backoff.maxMs);
      } finally {
        this.current = undefined;
      }
    }
  }

  // EventEmitter's 'error' throws when nobody listens; an informer's errors are transient.
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this.listenerCount('error') === 0) return false;
    return super.emit(event, ...args);
  }
}

/**
 * A push-to-pull queue for implementing StoreWatch: producers `push` events or
 * `fail`; the consumer iterates.
 */
export class EventQueue implements AsyncIterable<WatchEvent> {
  private buf: WatchEvent[] = [];
  private waiter: ((v: IteratorResult<WatchEvent>) => void) | undefined;
  private failWaiter: ((e: Error) => void) | undefined;
  private error: Error | undefined;
  private ended = false;
  constructor(private readonly onClose: () => void) {}

  push(ev: WatchEvent): void {
    if (this.ended || this.error) return;
    if (this.waiter) {
      const w = this.waiter;
      this.clearWaiters();
      w({ value: ev, done: false });
    } else this.buf.push(ev);
  }

  fail(err: Error): void {
    if (this.ended || this.error) return;
    this.error = err;
    this.onClose();
    if (this.failWaiter) {
      const f = this.failWaiter;
      this.clearWaiters();
      f(err);
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onClose();
    if (this.waiter) {
      const w = this.waiter;
      this.clearWaiters();
      w({ value: undefined, done: true });
    }
  }

  private clearWaiters(): void {
    this.waiter = undefined;
    this.failWaiter = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => {
        const ev = this.buf.shift();
        if (ev) return Promise.resolve({ value: ev, done: false });
        if (this.error) return Promise.reject(this.error);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiter = resolve;
          this.failWaiter = reject;
        });
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
