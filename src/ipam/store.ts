/**
 * Persistence of a node's address pool in the agent's state directory, so
 * allocations survive an agent restart (the pods and their veths do). Writes
 * are atomic: a temporary file is written and fsync'd, then renamed over the
 * old one, so a crash leaves either the old state or the new, never a torn one.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { BeelineError, IpamStoreError } from '../common/errors.js';
import type { IpamAllocation } from '../agent/types.js';
import { Pool, type PoolEntry, type PoolState } from './pool.js';

/** Reads and atomically writes one PoolState JSON file. */
export class FilePoolStore {
  constructor(readonly path: string) {}

  /** The saved state, or undefined when nothing was saved yet. */
  load(): PoolState | undefined {
    if (!existsSync(this.path)) return undefined;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      throw new IpamStoreError(`read IPAM state ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      return JSON.parse(text) as PoolState;
    } catch (e) {
      throw new IpamStoreError(`read IPAM state ${this.path}: not JSON: ${(e as Error).message}`, {
        hint: 'the file is damaged; move it aside and restart the agent (existing pods then need re-creating)',
        cause: e,
      });
    }
  }

  save(state: PoolState): void {
    const tmp = `${this.path}.tmp`;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify(state, null, 2) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      // The rename is durable only once the directory is.
      const dfd = openSync(dirname(this.path), 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch (e) {
      try {
        if (existsSync(tmp)) unlinkSync(tmp);
      } catch {
        /* best effort */
      }
      throw new IpamStoreError(`save IPAM state ${this.path}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/**
 * The node's address pool as the agent serves it (POST /v1/ipam/allocate,
 * /v1/ipam/release): a Pool saved after every change. When saving fails the
 * change is undone in memory too, so what the agent answers is always what is
 * on disk. Satisfies the agent's NodeIpam interface (src/agent/ipam.ts).
 */
export class PersistentPool {
  private pool: Pool;

  private constructor(
    private readonly store: FilePoolStore,
    pool: Pool,
  ) {
    this.pool = pool;
  }

  /** Loads the saved pool for `podCIDR`, or starts an empty one (saved at once). */
  static open(store: FilePoolStore, podCIDR: string): PersistentPool {
    const saved = store.load();
    let pool: Pool;
    try {
      pool = saved ? Pool.restore(saved, podCIDR) : new Pool(podCIDR);
    } catch (e) {
      if (saved && e instanceof BeelineError) {
        throw new IpamStoreError(`restore IPAM state ${store.path}: ${e.message}`, { hint: e.hint, cause: e });
      }
      throw e;
    }
    const p = new PersistentPool(store, pool);
    if (!saved) store.save(pool.toJSON());
    return p;
  }

  get podCIDR(): string {
    return this.pool.cidr;
  }

  /** The pods' default gateway: the router address of the pod CIDR. */
  get gateway(): string {
    return this.pool.router;
  }

  allocate(owner: string): IpamAllocation {
    const ip = this.change(() => this.pool.allocate(owner));
    return { ip, podCIDR: this.pool.cidr, gateway: this.pool.router };
  }

  allocateSpecific(ip: string, owner: string): IpamAllocation {
    const got = this.change(() => this.pool.allocateSpecific(ip, owner));
    return { ip: got, podCIDR: this.pool.cidr, gateway: this.pool.router };
  }

  /** Idempotent; the released address, if the owner held one. */
  release(owner: string): string | undefined {
    if (this.pool.lookup(owner) === undefined) return undefined;
    return this.change(() => this.pool.release(owner));
  }

  lookup(owner: string): string | undefined {
    return this.pool.lookup(owner);
  }

  entries(): PoolEntry[] {
    return this.pool.entries();
  }

  stats(): { used: number; capacity: number } {
    return { used: this.pool.used, capacity: this.pool.capacity };
  }

  private change<T>(fn: () => T): T {
    const before = this.pool.toJSON();
    const out = fn();
    const after = this.pool.toJSON();
    if (JSON.stringify(before) === JSON.stringify(after)) return out;
    try {
      this.store.save(after);
    } catch (e) {
      this.pool = Pool.restore(before);
      throw e;
    }
    return out;
  }
}
