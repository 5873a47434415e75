/**
 * A node's IPv4 address pool over its pod CIDR (Cilium's per-node
 * "cluster-pool" allocator). Pure: no I/O, state in and out as JSON
 * (PoolState); store.ts persists it.
 *
 * For a pod CIDR 10.0.1.0/24:
 *   10.0.1.0    network    reserved
 *   10.0.1.1    router     reserved: the pods' gateway (the node answers for it)
 *   10.0.1.2 …  pods       allocated to owners (`<containerID>/<ifname>`)
 *   10.0.1.255  broadcast  reserved
 *
 * Allocation is idempotent per owner, and a rotating cursor hands out the
 * address after the last one given, so a just-released address is reused
 * only after the rest of the pool has been: a late packet or a stale
 * conntrack/ipcache entry for a deleted pod does not reach its successor.
 */
import { IpamConflictError, IpamExhaustedError, IpamInvalidError } from '../common/errors.js';
import { cidrContains, formatIPv4, parseCidr, parseIPv4, type Cidr4 } from './cidr.js';

/** The JSON form of a pool, as saved in the agent's state directory. */
export interface PoolState {
  version: 1;
  /** The pod CIDR the pool covers, e.g. 10.0.1.0/24. */
  cidr: string;
  /** The address the cursor tries next. */
  next: string;
  /** Address → owner. */
  allocations: Record<string, string>;
}

export interface PoolEntry {
  ip: string;
  owner: string;
}

/** Smallest pool: network, router, one pod, broadcast. */
export const MAX_POOL_PREFIX = 30;
const MAX_OWNER_LENGTH = 512;

function checkOwner(owner: unknown, op: string): asserts owner is string {
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > MAX_OWNER_LENGTH || /[\x00-\x1f]/.test(owner)) {
    throw new IpamInvalidError(`${op}: owner must be a non-empty string of printable characters (at most ${MAX_OWNER_LENGTH})`);
  }
}

export class Pool {
  /** Canonical pod CIDR. */
  readonly cidr: string;
  readonly network: string;
  readonly broadcast: string;
  /** The router address: first usable, the pods' default gateway. */
  readonly router: string;
  /** How many addresses pods can hold. */
  readonly capacity: number;

  private readonly c: Cidr4;
  /** First and last address a pod can get. */
  private readonly first: number;
  private readonly last: number;
  private readonly byIp = new Map<number, string>();
  private readonly byOwner = new Map<string, number>();
  private cursor: number;

  constructor(cidr: string) {
    this.c = parseCidr(cidr, 'pod CIDR');
    if (this.c.prefix > MAX_POOL_PREFIX) {
      throw new IpamInvalidError(`pod CIDR ${this.c.text} is too small`, `it needs room for network, router, broadcast and a pod: /${MAX_POOL_PREFIX} or larger`);
    }
    this.cidr = this.c.text;
    this.network = formatIPv4(this.c.base);
    this.broadcast = formatIPv4(this.c.base + this.c.size - 1);
    this.router = formatIPv4(this.c.base + 1);
    this.first = this.c.base + 2;
    this.last = this.c.base + this.c.size - 2;
    this.capacity = this.last - this.first + 1;
    this.cursor = this.first;
  }

  /**
   * Rebuilds a pool from saved state. With `cidr`, the state must be for that
   * CIDR (a node whose pod CIDR changed must not keep addresses of the old one).
   */
  static restore(state: PoolState, cidr?: string): Pool {
    if (!state || typeof state !== 'object' || state.version !== 1 || typeof state.allocations !== 'object' || state.allocations === null) {
      throw new IpamInvalidError('restore pool: state is not a version 1 pool state');
    }
    const pool = new Pool(state.cidr);
    if (cidr !== undefined && parseCidr(cidr, 'pod CIDR').text !== pool.cidr) {
      throw new IpamInvalidError(
        `restore pool: saved state is for ${pool.cidr} but the node's pod CIDR is ${parseCidr(cidr).text}`,
        'the node changed pod CIDR: its pods must be re-created (remove the saved state once they are gone)',
      );
    }
    for (const [ip, owner] of Object.entries(state.allocations)) pool.allocateSpecific(ip, owner);
    const next = typeof state.next === 'string' ? parseIPv4(state.next, 'restore pool: next') : pool.first;
    pool.cursor = next >= pool.first && next <= pool.last ? next : pool.first;
    return pool;
  }

  /** Addresses held by owners. */
  get used(): number {
    return this.byIp.size;
  }

  get available(): number {
    return this.capacity - this.used;
  }

  /** The address `owner` holds, if any. */
  lookup(owner: string): string | undefined {
    const n = this.byOwner.get(owner);
    return n === undefined ? undefined : formatIPv4(n);
  }

  /** Who holds `ip`, if anyone. */
  ownerOf(ip: string): string | undefined {
    return this.byIp.get(parseIPv4(ip));
  }

  /**
   * Gives `owner` an address: the one it already holds, else the next free one
   * from the cursor. Throws IpamExhaustedError when none is free.
   */
  allocate(owner: string): string {
    checkOwner(owner, 'allocate');
    const held = this.byOwner.get(owner);
    if (held !== undefined) return formatIPv4(held);
    if (this.used >= this.capacity) {
      throw new IpamExhaustedError(
        `allocate ${owner}: pod CIDR ${this.cidr} is exhausted: ${this.used} of ${this.capacity} addresses in use`,
      );
    }
    for (let i = 0; i < this.capacity; i++) {
      const n = this.first + ((this.cursor - this.first + i) % this.capacity);
      if (!this.byIp.has(n)) {
        this.take(n, owner);
        this.cursor = n === this.last ? this.first : n + 1;
        return formatIPv4(n);
      }
    }
    // Unreachable: used < capacity guarantees a free address in the loop above.
    throw new IpamExhaustedError(`allocate ${owner}: pod CIDR ${this.cidr} is exhausted`);
  }

  /**
   * Gives `owner` exactly `ip` (restores after a restart, pods that must keep
   * their address). Idempotent for the same pair; a conflict with another
   * owner, or another address of this owner, throws IpamConflictError.
   */
  allocateSpecific(ip: string, owner: string): string {
    checkOwner(owner, `allocate ${ip}`);
    const n = parseIPv4(ip, `allocate ${ip} for ${owner}: address`);
    const text = formatIPv4(n);
    if (!cidrContains(this.c, n)) throw new IpamInvalidError(`allocate ${text} for ${owner}: not in pod CIDR ${this.cidr}`);
    if (n < this.first || n > this.last) {
      const what = n === this.c.base ? 'network' : n === this.c.base + 1 ? 'router' : 'broadcast';
      throw new IpamInvalidError(`allocate ${text} for ${owner}: it is the ${what} address of ${this.cidr}, reserved`);
    }
    const holder = this.byIp.get(n);
    if (holder === owner) return text;
    if (holder !== undefined) throw new IpamConflictError(`allocate ${text} for ${owner}: already held by ${holder}`);
    const other = this.byOwner.get(owner);
    if (other !== undefined) throw new IpamConflictError(`allocate ${text} for ${owner}: the owner already holds ${formatIPv4(other)}`);
    this.take(n, owner);
    return text;
  }

  /** Frees what `owner` holds; returns the address, or undefined when it held none (idempotent). */
  release(owner: string): string | undefined {
    const n = this.byOwner.get(owner);
    if (n === undefined) return undefined;
    this.byOwner.delete(owner);
    this.byIp.delete(n);
    return formatIPv4(n);
  }

  /** Every allocation, in address order. */
  entries(): PoolEntry[] {
    return [...this.byIp.entries()].sort((a, b) => a[0] - b[0]).map(([n, owner]) => ({ ip: formatIPv4(n), owner }));
  }

  toJSON(): PoolState {
    const allocations: Record<string, string> = {};
    for (const e of this.entries()) allocations[e.ip] = e.owner;
    return { version: 1, cidr: this.cidr, next: formatIPv4(this.cursor), allocations };
  }

  private take(n: number, owner: string): void {
    this.byIp.set(n, owner);
    this.byOwner.set(owner, n);
  }
}
