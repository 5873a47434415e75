/**
 * The FQDN cache: which addresses each endpoint learned for which names from
 * the DNS answers the DNS proxy let through, and until when. A simplified
 * Cilium DNS cache (pkg/fqdn DNSCache) with its zombies (DNSZombieMappings):
 *
 * - **Per endpoint**, name → IP with an expiry of `max(ttl, minTtl)` seconds
 *   after the lookup. `minTtl` is Cilium's `--tofqdns-min-ttl`; its default
 *   is 0 and so is ours: the answer's TTL is kept as the resolver gave it.
 * - **Newest lookup wins**: a new answer for a name sets the expiry of the
 *   addresses it carries (longer or shorter); addresses the name had before
 *   and the new answer does not carry stay until their own expiry (names
 *   whose addresses rotate on every query accumulate the recent ones).
 * - **Connection-aware garbage collection** ({@link FqdnCache.gc}, driven by
 *   the agent's timer): an expired address that a connection still uses is
 *   kept, shown with source `connection` (Cilium's zombie, alive because of
 *   a connection), until no connection uses it; then it goes.
 * - **Bounded**: at most `maxIpsPerName` addresses per name and endpoint
 *   (Cilium's `--tofqdns-endpoint-max-ip-per-hostname`, 50), and at most
 *   `maxNamesPerEndpoint` names per endpoint. Over the limit, the entries
 *   that expire first (the oldest) are dropped at the next gc, unless a
 *   connection uses them (then they stay as zombies, as Cilium's over-limit
 *   entries do); `add` itself never drops, so an answer being released is
 *   never missing from the names the datapath was given.
 *
 * Pure: no timers, no I/O; every time is passed in (ms since the epoch).
 * Names are stored lower case and fully qualified (`api.example.test.`), as
 * the policy matchers compare them.
 */
import { normaliseDnsName } from './pattern.js';

/** Where an entry is from: a DNS answer, or kept past its TTL because a connection uses it. */
export type FqdnCacheSource = 'lookup' | 'connection';

/** Options of {@link FqdnCache}. */
export interface FqdnCacheOptions {
  /** The least TTL in seconds given to an entry (Cilium's `--tofqdns-min-ttl`; default 0). */
  minTtlSec?: number;
  /** At most this many addresses per name and endpoint (Cilium's `--tofqdns-endpoint-max-ip-per-hostname`; default 50). */
  maxIpsPerName?: number;
  /** At most this many names per endpoint (default 10,000). */
  maxNamesPerEndpoint?: number;
}

/** One row of `beeline fqdn cache list`. */
export interface FqdnCacheRow {
  endpointId: number;
  /** Lower case, fully qualified. */
  name: string;
  ip: string;
  /** The TTL the entry was given (after minTtl), seconds. */
  ttlSec: number;
  /** Seconds left until expiry (0 once expired: a zombie kept by a connection). */
  ttlRemainingSec: number;
  /** Expiry, ms since the epoch. */
  expiresMs: number;
  source: FqdnCacheSource;
}

/** An entry {@link FqdnCache.gc} removed. */
export interface FqdnCacheRemoval {
  endpointId: number;
  name: string;
  ip: string;
  why: 'expired' | 'over-limit';
}

interface Entry {
  ttlSec: number;
  lookupMs: number;
  expiresMs: number;
  /** Kept past its expiry (or over the limit) because a connection uses it. */
  zombie: boolean;
}

/** Per-endpoint name → IP → entry. See the file comment. */
export class FqdnCache {
  readonly minTtlSec: number;
  readonly maxIpsPerName: number;
  readonly maxNamesPerEndpoint: number;
  #byEndpoint = new Map<number, Map<string, Map<string, Entry>>>();

  constructor(options: FqdnCacheOptions = {}) {
    this.minTtlSec = options.minTtlSec ?? 0;
    this.maxIpsPerName = options.maxIpsPerName ?? 50;
    this.maxNamesPerEndpoint = options.maxNamesPerEndpoint ?? 10_000;
    for (const [k, v] of Object.entries({ minTtlSec: this.minTtlSec, maxIpsPerName: this.maxIpsPerName, maxNamesPerEndpoint: this.maxNamesPerEndpoint })) {
      if (!Number.isInteger(v) || v < (k === 'minTtlSec' ? 0 : 1)) throw new RangeError(`FqdnCache: ${k} must be an integer ≥ ${k === 'minTtlSec' ? 0 : 1}, got ${v}`);
    }
  }

  /**
   * Records that `endpointId` looked up `name` and got `ips` with `ttl`
   * seconds (RFC 2181: a TTL with the top bit set counts as 0). Returns true
   * when an address is new for the name (what the datapath must be told).
   */
  add(endpointId: number, name: string, ips: readonly string[], ttl: number, nowMs: number, source: 'lookup' = 'lookup'): boolean {
    void source;
    const n = normaliseDnsName(name);
    const t = ttl >= 0x80000000 || ttl < 0 ? 0 : Math.floor(ttl);
    const ttlSec = Math.max(t, this.minTtlSec);
    let names = this.#byEndpoint.get(endpointId);
    if (!names) this.#byEndpoint.set(endpointId, (names = new Map()));
    let byIp = names.get(n);
    if (!byIp) names.set(n, (byIp = new Map()));
    let added = false;
    for (const ip of ips) {
      if (!byIp.has(ip)) added = true;
      byIp.set(ip, { ttlSec, lookupMs: nowMs, expiresMs: nowMs + ttlSec * 1000, zombie: false });
    }
    if (byIp.size === 0) names.delete(n);
    if (names.size === 0) this.#byEndpoint.delete(endpointId);
    return added;
  }

  /**
   * Removes expired entries no connection uses (`inUse(ip)` false) and
   * enforces the limits; expired or over-limit entries a connection uses
   * stay, as zombies (source `connection`). `changed`: the set of
   * (name, ip) pairs {@link names} returns may have changed.
   */
  gc(nowMs: number, inUse: (ip: string) => boolean): { removed: FqdnCacheRemoval[]; changed: boolean } {
    const removed: FqdnCacheRemoval[] = [];
    const used = new Map<string, boolean>();
    const isUsed = (ip: string) => {
      let u = used.get(ip);
      if (u === undefined) used.set(ip, (u = inUse(ip)));
      return u;
    };
    for (const [endpointId, names] of this.#byEndpoint) {
      // Names over the limit: those whose newest lookup is oldest go first.
      const overNames = new Set<string>();
      if (names.size > this.maxNamesPerEndpoint) {
        const byAge = [...names].map(([name, m]) => ({ name, newest: Math.max(...[...m.values()].map((e) => e.lookupMs)) }))
          .sort((a, b) => a.newest - b.newest || (a.name < b.name ? -1 : 1));
        for (const x of byAge.slice(0, names.size - this.maxNamesPerEndpoint)) overNames.add(x.name);
      }
      for (const [name, byIp] of names) {
        const over = new Set<string>();
        if (overNames.has(name)) {
          for (const ip of byIp.keys()) over.add(ip);
        } else if (byIp.size > this.maxIpsPerName) {
          const byExpiry = [...byIp].sort((a, b) => a[1].expiresMs - b[1].expiresMs || (a[0] < b[0] ? -1 : 1));
          for (const [ip] of byExpiry.slice(0, byIp.size - this.maxIpsPerName)) over.add(ip);
        }
        for (const [ip, e] of byIp) {
          const expired = e.expiresMs <= nowMs;
          if (!expired && !over.has(ip)) continue;
          if (isUsed(ip)) {
            e.zombie = true;
            continue;
          }
          byIp.delete(ip);
          removed.push({ endpointId, name, ip, why: expired ? 'expired' : 'over-limit' });
        }
        if (byIp.size === 0) names.delete(name);
      }
      if (names.size === 0) this.#byEndpoint.delete(endpointId);
    }
    return { removed, changed: removed.length > 0 };
  }

  /** Forgets an endpoint (it is gone, and so are its connections). True when it had entries. */
  /** The endpoints with entries. */
  endpointIds(): number[] {
    return [...this.#byEndpoint.keys()];
  }

  forgetEndpoint(endpointId: number): boolean {
    return this.#byEndpoint.delete(endpointId);
  }

  /**
   * Every name with the addresses the cache holds for it, across endpoints
   * (entries past their TTL included until gc removes them, zombies
   * included): what the agent gives the policy repository's toFQDNs
   * selectors. Names sorted, addresses sorted and de-duplicated.
   */
  names(): Map<string, string[]> {
    const acc = new Map<string, Set<string>>();
    for (const names of this.#byEndpoint.values()) {
      for (const [name, byIp] of names) {
        let s = acc.get(name);
        if (!s) acc.set(name, (s = new Set()));
        for (const ip of byIp.keys()) s.add(ip);
      }
    }
    return new Map([...acc].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([n, s]) => [n, [...s].sort(compareIp)]));
  }

  /** The names any endpoint learned `ip` for, sorted (for flows to learned addresses). */
  nameOf(ip: string): string[] {
    const out = new Set<string>();
    for (const names of this.#byEndpoint.values()) for (const [name, byIp] of names) if (byIp.has(ip)) out.add(name);
    return [...out].sort();
  }

  /** Every entry, sorted by endpoint, name, address: `beeline fqdn cache list`. */
  rows(nowMs: number): FqdnCacheRow[] {
    const out: FqdnCacheRow[] = [];
    for (const [endpointId, names] of this.#byEndpoint) {
      for (const [name, byIp] of names) {
        for (const [ip, e] of byIp) {
          out.push({
            endpointId, name, ip, ttlSec: e.ttlSec,
            ttlRemainingSec: Math.max(0, Math.ceil((e.expiresMs - nowMs) / 1000)),
            expiresMs: e.expiresMs,
            source: e.zombie ? 'connection' : 'lookup',
          });
        }
      }
    }
    return out.sort((a, b) => a.endpointId - b.endpointId || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || compareIp(a.ip, b.ip));
  }

  /** How many (endpoint, name, ip) entries there are. */
  get size(): number {
    let n = 0;
    for (const names of this.#byEndpoint.values()) for (const byIp of names.values()) n += byIp.size;
    return n;
  }
}

/** IPv4 addresses numerically, then anything else as text. */
function compareIp(a: string, b: string): number {
  const pa = ipv4Number(a);
  const pb = ipv4Number(b);
  if (pa !== undefined && pb !== undefined) return pa - pb;
  if (pa !== undefined) return -1;
  if (pb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function ipv4Number(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  return m ? ((+m[1]! << 24) >>> 0) + (+m[2]! << 16) + (+m[3]! << 8) + +m[4]! : undefined;
}
