/**
 * kvstore mode: the cluster store over etcd (the lab's default).
 *
 * Each object is one key, `/beeline/v1/resources/<group>/<kind>/<namespace>/<name>`
 * (store.ts: resourceKey), whose value is the object as JSON without its
 * resourceVersion: the resourceVersion *is* the key's etcd mod_revision, and a
 * list's resourceVersion the store revision it was read at, so a watch from it
 * (start_revision = rv + 1) gets exactly the later changes. Writes are etcd
 * transactions guarded by the key's mod_revision (optimistic concurrency).
 *
 * applyBatch (`apply -f`, one file) is ONE transaction over every key, however
 * many: one compare (mod_revision as read, or create_revision 0) and one put
 * per object, so the file lands at one revision and no reader (a list at any
 * revision, a watch) can see part of it. etcd bounds a transaction by
 * `--max-txn-ops` (operations) and `--max-request-bytes`; the lab raises both
 * (src/lab/etcd.ts), and an etcd that refuses the batch refuses it whole
 * (StoreTxnLimitError, nothing written). Watches ask etcd to fragment large
 * revisions and put the fragments back together before delivering any event
 * of them. Why not staging or chunked transactions: docs/store.md, "Big files".
 */
import { randomUUID } from 'node:crypto';
import { CompareResult, CompareTarget, Etcd3, type ICompare, type IKeyValue, type IRequestOp, type Lease } from 'etcd3';
import { etcdClient, isMessageTooLarge } from '../common/etcd.js';
import { PrefixWatch, listPrefix, type Backoff } from './kv.js';
import {
  BeelineError,
  StoreAlreadyExistsError,
  StoreConflictError,
  StoreInvalidError,
  StoreNotFoundError,
  StoreTxnLimitError,
  StoreUnavailableError,
} from '../common/errors.js';
import {
  EventQueue,
  StoreInformer,
  checkIdentity,
  kindInfo,
  matchesSelector,
  parseLabelSelector,
  parseResourceKey,
  resourceKey,
  resourcePrefix,
  type DeleteOptions,
  type Informer,
  type ListOptions,
  type ListResult,
  type ObjectInput,
  type ObjectRef,
  type Store,
  type StoreLease,
  type StoreObject,
  type StoreWatch,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from './store.js';

export interface EtcdStoreOptions {
  /** `unix:///path/etcd.sock:2379` (the lab's), or any etcd3 host string. */
  endpoint: string;
  dialTimeoutMs?: number;
  /** Back-off of a watch that lost its connection: first and largest delay. */
  watchBackoff?: { initialMs: number; maxMs: number };
}

/** Opens the store over etcd. The client connects lazily; nothing is read here. */
export function openEtcdStore(options: EtcdStoreOptions): EtcdStore {
  return new EtcdStore(etcdClient(options.endpoint, options.dialTimeoutMs ?? 2000), options);
}

/** Decodes a stored key-value into an object, its resourceVersion being the key's mod_revision. */
export function decodeObject(kv: IKeyValue): StoreObject {
  const obj = JSON.parse(kv.value.toString()) as StoreObject;
  obj.metadata.resourceVersion = String(kv.mod_revision);
  return obj;
}

/** The stored form: no resourceVersion (it is the key's mod_revision). */
export function encodeObject(obj: StoreObject): string {
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  return JSON.stringify({ ...obj, metadata });
}

/** Normalises input metadata; cluster-scoped objects have no namespace. */
function inputMeta(obj: ObjectInput): { namespace: string | undefined; name: string } {
  const ns = obj.metadata.namespace === '' ? undefined : obj.metadata.namespace;
  return { namespace: kindInfo(obj.kind).namespaced ? ns : undefined, name: obj.metadata.name };
}

function describe(obj: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
}

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** A new object (create) or the next version of `current` (update/apply). */
function nextObject(input: ObjectInput, current: StoreObject | undefined, part: 'all' | 'status'): StoreObject {
  if (!current) {
    const { resourceVersion: _rv, ...meta } = input.metadata;
    const obj: StoreObject = {
      ...input,
      metadata: {
        ...meta,
        uid: randomUUID(),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        generation: 1,
        resourceVersion: '',
      },
    };
    if (obj.metadata.namespace === '' || !kindInfo(obj.kind).namespaced) delete obj.metadata.namespace;
    return obj;
  }
  if (part === 'status') return { ...current, status: input.status };
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, generation: _g, ...meta } = input.metadata;
  const next: StoreObject = {
    ...input,
    status: current.status,
    metadata: {
      ...meta,
      namespace: current.metadata.namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      generation: (current.metadata.generation ?? 1) + (sameJSON(input.spec, current.spec) ? 0 : 1),
      resourceVersion: '',
    },
  };
  if (next.metadata.namespace === undefined) delete next.metadata.namespace;
  if (next.status === undefined) delete next.status;
  // A deletion once begun is not undone by an update (as the API server keeps it).
  if (current.metadata.deletionTimestamp) {
    next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
    next.metadata.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
  }
  return next;
}

function unavailable(op: string, e: unknown): BeelineError {
  if (e instanceof BeelineError) return e;
  return new StoreUnavailableError(`store: ${op}: ${(e as Error)?.message ?? String(e)}`, { hint: 'is etcd running and its socket reachable?', cause: e });
}

/** How many times a write retries when it raced another writer and the caller did not pin a version. */
const WRITE_ATTEMPTS = 8;

/**
 * Keys per batched read (one transaction of range requests). 128 is etcd's
 * default `--max-txn-ops`, so batched reads work against any etcd.
 */
const READ_CHUNK = 128;
/** Batched reads in flight at once. */
const READ_PARALLEL = 8;

/** What one applyBatch transaction holds: objects (= compares = puts) and its approximate size on the wire. */
export interface TxnSize {
  objects: number;
  bytes: number;
}

/** A transaction's approximate encoded size: per object the key twice (compare, put), the value, and protobuf framing. */
export function txnSize(entries: { key: string; value: string }[]): TxnSize {
  let bytes = 0;
  for (const e of entries) bytes += 2 * Buffer.byteLength(e.key) + Buffer.byteLength(e.value) + 24;
  return { objects: entries.length, bytes };
}

/** etcd's own default `--max-request-bytes` (1.5 MiB). */
const ETCD_DEFAULT_MAX_REQUEST_BYTES = 1572864;

const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

/**
 * etcd's refusal of a transaction for its size, as StoreTxnLimitError naming
 * the flag and what the batch would need; undefined for any other error. etcd
 * checks both limits before applying anything, so nothing was written.
 */
export function txnLimitError(e: unknown, size: TxnSize): StoreTxnLimitError | undefined {
  const msg = String((e as Error)?.message ?? e);
  const what = `${size.objects} objects, about ${mib(size.bytes)}`;
  // Leave room for framing and for objects a little larger next time; never below etcd's default.
  const needBytes = Math.max(ETCD_DEFAULT_MAX_REQUEST_BYTES, Math.ceil((size.bytes * 1.25) / (1024 * 1024)) * 1024 * 1024);
  const hint = `a file is applied as one etcd transaction: give etcd --max-txn-ops >= ${size.objects} and --max-request-bytes >= ${needBytes}, or split the file (docs/store.md, "Big files")`;
  if (/too many operations in txn request/i.test(msg)) {
    return new StoreTxnLimitError(`apply: etcd refused the batch (${what}) as one transaction: more operations than its --max-txn-ops; nothing was applied`, hint);
  }
  if (isMessageTooLarge(e)) {
    return new StoreTxnLimitError(`apply: etcd refused the batch (${what}) as one transaction: larger than its --max-request-bytes; nothing was applied`, hint);
  }
  return undefined;
}

export class EtcdStore implements Store {
  readonly mode = 'kvstore' as const;
  private readonly watches = new Set<EtcdWatch>();

  constructor(
    /** The etcd client; the store closes it. */
    readonly client: Etcd3,
    private readonly options: Partial<EtcdStoreOptions> = {},
  ) {}

  private async read(key: string): Promise<{ obj: StoreObject; mod: string } | undefined> {
    const res = await this.client.get(key).exec();
    const kv = res.kvs[0];
    return kv ? { obj: decodeObject(kv), mod: String(kv.mod_revision) } : undefined;
  }

  /**
   * Reads many keys in transactions of READ_CHUNK range requests, all at the
   * revision the first one was served at (one snapshot); answers in key order.
   */
  private async readMany(keys: string[]): Promise<({ obj: StoreObject; mod: string } | undefined)[]> {
    const out: ({ obj: StoreObject; mod: string } | undefined)[] = new Array(keys.length);
    let revision: string | undefined;
    const chunk = async (from: number): Promise<void> => {
      const part = keys.slice(from, from + READ_CHUNK);
      const success: IRequestOp[] = part.map((k) => ({ request_range: { key: Buffer.from(k), ...(revision ? { revision } : {}) } }));
      const res = await this.client.kv.txn({ compare: [], success, failure: [] });
      revision ??= String(res.header.revision);
      res.responses.forEach((r, j) => {
        const kv = r.response_range?.kvs[0];
        out[from + j] = kv ? { obj: decodeObject(kv), mod: String(kv.mod_revision) } : undefined;
      });
    };
    if (keys.length === 0) return out;
    await chunk(0);
    let next = READ_CHUNK;
    const worker = async (): Promise<void> => {
      while (next < keys.length) {
        const from = next;
        next += READ_CHUNK;
        await chunk(from);
      }
    };
    await Promise.all(Array.from({ length: READ_PARALLEL }, worker));
    return out;
  }

  async getMany(refs: ObjectRef[]): Promise<(StoreObject | undefined)[]> {
    const keys = refs.map((r) => resourceKey(r.kind, kindInfo(r.kind).namespaced ? r.namespace : undefined, r.name));
    try {
      return (await this.readMany(keys)).map((c) => c?.obj);
    } catch (e) {
      throw unavailable(`get ${refs.length} objects`, e);
    }
  }

  async get(kind: string, namespace: string | undefined, name: string): Promise<StoreObject | undefined> {
    const key = resourceKey(kind, kindInfo(kind).namespaced ? namespace : undefined, name);
    try {
      return (await this.read(key))?.obj;
    } catch (e) {
      throw unavailable(`get ${kind} ${name}`, e);
    }
  }

  async list(kind: string, options: ListOptions = {}): Promise<ListResult> {
    const reqs = parseLabelSelector(options.labelSelector);
    const prefix = resourcePrefix(kind, options.namespace);
    try {
      // In pages, at one revision (store/kv.ts): a single response over gRPC's 4 MiB
      // message limit would fail at a few thousand Services.
      const { kvs, revision } = await listPrefix(this.client, prefix);
      const items: StoreObject[] = [];
      for (const kv of kvs) {
        const o = decodeObject(kv);
        if (matchesSelector(reqs, o.metadata.labels)) items.push(o);
      }
      return { items, resourceVersion: String(revision) };
    } catch (e) {
      throw unavailable(`list ${kind}`, e);
    }
  }

  async create(input: ObjectInput, options: WriteOptions = {}): Promise<StoreObject> {
    checkIdentity(input);
    const { namespace, name } = inputMeta(input);
    const key = resourceKey(input.kind, namespace, name);
    const obj = nextObject(input, undefined, 'all');
    try {
      if (options.dryRun) {
        if (await this.read(key)) throw new StoreAlreadyExistsError(`store: create ${describe(input)}: already exists`);
        return obj;
      }
      let put = this.client.put(key).value(encodeObject(obj));
      if (options.lease) put = put.lease(options.lease.id);
      const res = await this.client.if(key, 'Create', '==', 0).then(put).commit();
      if (!res.succeeded) throw new StoreAlreadyExistsError(`store: create ${describe(input)}: already exists`);
      obj.metadata.resourceVersion = String(res.header.revision);
      return obj;
    } catch (e) {
      throw unavailable(`create ${describe(input)}`, e);
    }
  }

  async update(input: ObjectInput, options: WriteOptions = {}): Promise<StoreObject> {
    return this.write('update', input, 'all', options);
  }

  async updateStatus(input: ObjectInput): Promise<StoreObject> {
    return this.write('update status of', input, 'status', {});
  }

  private async write(op: string, input: ObjectInput, part: 'all' | 'status', options: WriteOptions): Promise<StoreObject> {
    checkIdentity(input);
    const { namespace, name } = inputMeta(input);
    const key = resourceKey(input.kind, namespace, name);
    const pinned = input.metadata.resourceVersion;
    try {
      for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        const cur = await this.read(key);
        if (!cur) throw new StoreNotFoundError(`store: ${op} ${describe(input)}: not found`);
        if (pinned && pinned !== cur.mod) {
          throw new StoreConflictError(`store: ${op} ${describe(input)}: resourceVersion ${pinned} is stale (now ${cur.mod})`);
        }
        const next = nextObject(input, cur.obj, part);
        if (options.dryRun) {
          next.metadata.resourceVersion = cur.mod;
          return next;
        }
        let put = this.client.put(key).value(encodeObject(next));
        if (options.lease) put = put.lease(options.lease.id);
        const res = await this.client.if(key, 'Mod', '==', cur.mod).then(put).commit();
        if (res.succeeded) {
          next.metadata.resourceVersion = String(res.header.revision);
          return next;
        }
      }
      throw new StoreConflictError(`store: ${op} ${describe(input)}: kept racing other writers`);
    } catch (e) {
      throw unavailable(`${op} ${describe(input)}`, e);
    }
  }

  async delete(kind: string, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<StoreObject | undefined> {
    const key = resourceKey(kind, kindInfo(kind).namespaced ? namespace : undefined, name);
    const what = `${kind} ${namespace ? `${namespace}/` : ''}${name}`;
    try {
      for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        const cur = await this.read(key);
        if (!cur) {
          if (options.ignoreNotFound) return undefined;
          throw new StoreNotFoundError(`store: delete ${what}: not found`);
        }
        if (options.resourceVersion && options.resourceVersion !== cur.mod) {
          throw new StoreConflictError(`store: delete ${what}: resourceVersion ${options.resourceVersion} is stale (now ${cur.mod})`);
        }
        const res = await this.client.if(key, 'Mod', '==', cur.mod).then(this.client.delete().key(key)).commit();
        if (res.succeeded) {
          cur.obj.metadata.resourceVersion = String(res.header.revision);
          return cur.obj;
        }
      }
      throw new StoreConflictError(`store: delete ${what}: kept racing other writers`);
    } catch (e) {
      throw unavailable(`delete ${what}`, e);
    }
  }

  async applyBatch(inputs: ObjectInput[]): Promise<StoreObject[]> {
    if (inputs.length === 0) return [];
    const keys = inputs.map((o, i) => {
      try {
        checkIdentity(o);
      } catch (e) {
        if (e instanceof StoreInvalidError) throw new StoreInvalidError(`apply: object ${i + 1} of ${inputs.length}: ${e.message}`, e.hint);
        throw e;
      }
      const { namespace, name } = inputMeta(o);
      return resourceKey(o.kind, namespace, name);
    });
    const seen = new Map<string, number>();
    keys.forEach((k, i) => {
      if (seen.has(k)) throw new StoreInvalidError(`apply: ${describe(inputs[i]!)} appears twice (objects ${seen.get(k)! + 1} and ${i + 1})`);
      seen.set(k, i);
    });
    try {
      for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        // Read every current version (one snapshot), then write them all in one transaction guarded by those versions.
        const current = await this.readMany(keys);
        const next: StoreObject[] = [];
        const compare: ICompare[] = [];
        const puts: { key: string; value: string }[] = [];
        for (const [i, input] of inputs.entries()) {
          const cur = current[i];
          const pinned = input.metadata.resourceVersion;
          if (pinned && pinned !== cur?.mod) {
            throw new StoreConflictError(
              `apply: ${describe(input)}: resourceVersion ${pinned} is stale (${cur ? `now ${cur.mod}` : 'the object does not exist'}); nothing was applied`,
            );
          }
          const obj = nextObject(input, cur?.obj, 'all');
          next.push(obj);
          const key = Buffer.from(keys[i]!);
          compare.push(
            cur
              ? { key, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: cur.mod }
              : { key, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 },
          );
          puts.push({ key: keys[i]!, value: encodeObject(obj) });
        }
        const success: IRequestOp[] = puts.map((p) => ({ request_put: { key: Buffer.from(p.key), value: Buffer.from(p.value) } }));
        let res;
        try {
          res = await this.client.kv.txn({ compare, success, failure: [] });
        } catch (e) {
          throw txnLimitError(e, txnSize(puts)) ?? e;
        }
        if (res.succeeded) {
          for (const o of next) o.metadata.resourceVersion = String(res.header.revision);
          return next;
        }
      }
      throw new StoreConflictError('apply: kept racing other writers; nothing was applied');
    } catch (e) {
      throw unavailable('apply', e);
    }
  }

  watch(kind: string, options: WatchOptions = {}): StoreWatch {
    const w = new EtcdWatch(this.client, kind, options, this.options.watchBackoff ?? { initialMs: 100, maxMs: 5000 }, () => this.watches.delete(w));
    this.watches.add(w);
    return w;
  }

  informer(kind: string, options: ListOptions = {}): Informer {
    return new StoreInformer(this, kind, options);
  }

  /**
   * A lease of `ttlSeconds`, kept alive until revoked or the store closes
   * (`keepAlive: false` lets it run out; for tests and one-shot claims).
   */
  async lease(ttlSeconds: number, options: { keepAlive?: boolean } = {}): Promise<StoreLease> {
    const lease = this.client.lease(ttlSeconds, { autoKeepAlive: options.keepAlive ?? true });
    const lost: ((err: Error) => void)[] = [];
    let lostErr: Error | undefined;
    lease.on('lost', (err: Error) => {
      lostErr = err;
      lost.splice(0).forEach((cb) => cb(err));
    });
    let id: string;
    try {
      id = await lease.grant();
    } catch (e) {
      throw unavailable(`grant lease of ${ttlSeconds}s`, e);
    }
    return new EtcdLease(lease, id, ttlSeconds, (cb) => (lostErr ? cb(lostErr) : lost.push(cb)));
  }

  async close(): Promise<void> {
    for (const w of [...this.watches]) w.close();
    this.client.close();
  }
}

class EtcdLease implements StoreLease {
  constructor(
    private readonly lease: Lease,
    readonly id: string,
    readonly ttlSeconds: number,
    private readonly addLost: (cb: (err: Error) => void) => void,
  ) {}
  onLost(cb: (err: Error) => void): void {
    this.addLost(cb);
  }
  async revoke(): Promise<void> {
    try {
      await this.lease.revoke();
    } catch (e) {
      throw unavailable(`revoke lease ${this.id}`, e);
    }
  }
}

/**
 * One watch over a kind's prefix: PrefixWatch (store/kv.ts: resumes after a
 * lost connection without missing or repeating events, expires when its
 * revision is gone) translated into the kind's watch events.
 */
class EtcdWatch implements StoreWatch {
  private readonly queue: EventQueue;
  private readonly reqs;
  private raw: PrefixWatch | undefined;
  private closed = false;

  constructor(
    private readonly client: Etcd3,
    private readonly kind: string,
    options: WatchOptions,
    private readonly backoff: Backoff,
    private readonly onClose: () => void,
  ) {
    const prefix = resourcePrefix(kind, options.namespace);
    this.reqs = parseLabelSelector(options.labelSelector);
    this.queue = new EventQueue(() => this.teardown());
    const rv = options.resourceVersion;
    if (rv) {
      if (!/^\d+$/.test(rv)) throw new StoreInvalidError(`watch ${kind}: resourceVersion ${JSON.stringify(rv)} is not an etcd revision`);
      this.open(prefix, Number(rv));
    } else {
      void this.startFromNow(prefix, backoff.initialMs);
    }
  }

  /** Times a watcher was (re)created; for tests and status. */
  get attempts(): number {
    return this.raw?.attempts ?? 0;
  }

  /** Responses that were fragments of a larger one; for tests. */
  get fragments(): number {
    return this.raw?.fragments ?? 0;
  }

  private open(prefix: string, after: number): void {
    if (this.closed) return;
    this.raw = new PrefixWatch(
      this.client,
      prefix,
      after,
      {
        event: (ev, rev) => {
          const out = this.translate(ev.type, ev.kv, ev.prev_kv, rev);
          if (out) this.queue.push(out);
        },
        progress: (rev) => this.queue.push(bookmark(this.kind, rev)),
        expired: (err) => this.queue.fail(err),
      },
      this.backoff,
      `watch ${this.kind}`,
    );
  }

  private async startFromNow(prefix: string, delay: number): Promise<void> {
    try {
      const res = await this.client.get(prefix).exec();
      this.open(prefix, Number(res.header.revision));
    } catch {
      if (!this.closed) setTimeout(() => void this.startFromNow(prefix, Math.min(delay * 2, this.backoff.maxMs)), delay);
    }
  }

  private translate(type: string, kv: IKeyValue, prev: IKeyValue | undefined, rev: number): WatchEvent | undefined {
    const cur = type === 'Delete' ? undefined : decodeObject(kv);
    const before = prev ? decodeObject(prev) : undefined;
    const curMatch = cur !== undefined && matchesSelector(this.reqs, cur.metadata.labels);
    const prevMatch = before !== undefined && matchesSelector(this.reqs, before.metadata.labels);
    if (type === 'Delete') {
      if (before && !prevMatch) return undefined;
      const obj = before ?? stub(this.kind, kv.key.toString());
      if (!obj) return undefined;
      obj.metadata.resourceVersion = String(rev);
      return { type: 'DELETED', object: obj };
    }
    if (!cur) return undefined;
    if (curMatch) return { type: before ? (prevMatch ? 'MODIFIED' : 'ADDED') : kv.create_revision === kv.mod_revision ? 'ADDED' : 'MODIFIED', object: cur };
    // It stopped matching the selector: for this watch it is gone.
    if (prevMatch) return { type: 'DELETED', object: cur };
    return undefined;
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.raw?.close();
    this.onClose();
  }

  close(): void {
    this.queue.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return this.queue[Symbol.asyncIterator]();
  }
}

function bookmark(kind: string, rev: number): WatchEvent {
  const k = kindInfo(kind);
  return {
    type: 'BOOKMARK',
    object: { apiVersion: k.group ? `${k.group}/${k.version}` : k.version, kind, metadata: { name: '', uid: '', creationTimestamp: '', resourceVersion: String(rev) } },
  };
}

/** A deleted object whose last state is gone (compacted prev_kv): rebuild its identity from the key. */
function stub(kind: string, key: string): StoreObject | undefined {
  const p = parseResourceKey(key);
  if (!p) return undefined;
  const k = kindInfo(kind);
  const metadata: StoreObject['metadata'] = { name: p.name, uid: '', creationTimestamp: '', resourceVersion: '' };
  if (p.namespace) metadata.namespace = p.namespace;
  return { apiVersion: k.group ? `${k.group}/${k.version}` : k.version, kind, metadata };
}
