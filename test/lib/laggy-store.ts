/**
 * A Store whose informers are behind the API server by `lagMs`: every event
 * reaches the informer's cache and its listeners that much later. Races are
 * then settled by the server (a 409, a precondition) rather than by a cache
 * that happens to be current, as it nearly always is against a local double.
 */
import { EventEmitter } from 'node:events';
import { cacheKey, type Informer, type ListOptions, type Store, type StoreObject } from '../../src/store/store.js';

class LaggingInformer extends EventEmitter {
  private readonly cache = new Map<string, StoreObject>();

  constructor(
    private readonly inner: Informer,
    private readonly lagMs: number,
  ) {
    super();
    const later = (fn: () => void) => void setTimeout(fn, lagMs);
    const key = (o: StoreObject) => cacheKey(o.metadata.namespace, o.metadata.name);
    inner.on('add', (o) => later(() => (this.cache.set(key(o), o), this.emit('add', o))));
    inner.on('update', (o, old) => later(() => (this.cache.set(key(o), o), this.emit('update', o, old))));
    inner.on('delete', (o) => later(() => (this.cache.delete(key(o)), this.emit('delete', o))));
    inner.on('error', (e) => this.listenerCount('error') > 0 && this.emit('error', e));
  }

  start(): Promise<void> {
    return this.inner.start();
  }
  stop(): Promise<void> {
    return this.inner.stop();
  }
  hasSynced(): boolean {
    return this.inner.hasSynced();
  }
  async waitForSync(): Promise<void> {
    await this.inner.waitForSync();
    await new Promise((r) => setTimeout(r, this.lagMs + 1)); // the first list's events, delivered late
  }
  get(namespace: string | undefined, name: string): StoreObject | undefined {
    return this.cache.get(cacheKey(namespace, name));
  }
  list(namespace?: string): StoreObject[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }
  resourceVersion(): string {
    return this.inner.resourceVersion();
  }
}

export function laggyStore(store: Store, lagMs: number): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'informer') return (kind: string, opts?: ListOptions): Informer => new LaggingInformer(target.informer(kind, opts), lagMs) as unknown as Informer;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
