/**
 * Kubernetes mode: the cluster store over a Kubernetes API server, selected
 * by a kubeconfig. Informers are @kubernetes/client-node's ListWatch (list,
 * watch from the list's resourceVersion, bookmarks, relist on 410 Gone);
 * single reads and writes are plain REST calls with the kubeconfig's
 * credentials. Tested against recorded API responses served by
 * test/lib/fake-apiserver.ts, not a live API server (docs/store.md).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { KubeConfig, Watch, makeInformer, type KubernetesObject } from '@kubernetes/client-node';
import {
  BeelineError,
  StoreAlreadyExistsError,
  StoreConflictError,
  StoreExpiredError,
  StoreInvalidError,
  StoreNotFoundError,
  StoreUnavailableError,
} from '../common/errors.js';
import {
  CacheInformer,
  EventQueue,
  checkIdentity,
  kindInfo,
  type DeleteOptions,
  type Informer,
  type KindInfo,
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

export interface KubernetesStoreOptions {
  /**
   * Path of the kubeconfig (its current context picks the cluster), or
   * `in-cluster`: the pod's service account (token and CA under
   * /var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST/PORT).
   */
  kubeconfig: string;
  /** Back-off of a watch or informer that failed (not 410): first and largest delay. */
  backoff?: { initialMs: number; maxMs: number };
}

/** The `kubeconfig` that means the pod's own service account. */
export const IN_CLUSTER = 'in-cluster';

export function openKubernetesStore(options: KubernetesStoreOptions): KubernetesStore {
  const kc = new KubeConfig();
  if (options.kubeconfig === IN_CLUSTER) {
    if (!process.env.KUBERNETES_SERVICE_HOST) {
      throw new StoreInvalidError('store: in-cluster configuration: KUBERNETES_SERVICE_HOST is not set', 'in-cluster works only in a pod; elsewhere give a kubeconfig file');
    }
    kc.loadFromCluster();
  } else {
    try {
      kc.loadFromFile(options.kubeconfig);
    } catch (e) {
      throw new StoreInvalidError(`store: read kubeconfig ${options.kubeconfig}: ${(e as Error).message}`);
    }
  }
  if (!kc.getCurrentCluster()) throw new StoreInvalidError(`store: kubeconfig ${options.kubeconfig}: no current cluster`, 'set current-context');
  return new KubernetesStore(kc, options.backoff);
}

/** REST path of a kind's collection (namespace given and namespaced) or of one object. */
export function restPath(k: KindInfo, namespace?: string, name?: string): string {
  const base = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  const ns = k.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${k.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

interface HttpAnswer {
  status: number;
  body: unknown;
}

/** A Kubernetes Status object's message, else the body as text. */
function statusMessage(a: HttpAnswer): string {
  const b = a.body as { message?: string } | string | undefined;
  return typeof b === 'object' && b?.message ? b.message : `HTTP ${a.status}`;
}

function withKind(k: KindInfo, o: KubernetesObject): StoreObject {
  // List items carry no apiVersion/kind.
  return { ...(o as unknown as StoreObject), apiVersion: o.apiVersion ?? k.apiVersion, kind: o.kind ?? k.kind };
}

/** GETs in flight at once for getMany. */
const GET_PARALLEL = 16;

export class KubernetesStore implements Store {
  readonly mode = 'kubernetes' as const;
  private readonly server: URL;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly backoff: { initialMs: number; maxMs: number } = { initialMs: 200, maxMs: 10_000 },
  ) {
    this.server = new URL(kubeConfig.getCurrentCluster()!.server);
  }

  /** One REST call with the kubeconfig's credentials; JSON in and out. */
  private async call(method: string, path: string, query: Record<string, string | undefined> = {}, body?: unknown): Promise<HttpAnswer> {
    const url = new URL(this.server.href.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
    // A body's length is sent with it: Node neither chunks nor delimits a DELETE's body by itself.
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const opts: https.RequestOptions = {
      method,
      headers: { accept: 'application/json', 'content-type': 'application/json', ...(payload !== undefined ? { 'content-length': Buffer.byteLength(payload) } : {}) },
    };
    await this.kubeConfig.applyToHTTPSOptions(opts);
    const mod = url.protocol === 'https:' ? https : http;
    const what = `${method} ${url.pathname}`;
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = mod.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text for the message
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', (e) => reject(new StoreUnavailableError(`store: ${what}: ${e.message}`, { hint: 'is the API server reachable?', cause: e })));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private fail(op: string, a: HttpAnswer): BeelineError {
    const msg = `store: ${op}: ${statusMessage(a)}`;
    const reason = (a.body as { reason?: string } | undefined)?.reason;
    if (a.status === 404) return new StoreNotFoundError(msg);
    if (a.status === 409 && reason === 'AlreadyExists') return new StoreAlreadyExistsError(msg);
    if (a.status === 409) return new StoreConflictError(msg);
    if (a.status === 410) return new StoreExpiredError(msg);
    if (a.status === 400 || a.status === 422) return new StoreInvalidError(msg);
    return new StoreUnavailableError(msg);
  }

  async get(kind: string, namespace: string | undefined, name: string): Promise<StoreObject | undefined> {
    const k = kindInfo(kind);
    const a = await this.call('GET', restPath(k, namespace, name));
    if (a.status === 404) return undefined;
    if (a.status !== 200) throw this.fail(`get ${kind} ${name}`, a);
    return withKind(k, a.body as KubernetesObject);
  }

  /** One GET per object (the API server has no multi-get), GET_PARALLEL at a time; not one snapshot. */
  async getMany(refs: ObjectRef[]): Promise<(StoreObject | undefined)[]> {
    const out: (StoreObject | undefined)[] = new Array(refs.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < refs.length) {
        const i = next++;
        const r = refs[i]!;
        out[i] = await this.get(r.kind, r.namespace, r.name);
      }
    };
    await Promise.all(Array.from({ length: Math.min(GET_PARALLEL, refs.length) }, worker));
    return out;
  }

  async list(kind: string, options: ListOptions = {}): Promise<ListResult> {
    const k = kindInfo(kind);
    const a = await this.call('GET', restPath(k, options.namespace), { labelSelector: options.labelSelector });
    if (a.status !== 200) throw this.fail(`list ${kind}`, a);
    const l = a.body as { items?: KubernetesObject[]; metadata?: { resourceVersion?: string } };
    return { items: (l.items ?? []).map((o) => withKind(k, o)), resourceVersion: l.metadata?.resourceVersion ?? '' };
  }

  async create(obj: ObjectInput, options: WriteOptions = {}): Promise<StoreObject> {
    const k = checkIdentity(obj);
    const a = await this.call('POST', restPath(k, obj.metadata.namespace), { dryRun: options.dryRun ? 'All' : undefined }, obj);
    if (a.status !== 200 && a.status !== 201) throw this.fail(`create ${kind(obj)}`, a);
    return withKind(k, a.body as KubernetesObject);
  }

  async update(obj: ObjectInput, options: WriteOptions = {}): Promise<StoreObject> {
    return this.put(obj, '', options.dryRun);
  }

  async updateStatus(obj: ObjectInput): Promise<StoreObject> {
    return this.put(obj, '/status', false);
  }

  private async put(obj: ObjectInput, sub: string, dryRun: boolean | undefined): Promise<StoreObject> {
    const k = checkIdentity(obj);
    const a = await this.call('PUT', restPath(k, obj.metadata.namespace, obj.metadata.name) + sub, { dryRun: dryRun ? 'All' : undefined }, obj);
    if (a.status !== 200 && a.status !== 201) throw this.fail(`update ${kind(obj)}`, a);
    return withKind(k, a.body as KubernetesObject);
  }

  async delete(kind: string, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<StoreObject | undefined> {
    const k = kindInfo(kind);
    const body = options.resourceVersion ? { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: options.resourceVersion } } : undefined;
    const a = await this.call('DELETE', restPath(k, namespace, name), {}, body);
    if (a.status === 404 && options.ignoreNotFound) return undefined;
    if (a.status !== 200 && a.status !== 202) throw this.fail(`delete ${kind} ${name}`, a);
    const o = a.body as KubernetesObject;
    return o.kind === 'Status' ? undefined : withKind(k, o);
  }

  /**
   * The API server has no multi-object transaction: every object is first
   * sent as a server-side dry run (validation, admission, conflicts), and
   * only when all pass are they written, in order. A write can still fail
   * after an earlier one succeeded (a race with another writer, the API
   * server going away); the error then says how many were applied.
   *
   * Big files: there is no size limit (nor BL_ERR_STORE_TXN_LIMIT) here, one
   * request per object, so 10,000 objects are 20,000 requests one after the
   * other; and watchers see the objects arrive one by one, as with kubectl,
   * not at one revision as in kvstore mode (docs/store.md, "Big files").
   */
  async applyBatch(objects: ObjectInput[]): Promise<StoreObject[]> {
    objects.forEach(checkIdentity);
    // Each object is written as it was checked: an update carries the resourceVersion its dry
    // run read, so a change by another writer in between is a conflict, not overwritten.
    const plan: { op: 'create' | 'update'; obj: ObjectInput }[] = [];
    for (const o of objects) {
      const cur = await this.get(o.kind, o.metadata.namespace, o.metadata.name);
      const obj = cur && !o.metadata.resourceVersion ? { ...o, metadata: { ...o.metadata, resourceVersion: cur.metadata.resourceVersion } } : o;
      plan.push({ op: cur ? 'update' : 'create', obj });
      await (cur ? this.update(obj, { dryRun: true }) : this.create(obj, { dryRun: true }));
    }
    const out: StoreObject[] = [];
    for (const [i, { op, obj }] of plan.entries()) {
      try {
        out.push(await (op === 'create' ? this.create(obj) : this.update(obj)));
      } catch (e) {
        if (e instanceof BeelineError) throw new BeelineError(e.code, `apply: ${i} of ${objects.length} applied, then ${e.message}`, { hint: e.hint, cause: e });
        throw e;
      }
    }
    return out;
  }

  watch(kindName: string, options: WatchOptions = {}): StoreWatch {
    return new KubernetesWatch(this.kubeConfig, kindInfo(kindName), options, this.backoff);
  }

  informer(kindName: string, options: ListOptions = {}): Informer {
    return new KubernetesInformer(this, kindInfo(kindName), options, this.backoff);
  }

  async lease(): Promise<StoreLease> {
    throw new StoreInvalidError('store: leases are not supported in Kubernetes mode yet', 'use kvstore mode, or coordination.k8s.io Lease objects');
  }

  async close(): Promise<void> {}
}

function kind(o: ObjectInput): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/**
 * A watch through client-node's Watch: a stream that ends (the server's
 * timeout) or breaks is reopened from the last resourceVersion seen, bookmarks
 * included; a 410 (HTTP status or ERROR event) ends the iteration with
 * StoreExpiredError.
 */
class KubernetesWatch implements StoreWatch {
  private readonly queue: EventQueue;
  private controller: AbortController | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private rv: string;
  private delay: number;
  private expired = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly k: KindInfo,
    private readonly options: WatchOptions,
    private readonly backoff: { initialMs: number; maxMs: number },
  ) {
    this.rv = options.resourceVersion ?? '';
    this.delay = backoff.initialMs;
    this.queue = new EventQueue(() => this.teardown());
    void this.open();
  }

  private async open(): Promise<void> {
    if (this.closed) return;
    const query: Record<string, string> = { allowWatchBookmarks: 'true' };
    if (this.rv) query.resourceVersion = this.rv;
    if (this.options.labelSelector) query.labelSelector = this.options.labelSelector;
    try {
      this.controller = await new Watch(this.kc).watch(
        restPath(this.k, this.options.namespace),
        query,
        (type: string, obj: KubernetesObject & { code?: number }) => {
          if (type === 'ERROR') {
            if (obj.code === 410) this.expired = true;
            return;
          }
          const object = withKind(this.k, obj);
          if (object.metadata?.resourceVersion) this.rv = object.metadata.resourceVersion;
          this.delay = this.backoff.initialMs;
          this.queue.push({ type: type as WatchEvent['type'], object });
        },
        (err: (Error & { statusCode?: number }) | null) => this.done(err),
      );
    } catch (e) {
      this.done(e as Error);
    }
  }

  private done(err: (Error & { statusCode?: number; code?: unknown }) | null): void {
    if (this.closed) return;
    if (this.expired || err?.statusCode === 410) {
      this.queue.fail(new StoreExpiredError(`watch ${this.k.kind}: resourceVersion ${this.rv} is too old (410 Gone)`));
      return;
    }
    if (!err) {
      void this.open(); // the server ended the stream; reopen from where it stopped
      return;
    }
    this.timer = setTimeout(() => void this.open(), this.delay);
    this.delay = Math.min(this.delay * 2, this.backoff.maxMs);
  }

  private teardown(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.controller?.abort();
  }

  close(): void {
    this.queue.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return this.queue[Symbol.asyncIterator]();
  }
}

/**
 * An Informer over client-node's ListWatch (makeInformer). ListWatch keeps
 * going through stream ends, bookmarks and 410s (it relists), but stops on
 * any other error; this restarts it with back-off. The cache consumers read
 * is CacheInformer's, fed from ListWatch's callbacks and from each list.
 */
class KubernetesInformer extends CacheInformer {
  private readonly lw: ReturnType<typeof makeInformer<KubernetesObject>>;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  /** How many lists the informer made (1 + relists). */
  lists = 0;

  constructor(
    store: KubernetesStore,
    private readonly k: KindInfo,
    options: ListOptions,
    private readonly backoff: { initialMs: number; maxMs: number },
  ) {
    super();
    this.delay = backoff.initialMs;
    const listFn = async () => {
      const l = await store.list(k.kind, options);
      this.lists++;
      this.replace(l.items, l.resourceVersion);
      this.delay = backoff.initialMs;
      return { apiVersion: 'v1', kind: `${k.kind}List`, metadata: { resourceVersion: l.resourceVersion }, items: l.items as unknown as KubernetesObject[] };
    };
    this.lw = makeInformer(store.kubeConfig, restPath(k, options.namespace), listFn, options.labelSelector);
    this.lw.on('add', (o) => this.apply({ type: 'ADDED', object: withKind(k, o) }));
    this.lw.on('update', (o) => this.apply({ type: 'MODIFIED', object: withKind(k, o) }));
    this.lw.on('delete', (o) => this.apply({ type: 'DELETED', object: withKind(k, o) }));
    this.lw.on('error', (err?: unknown) => {
      if (!this.running) return;
      if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
      this.timer = setTimeout(() => void this.lw.start(), this.delay);
      this.delay = Math.min(this.delay * 2, this.backoff.maxMs);
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.lw.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.lw.stop();
  }

  override resourceVersion(): string {
    return (this.lw as unknown as { latestResourceVersion(): string }).latestResourceVersion() || super.resourceVersion();
  }

  /** The kind this informer caches. */
  get kind(): string {
    return this.k.kind;
  }
}
