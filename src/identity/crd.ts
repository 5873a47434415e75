/**
 * Kubernetes mode's identities and ipcache: the state kvstore mode keeps in
 * raw etcd keys (src/identity/allocator.ts, src/identity/ipcache.ts), kept as
 * beeline's own custom resources (deploy/kubernetes/crds/beeline.io_*.yaml)
 * through the Store interface, so it runs against any Store
 * (openKubernetesStore in a cluster):
 *
 *   BeelineIdentity  cluster-scoped, named by its number ("1234"), top-level
 *                    `securityLabels` (formatLabelSet form). Allocation is a
 *                    create: two agents racing for one number meet at the API
 *                    server (409 AlreadyExists), as at etcd's transaction.
 *   BeelineEndpoint  one per pod, the pod's namespace and name: spec {identity,
 *                    ipv4, node, hostIP, endpointID?}; every agent watches them
 *                    all (the ipcache) and the operator counts references from
 *                    them (identity GC).
 *
 * Differences from kvstore mode, because the API server has no transactions
 * and no leases: a reference to an identity is a BeelineEndpoint naming it
 * (no per-node ref keys), so an agent's reference counts are local; and a
 * node's entries are not bound to a lease: they stay until the agent deletes
 * them, or the operator deletes the BeelineEndpoints of a deleted Node.
 */
import { PeriodicPass, UnreferencedClock } from './gc-pass.js';
import {
  IdentityExhaustedError,
  IdentityInvalidError,
  IdentityStoreError,
  IpcacheInvalidError,
  StoreAlreadyExistsError,
  StoreConflictError,
  StoreNotFoundError,
} from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { KeyedSerial } from '../common/serial.js';
import { tryParseIPv4 } from '../ipam/cidr.js';
import type { Informer, ObjectInput, Store, StoreObject } from '../store/store.js';
import type { GcOptions, GcResult, IdentityEvent, IdentitySource } from './allocator.js';
import { canonicalPrefix, validateEntry, type IpcacheEntry, type IpcacheEvent, type IpcacheSource, type IpcacheUpsert } from './ipcache.js';
import { canonicalLabels, formatLabelSet, labelSetKey, parseLabel, type Label, type LabelSet } from './labels.js';
import {
  CLUSTER_IDENTITY_MAX,
  CLUSTER_IDENTITY_MIN,
  RESERVED_IDENTITIES,
  identityScope,
  reservedIdentity,
  reservedIdentityByLabels,
  type Identity,
} from './reserved.js';

export const BEELINE_API_VERSION = 'beeline.io/v1alpha1';
export const IDENTITY_KIND = 'BeelineIdentity';
export const ENDPOINT_KIND = 'BeelineEndpoint';

/** Kubernetes node names: DNS subdomains. */
const NODE_NAME_RE = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

// ---------------------------------------------------------------------------
// Object shapes

/** The BeelineIdentity of a number and its (canonical) labels. */
export function beelineIdentity(id: number, labels: LabelSet): ObjectInput {
  return { apiVersion: BEELINE_API_VERSION, kind: IDENTITY_KIND, metadata: { name: String(id) }, securityLabels: formatLabelSet(labels) };
}

/** A BeelineIdentity read from the store; IdentityStoreError naming what is wrong with it. */
export function parseBeelineIdentity(o: StoreObject): Identity {
  const name = o.metadata?.name;
  const where = `BeelineIdentity ${JSON.stringify(name)}`;
  const bad = (why: string) => new IdentityStoreError(`read ${where}: ${why}`, { hint: `the store holds a malformed identity; kubectl delete beelineidentity ${name}` });
  if (typeof name !== 'string' || !/^[1-9][0-9]{0,9}$/.test(name)) throw bad('the name is not an identity number');
  const id = Number(name);
  if (identityScope(id) !== 'cluster') throw bad(`${id} is not a cluster-scope identity (${CLUSTER_IDENTITY_MIN}-${CLUSTER_IDENTITY_MAX})`);
  const raw = o.securityLabels;
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((l) => typeof l === 'string')) throw bad('securityLabels is not a non-empty list of strings');
  let labels: LabelSet;
  try {
    labels = canonicalLabels((raw as string[]).map(parseLabel));
  } catch (e) {
    throw bad((e as Error).message);
  }
  return { id, labels };
}

/** What an agent writes for one pod's address. */
export interface BeelineEndpointSpec {
  identity: number;
  ipv4: string;
  node: string;
  hostIP: string;
  endpointID?: number;
  /** The endpoint's ingress policy requires mutual authentication (absent: false). */
  authRequired?: boolean;
}

/** The ipcache entry of a BeelineEndpoint read from the store (owner = spec.node); IpcacheInvalidError naming what is wrong. */
export function parseBeelineEndpoint(o: StoreObject): IpcacheEntry {
  const where = `BeelineEndpoint ${o.metadata?.namespace}/${o.metadata?.name}`;
  const s = o.spec as Partial<Record<keyof BeelineEndpointSpec, unknown>> | undefined;
  if (!s || typeof s !== 'object') throw new IpcacheInvalidError(`read ${where}: no spec`);
  if (typeof s.ipv4 !== 'string' || tryParseIPv4(s.ipv4) === undefined) throw new IpcacheInvalidError(`read ${where}: spec.ipv4 ${JSON.stringify(s.ipv4)} is not an IPv4 address`);
  if (typeof s.identity !== 'number' || !Number.isInteger(s.identity)) throw new IpcacheInvalidError(`read ${where}: spec.identity ${JSON.stringify(s.identity)} is not a number`);
  if (typeof s.hostIP !== 'string') throw new IpcacheInvalidError(`read ${where}: spec.hostIP is not a string`);
  if (typeof s.node !== 'string' || !NODE_NAME_RE.test(s.node)) throw new IpcacheInvalidError(`read ${where}: spec.node ${JSON.stringify(s.node)} is not a node name`);
  try {
    return validateEntry({ prefix: s.ipv4, identity: s.identity, hostIP: s.hostIP, encryptKey: 0, owner: s.node, ...(s.authRequired === true ? { authRequired: true } : {}) });
  } catch (e) {
    throw new IpcacheInvalidError(`read ${where}: ${(e as Error).message}`);
  }
}

const objectKey = (o: { metadata: { namespace?: string; name: string } }) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function checkNode(node: string, what: string): void {
  if (!NODE_NAME_RE.test(node)) throw new IdentityInvalidError(`${what}: node name '${node}' is invalid`, 'use a DNS subdomain: lower-case letters, digits, - and .');
}

/** Subscribers of one event type; a throwing listener is logged, not fatal to the others. */
class Listeners<E> {
  private readonly set = new Set<(e: E) => void>();
  constructor(private readonly what: string, private readonly log: Logger | undefined) {}
  add(l: (e: E) => void): () => void {
    this.set.add(l);
    return () => this.set.delete(l);
  }
  emit(e: E): void {
    for (const l of this.set) {
      try {
        l(e);
      } catch (err) {
        this.log?.warn(`${this.what} listener failed`, { error: (err as Error).message });
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Identities

export interface CrdAllocatorOptions {
  /** This node's name (messages; the identity holds no per-node reference). */
  node: string;
  /** Range handed out: Cilium's cluster scope 256-65535 unless narrowed (tests). */
  minId?: number;
  maxId?: number;
  /** Creates tried before giving up on one allocation (64). */
  maxAttempts?: number;
  log?: Logger;
}

/** Serialises this allocator's creates: one new number in flight at a time (see CrdIdentityAllocator). */
const CREATE_LOCK = '\0create';

/**
 * One node's view of the cluster's identities in Kubernetes mode (Cilium's
 * CRD identity allocation): a cache of every BeelineIdentity kept by an
 * informer, allocation by create.
 *
 * A label set already present (in the cache, or met at a 409) is reused. A new
 * one is created under the lowest number free in the cache; AlreadyExists sends
 * the allocator to read that object: the same labels (another agent won the
 * race for this set) are reused, others mean the next number. Each allocator
 * has one create in flight at a time and tries numbers in ascending order,
 * skipping only numbers it has seen taken, so two allocators racing for one set
 * meet at its number rather than creating two (short of the GC deleting an
 * identity meanwhile); where duplicates exist anyway, the lowest number is the
 * set's.
 *
 * References are the BeelineEndpoints naming an identity (the operator's GC
 * reads them); `references()` is this node's count, kept locally. An identity
 * this node holds that is deleted (a GC racing a new endpoint) is created
 * again under its number.
 */
export class CrdIdentityAllocator implements IdentitySource {
  private readonly node: string;
  private readonly minId: number;
  private readonly maxId: number;
  private readonly maxAttempts: number;
  private readonly log: Logger | undefined;
  private readonly cache = new Map<number, Identity>();
  /** Label key → the numbers that carry it (more than one only after a race lost to the GC). */
  private readonly byKey = new Map<string, Set<number>>();
  private readonly held = new Map<string, { id: number; labels: LabelSet; count: number }>();
  private readonly locks = new KeyedSerial();
  private readonly listeners: Listeners<IdentityEvent>;
  /**
   * Numbers seen taken (created here, or met at a 409) that the informer has
   * not shown yet, with the label key read (undefined: malformed). Kept with
   * their labels: a number skipped because another set had it must still be
   * found when this allocator asks for that set.
   */
  private readonly claimed = new Map<number, string | undefined>();
  /** Every number below it is taken as far as this allocator knows. */
  private lowestFree: number;
  readonly stats = { allocated: 0, lostRaces: 0 };
  private informer: Informer | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    opts: CrdAllocatorOptions,
  ) {
    checkNode(opts.node, 'identity allocator');
    this.node = opts.node;
    this.minId = opts.minId ?? CLUSTER_IDENTITY_MIN;
    this.maxId = opts.maxId ?? CLUSTER_IDENTITY_MAX;
    this.maxAttempts = opts.maxAttempts ?? 64;
    if (this.minId < CLUSTER_IDENTITY_MIN || this.maxId > CLUSTER_IDENTITY_MAX || this.minId > this.maxId) {
      throw new IdentityInvalidError(
        `identity allocator: range ${this.minId}-${this.maxId} is not inside the cluster scope ${CLUSTER_IDENTITY_MIN}-${CLUSTER_IDENTITY_MAX}`,
      );
    }
    this.lowestFree = this.minId;
    this.log = opts.log;
    this.listeners = new Listeners('identity', this.log);
  }

  /** Lists every BeelineIdentity and follows changes; resolves once the cache holds the first list. */
  async start(): Promise<void> {
    const inf = this.store.informer(IDENTITY_KIND);
    inf.on('add', (o) => this.apply(o));
    inf.on('update', (o) => this.apply(o));
    inf.on('delete', (o) => this.remove(o.metadata.name));
    inf.on('error', (e) => this.log?.warn('identity watch error', { error: e.message }));
    this.informer = inf;
    await inf.start();
    await inf.waitForSync();
  }

  /** Stops following. Nothing of this node's is in the store to revoke: its references are its BeelineEndpoints (CrdIpcache). */
  async stop(_opts: { revoke?: boolean } = {}): Promise<void> {
    this.stopped = true;
    const inf = this.informer;
    this.informer = undefined;
    await inf?.stop();
    this.held.clear();
  }

  private apply(o: StoreObject): void {
    let identity: Identity;
    try {
      identity = parseBeelineIdentity(o);
    } catch (e) {
      this.log?.warn('ignoring malformed identity', { name: o.metadata?.name, error: (e as Error).message });
      // An identity that turned malformed is gone as far as this node can tell.
      const id = Number(o.metadata?.name);
      if (this.cache.has(id)) this.remove(String(id));
      else if (Number.isInteger(id)) this.claimed.set(id, undefined); // its number is still taken
      return;
    }
    const { id } = identity;
    const k = labelSetKey(identity.labels);
    const had = this.cache.get(id);
    this.claimed.delete(id);
    if (had) {
      const hk = labelSetKey(had.labels);
      if (hk === k) return;
      this.unindex(hk, id);
    }
    this.cache.set(id, identity);
    let ids = this.byKey.get(k);
    if (!ids) this.byKey.set(k, (ids = new Set()));
    ids.add(id);
    this.listeners.emit({ type: 'upsert', identity });
  }

  private remove(name: string): void {
    const id = Number(name);
    this.claimed.delete(id);
    if (id >= this.minId && id < this.lowestFree) this.lowestFree = id;
    const had = this.cache.get(id);
    if (!had) return;
    this.cache.delete(id);
    const k = labelSetKey(had.labels);
    this.unindex(k, id);
    this.listeners.emit({ type: 'delete', identity: had });
    const h = this.held.get(k);
    if (h && h.id === id && !this.stopped) void this.recreate(k);
  }

  private unindex(key: string, id: number): void {
    const ids = this.byKey.get(key);
    ids?.delete(id);
    if (ids?.size === 0) this.byKey.delete(key);
  }

  /** The lowest number known to carry this label key (in the cache, or met while allocating). */
  private known(key: string): number | undefined {
    let best: number | undefined;
    for (const id of this.byKey.get(key) ?? []) if (best === undefined || id < best) best = id;
    for (const [id, k] of this.claimed) if (k === key && (best === undefined || id < best)) best = id;
    return best;
  }

  onChange(listener: (e: IdentityEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  lookup(id: number): Identity | undefined {
    return reservedIdentity(id) ?? this.cache.get(id);
  }

  /** The identity of exactly this label set, if one exists (the lowest number when there are several). */
  lookupByLabels(labels: Iterable<Label | string>): Identity | undefined {
    const set = canonicalLabels(labels);
    const r = reservedIdentityByLabels(set);
    if (r) return r;
    const ids = this.byKey.get(labelSetKey(set));
    return ids && ids.size > 0 ? this.cache.get(Math.min(...ids)) : undefined;
  }

  list(): Identity[] {
    return [...RESERVED_IDENTITIES, ...[...this.cache.values()].sort((a, b) => a.id - b.id)];
  }

  references(): Map<number, number> {
    return new Map([...this.held.values()].map((h) => [h.id, h.count]));
  }

  async acquire(labels: Iterable<Label | string>): Promise<Identity> {
    const set = canonicalLabels(labels);
    if (set.length === 0) throw new IdentityInvalidError('acquire identity: empty label set', 'an endpoint without labels has reserved:init (5) until it gets some');
    const r = reservedIdentityByLabels(set);
    if (r) return r;
    const key = labelSetKey(set);
    return this.locks.run(key, async () => {
      const h = this.held.get(key);
      if (h) {
        h.count++;
        return { id: h.id, labels: h.labels };
      }
      const id = this.known(key) ?? (await this.locks.run(CREATE_LOCK, () => this.allocate(set, key)));
      this.held.set(key, { id, labels: set, count: 1 });
      return { id, labels: set };
    });
  }

  /** Drops one reference (local: the store's reference is the endpoint's BeelineEndpoint); true when this node holds none any more. */
  async release(labels: Iterable<Label | string>): Promise<boolean> {
    const key = labelSetKey(canonicalLabels(labels));
    return this.locks.run(key, async () => {
      const h = this.held.get(key);
      if (!h) return false;
      if (--h.count > 0) return false;
      this.held.delete(key);
      return true;
    });
  }

  /** The number of a label set: one the cache or a 409 shows carrying it, else a newly created one. */
  private async allocate(set: LabelSet, key: string): Promise<number> {
    if (this.stopped) throw new IdentityStoreError(`identity allocator of ${this.node}: stopped`);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const known = this.known(key);
      if (known !== undefined) return known;
      const id = this.freeId(key);
      try {
        await this.store.create(beelineIdentity(id, set));
        this.stats.allocated++;
        this.claimed.set(id, key);
        return id;
      } catch (e) {
        if (!(e instanceof StoreAlreadyExistsError)) throw storeError(`acquire identity ${key}: create BeelineIdentity ${id}`, e);
      }
      this.stats.lostRaces++;
      const cur = await this.store.get(IDENTITY_KIND, undefined, String(id)).catch((e: unknown) => {
        throw storeError(`acquire identity ${key}: read BeelineIdentity ${id}`, e);
      });
      if (!cur) continue; // deleted meanwhile: the number may be free again
      let theirs: Identity | undefined;
      try {
        theirs = parseBeelineIdentity(cur);
      } catch {
        theirs = undefined; // malformed: a taken number all the same
      }
      const theirKey = theirs && labelSetKey(theirs.labels);
      if (theirKey === key) return id; // another node won the race for this set
      if (!this.cache.has(id)) this.claimed.set(id, theirKey);
    }
    throw new IdentityStoreError(`acquire identity ${key}: no create succeeded in ${this.maxAttempts} attempts`, { hint: 'the API server is under heavy contention; retry' });
  }

  /** The lowest number of the range not taken as far as this allocator knows. */
  private freeId(key: string): number {
    while (this.lowestFree <= this.maxId && (this.cache.has(this.lowestFree) || this.claimed.has(this.lowestFree))) this.lowestFree++;
    if (this.lowestFree <= this.maxId) return this.lowestFree;
    const size = this.maxId - this.minId + 1;
    throw new IdentityExhaustedError(`acquire identity ${key}: all ${size} identities ${this.minId}-${this.maxId} are allocated`);
  }

  /** An identity this node still uses was deleted: create it again under its number. */
  private async recreate(key: string): Promise<void> {
    await this.locks.run(key, async () => {
      const h = this.held.get(key);
      if (!h || this.stopped || this.cache.has(h.id)) return;
      try {
        await this.store.create(beelineIdentity(h.id, h.labels));
        this.log?.info('identity in use was deleted; created again', { id: h.id });
      } catch (e) {
        if (e instanceof StoreAlreadyExistsError) return; // recreated by another node (or its number reused: the informer tells)
        this.log?.warn('recreate identity in use', { id: h.id, error: (e as Error).message });
      }
    });
  }
}

function storeError(what: string, e: unknown): Error {
  if (e instanceof IdentityStoreError) return e;
  return new IdentityStoreError(`${what}: ${(e as Error).message}`, { cause: e });
}

// ---------------------------------------------------------------------------
// Identity garbage collection (the operator's side)

/**
 * Deletes BeelineIdentities that no BeelineEndpoint has named for the grace
 * period (Cilium's operator identity GC in CRD mode). Both kinds are read from
 * informers; between passes it remembers since when each identity has been
 * unreferenced and at which resourceVersion. The delete carries that
 * resourceVersion: an identity deleted and created again meanwhile (its number
 * reused) is not touched. A reference taken after the pass read the endpoints
 * is covered by the grace period, and by the allocator creating again an
 * identity it holds that was deleted.
 */
export class CrdIdentityGarbageCollector {
  private readonly clock = new UnreferencedClock();
  private readonly periodic: PeriodicPass<GcResult>;
  private identities: Informer | undefined;
  private endpoints: Informer | undefined;
  private readonly malformed = new Set<string>();
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly opts: GcOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.periodic = new PeriodicPass(() => this.pass(), opts.log, 'identity GC');
  }

  private async ready(): Promise<{ identities: Informer; endpoints: Informer }> {
    if (!this.identities || !this.endpoints) {
      this.identities = this.store.informer(IDENTITY_KIND);
      this.endpoints = this.store.informer(ENDPOINT_KIND);
      for (const inf of [this.identities, this.endpoints]) inf.on('error', (e) => this.opts.log?.warn('identity GC watch error', { error: e.message }));
      await Promise.all([this.identities.start(), this.endpoints.start()]);
    }
    await Promise.all([this.identities.waitForSync(), this.endpoints.waitForSync()]);
    return { identities: this.identities, endpoints: this.endpoints };
  }

  /** One pass (concurrent calls share it). */
  run(): Promise<GcResult> {
    return this.periodic.run();
  }

  private async pass(): Promise<GcResult> {
    const { identities, endpoints } = await this.ready();
    // Identities first, references second: an endpoint written in between counts.
    const ids = identities.list();
    const referenced = new Set<number>();
    for (const ep of endpoints.list()) {
      const n = (ep.spec as { identity?: unknown } | undefined)?.identity;
      if (typeof n === 'number') referenced.add(n);
    }
    const now = this.now();
    const seen = new Set<number>();
    const result: GcResult = { deleted: [], pending: [] };
    for (const o of ids) {
      const name = o.metadata.name;
      let id: number;
      try {
        id = parseBeelineIdentity(o).id;
      } catch (e) {
        // Not ours to judge (nor to delete): log it once.
        if (!this.malformed.has(o.metadata.uid)) this.opts.log?.warn('identity GC: ignoring malformed identity', { name, error: (e as Error).message });
        this.malformed.add(o.metadata.uid);
        continue;
      }
      seen.add(id);
      if (referenced.has(id)) {
        this.clock.referenced(id);
        continue;
      }
      const rv = o.metadata.resourceVersion;
      if (!this.clock.expired(id, rv, now, this.opts.graceMs)) {
        result.pending.push(id);
        continue;
      }
      this.clock.referenced(id);
      try {
        await this.store.delete(IDENTITY_KIND, undefined, name, { resourceVersion: rv });
        result.deleted.push(id);
        this.opts.log?.info('identity garbage-collected', { id });
      } catch (e) {
        // Changed (its number reused) or already gone: the next pass sees it as it is now.
        if (!(e instanceof StoreConflictError || e instanceof StoreNotFoundError)) throw e;
      }
    }
    this.clock.keepOnly(seen);
    return result;
  }

  /** Runs a pass every `intervalMs` until stop(). */
  start(intervalMs: number): void {
    this.periodic.start(intervalMs);
  }

  async stop(): Promise<void> {
    await this.periodic.stop();
    const infs = [this.identities, this.endpoints];
    this.identities = this.endpoints = undefined;
    await Promise.all(infs.map((i) => i?.stop()));
  }
}

// ---------------------------------------------------------------------------
// The ipcache

/** A pod, as the name of its BeelineEndpoint. */
interface PodRef {
  namespace: string;
  name: string;
}

/** Writes tried per upsert or delete when another writer keeps changing the object. */
const WRITE_ATTEMPTS = 5;

/**
 * One agent's side of the ipcache in Kubernetes mode: a BeelineEndpoint per
 * pod it publishes (created, or updated at the resourceVersion read), and
 * every node's entries from an informer over all BeelineEndpoints
 * (prefix = spec.ipv4, owner = spec.node).
 *
 * Several BeelineEndpoints may name one address for a while (a pod gone whose
 * object is not deleted yet, and a new pod with its address): the one written
 * last, as this node saw the events, is the address's entry, and when it goes
 * the other one is again.
 *
 * A BeelineEndpoint is deleted only while it is still this node's (spec.node)
 * and still has the address asked for, and with the resourceVersion that check
 * read: a pod that moved to another node, or an address another pod now has,
 * is not taken from its new owner.
 */
export class CrdIpcache implements IpcacheSource {
  private readonly listeners: Listeners<IpcacheEvent>;
  /** Each object's entry and when it was seen (a sequence number). */
  private readonly byObject = new Map<string, { entry: IpcacheEntry; seq: number }>();
  private readonly byPrefix = new Map<string, Set<string>>();
  /** The entry each prefix shows. */
  private readonly current = new Map<string, IpcacheEntry>();
  private seq = 0;
  /** What this node wrote: prefix → pod. */
  private readonly own = new Map<string, PodRef>();
  private readonly locks = new KeyedSerial();
  private informer: Informer | undefined;

  constructor(
    private readonly store: Store,
    private readonly opts: { node: string; log?: Logger },
  ) {
    checkNode(opts.node, 'ipcache');
    this.listeners = new Listeners('ipcache', opts.log);
  }

  /** Lists every BeelineEndpoint and follows changes; resolves once the first list is in. */
  async start(): Promise<void> {
    const inf = this.store.informer(ENDPOINT_KIND);
    inf.on('add', (o) => this.apply(o));
    inf.on('update', (o) => this.apply(o));
    inf.on('delete', (o) => this.put(objectKey(o), undefined));
    inf.on('error', (e) => this.opts.log?.warn('ipcache watch error', { error: e.message }));
    this.informer = inf;
    await inf.start();
    await inf.waitForSync();
  }

  /**
   * Stops following; deletes the entries this node wrote (as kvstore mode's
   * lease revoke does), unless `revoke: false` (an agent restarting: its pods
   * keep running and keep their entries).
   */
  async stop(opts: { revoke?: boolean } = {}): Promise<void> {
    if (opts.revoke !== false) {
      for (const prefix of [...this.own.keys()]) {
        await this.delete(prefix).catch((e: unknown) => this.opts.log?.warn('delete ipcache entry at stop', { prefix, error: (e as Error).message }));
      }
    }
    const inf = this.informer;
    this.informer = undefined;
    await inf?.stop();
    this.own.clear();
  }

  private apply(o: StoreObject): void {
    let entry: IpcacheEntry;
    try {
      entry = parseBeelineEndpoint(o);
    } catch (e) {
      this.opts.log?.warn('ignoring malformed ipcache entry', { endpoint: objectKey(o), error: (e as Error).message });
      this.put(objectKey(o), undefined);
      return;
    }
    this.put(objectKey(o), entry);
  }

  private put(key: string, entry: IpcacheEntry | undefined): void {
    const old = this.byObject.get(key);
    if (old) this.byPrefix.get(old.entry.prefix)?.delete(key);
    if (entry) {
      this.byObject.set(key, { entry, seq: ++this.seq });
      let keys = this.byPrefix.get(entry.prefix);
      if (!keys) this.byPrefix.set(entry.prefix, (keys = new Set()));
      keys.add(key);
    } else this.byObject.delete(key);
    for (const prefix of new Set([old?.entry.prefix, entry?.prefix])) if (prefix !== undefined) this.refresh(prefix);
  }

  /** Recomputes which object's entry a prefix shows; emits the change. */
  private refresh(prefix: string): void {
    let best: { entry: IpcacheEntry; seq: number } | undefined;
    for (const k of this.byPrefix.get(prefix) ?? []) {
      const c = this.byObject.get(k);
      if (c && (!best || c.seq > best.seq)) best = c;
    }
    const had = this.current.get(prefix);
    if (!best) {
      this.byPrefix.delete(prefix);
      if (!had) return;
      this.current.delete(prefix);
      this.listeners.emit({ type: 'delete', entry: had });
      return;
    }
    const e = best.entry;
    if (had && had.identity === e.identity && had.hostIP === e.hostIP && had.owner === e.owner && had.authRequired === e.authRequired) return;
    this.current.set(prefix, e);
    this.listeners.emit({ type: 'upsert', entry: e });
  }

  onChange(listener: (e: IpcacheEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  entries(): IpcacheEntry[] {
    return [...this.current.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  }

  /** Creates or updates the pod's BeelineEndpoint. The pod is required: it names the object. */
  async upsert(entry: IpcacheUpsert): Promise<void> {
    const pod = entry.pod;
    if (!pod || typeof pod.namespace !== 'string' || typeof pod.name !== 'string' || !pod.namespace || !pod.name) {
      throw new IpcacheInvalidError(
        `ipcache entry ${entry.prefix}: no pod given`,
        'Kubernetes mode publishes one BeelineEndpoint per pod, named after it: pass pod {namespace, name}',
      );
    }
    const e = validateEntry({ prefix: entry.prefix, identity: entry.identity, hostIP: entry.hostIP, encryptKey: 0, owner: this.opts.node });
    if (e.prefix.includes('/')) throw new IpcacheInvalidError(`ipcache entry ${e.prefix}: a BeelineEndpoint holds one address, not a prefix`);
    if (e.hostIP === '') throw new IpcacheInvalidError(`ipcache entry ${e.prefix}: hostIP is required (the node's address)`);
    if (entry.endpointID !== undefined && (!Number.isInteger(entry.endpointID) || entry.endpointID < 1 || entry.endpointID > 4095)) {
      throw new IpcacheInvalidError(`ipcache entry ${e.prefix}: endpointID ${entry.endpointID} is not 1-4095`);
    }
    const spec: BeelineEndpointSpec = { identity: e.identity, ipv4: e.prefix, node: this.opts.node, hostIP: e.hostIP };
    if (entry.endpointID !== undefined) spec.endpointID = entry.endpointID;
    if (entry.authRequired) spec.authRequired = true;
    const key = `${pod.namespace}/${pod.name}`;
    await this.locks.run(key, () => this.write(pod, spec));
    // One address per pod: a pod's older address is no longer this node's to delete through the pod's object.
    for (const [p, ref] of this.own) if (ref.namespace === pod.namespace && ref.name === pod.name && p !== e.prefix) this.own.delete(p);
    this.own.set(e.prefix, { namespace: pod.namespace, name: pod.name });
  }

  private async write(pod: PodRef, spec: BeelineEndpointSpec): Promise<void> {
    const obj: ObjectInput = { apiVersion: BEELINE_API_VERSION, kind: ENDPOINT_KIND, metadata: { name: pod.name, namespace: pod.namespace }, spec };
    let last: unknown;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const cur = attempt === 0 ? undefined : await this.store.get(ENDPOINT_KIND, pod.namespace, pod.name);
      try {
        if (!cur) {
          await this.store.create(obj);
          return;
        }
        if (sameSpec(cur.spec, spec)) return;
        // The object as read, with the new spec: labels, owner references and the version it was read at stay.
        await this.store.update({ ...cur, spec });
        return;
      } catch (e) {
        if (!(e instanceof StoreAlreadyExistsError || e instanceof StoreConflictError)) throw e;
        last = e; // created or changed by another writer since: read it again
      }
    }
    throw last;
  }

  /**
   * Deletes the BeelineEndpoint of an address this node published (after a
   * restart: one the informer shows this node's). False when there is none,
   * or it is no longer this node's or no longer has the address.
   */
  async delete(prefix: string): Promise<boolean> {
    const p = canonicalPrefix(prefix);
    const ref = this.own.get(p) ?? this.ownedInCache(p);
    if (!ref) return false;
    return this.locks.run(`${ref.namespace}/${ref.name}`, async () => {
      for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        const cur = await this.store.get(ENDPOINT_KIND, ref.namespace, ref.name);
        const s = cur?.spec as Partial<BeelineEndpointSpec> | undefined;
        if (!cur || s?.node !== this.opts.node || s?.ipv4 !== p) {
          if (cur) this.opts.log?.info('ipcache entry is no longer this node\'s; not deleting it', { prefix: p, endpoint: `${ref.namespace}/${ref.name}`, node: s?.node });
          if (this.own.get(p) === ref) this.own.delete(p);
          return false;
        }
        try {
          await this.store.delete(ENDPOINT_KIND, ref.namespace, ref.name, { resourceVersion: cur.metadata.resourceVersion });
          if (this.own.get(p) === ref) this.own.delete(p);
          return true;
        } catch (e) {
          if (e instanceof StoreNotFoundError) return false;
          if (!(e instanceof StoreConflictError)) throw e;
        }
      }
      return false;
    });
  }

  /** The pod of a BeelineEndpoint the informer shows this node's with this address. */
  private ownedInCache(prefix: string): PodRef | undefined {
    for (const k of this.byPrefix.get(prefix) ?? []) {
      if (this.byObject.get(k)?.entry.owner !== this.opts.node) continue;
      const [namespace, name] = k.split('/') as [string, string];
      return { namespace, name };
    }
    return undefined;
  }
}

function sameSpec(a: unknown, b: BeelineEndpointSpec): boolean {
  const s = a as Partial<BeelineEndpointSpec> | undefined;
  return !!s && s.identity === b.identity && s.ipv4 === b.ipv4 && s.node === b.node && s.hostIP === b.hostIP && s.endpointID === b.endpointID && (s.authRequired === true) === (b.authRequired === true);
}
