/**
 * The ipcache: IP or prefix → security identity and the node it lives on
 * (Cilium's ipcache, pkg/ipcache, and its kvstore form `cilium/state/ip/v1`).
 *
 * Distribution, through etcd:
 *   /beeline/v1/ipcache/10.0.1.5        = {"identity":256,"hostIP":"172.18.0.11","encryptKey":0,"owner":"node1"}
 *   … with "authRequired":true when the endpoint's ingress policy requires
 *   mutual authentication (issue 15; absent, as older agents write it: false)
 *   /beeline/v1/ipcache/203.0.113.0/24  = …                       (a prefix keeps its /len; a /32 is the bare IP)
 * The agent that owns an endpoint writes its entry under its lease; every
 * agent lists and watches the prefix and writes the result to its bl_ipcache
 * map through the pure toMapEntries below.
 *
 * Trade-off of lease-bound entries: when an agent dies its entries expire
 * after the lease TTL although its pods (and the datapath, which survives
 * the agent) keep running. Other nodes then find those pods' addresses only
 * through the node's pod-CIDR entry: still routed to the right node (tunnel
 * endpoint), but with identity world rather than the pod's, so identity-based
 * policy treats them as outside traffic until the agent returns and writes
 * them again. Entries that never expired would keep policy right but leave
 * stale addresses (reused by new pods elsewhere) with a wrong identity after
 * a node is gone for good — Cilium makes the same choice. Routing itself
 * never depends on per-endpoint entries, so a dead agent costs no
 * connectivity.
 */
import type { Etcd3, Lease } from 'etcd3';
import { IpcacheInvalidError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { KvInformer, type KvEntry } from '../store/kv.js';
import { BlIpcacheFlags, type BlIpcacheKey, type BlRemoteEndpointInfo } from '../datapath/generated/abi.js';
import { formatIPv4, parseHostOrCidr, tryParseIPv4, type Cidr4 } from '../ipam/cidr.js';
import { identityScope, ReservedIdentity } from './reserved.js';

export const IPCACHE_PREFIX = '/beeline/v1/ipcache/';

/** One ipcache entry as the store holds it. */
export interface IpcacheEntry {
  /** `10.0.1.5` (a /32) or `10.0.0.0/8`. */
  prefix: string;
  /** Security identity of the addresses. */
  identity: number;
  /** IPv4 of the node the addresses live on; '' when on no node (e.g. an outside CIDR). */
  hostIP: string;
  /** Cilium's encryptkey; beeline has no encryption, so always 0. */
  encryptKey: 0;
  /** The node whose agent wrote the entry. */
  owner?: string;
  /**
   * The endpoint's ingress policy requires mutual authentication
   * (BL_IPCACHE_F_AUTH_REQUIRED): other pods' connections to it go through
   * their node proxy's mTLS-out listener. Absent: false.
   */
  authRequired?: boolean;
}

/** Canonical text of a prefix: a /32 as the bare address, anything else as `a.b.c.d/len`. */
export function canonicalPrefix(text: string): string {
  const c = parsePrefix(text);
  return c.prefix === 32 ? formatIPv4(c.base) : c.text;
}

function parsePrefix(text: string): Cidr4 {
  try {
    return parseHostOrCidr(text, 'ipcache prefix');
  } catch (e) {
    throw new IpcacheInvalidError((e as Error).message, 'write an IPv4 address or a.b.c.d/len without host bits');
  }
}

export const ipcacheKey = (prefix: string) => IPCACHE_PREFIX + canonicalPrefix(prefix);

/** Checks an entry; returns it with its prefix in canonical form. */
export function validateEntry(e: IpcacheEntry): IpcacheEntry {
  const prefix = canonicalPrefix(e.prefix);
  const scope = identityScope(e.identity);
  if (scope === 'invalid' || scope === 'unknown') {
    throw new IpcacheInvalidError(`ipcache entry ${prefix}: identity ${e.identity} is not a valid identity`, 'use a reserved (1-10), cluster (256-65535) or local (1<<24 | n) identity');
  }
  if (e.hostIP !== '' && tryParseIPv4(e.hostIP) === undefined) {
    throw new IpcacheInvalidError(`ipcache entry ${prefix}: hostIP '${e.hostIP}' is not an IPv4 address`);
  }
  const out: IpcacheEntry = { prefix, identity: e.identity, hostIP: e.hostIP, encryptKey: 0 };
  if (e.owner !== undefined) out.owner = e.owner;
  if (e.authRequired === true) out.authRequired = true;
  return out;
}

function parseStored(kv: KvEntry): IpcacheEntry {
  const prefix = kv.key.slice(IPCACHE_PREFIX.length);
  const v = JSON.parse(kv.value) as Partial<IpcacheEntry>;
  return validateEntry({ prefix, identity: Number(v.identity), hostIP: String(v.hostIP ?? ''), encryptKey: 0, ...(v.owner ? { owner: String(v.owner) } : {}), ...(v.authRequired === true ? { authRequired: true } : {}) });
}

export interface IpcacheEvent {
  type: 'upsert' | 'delete';
  entry: IpcacheEntry;
}

/** What an agent publishes for one of its addresses. */
export interface IpcacheUpsert {
  prefix: string;
  identity: number;
  hostIP: string;
  encryptKey?: 0;
  /** The pod the address belongs to: Kubernetes mode names the BeelineEndpoint after it (required there); kvstore mode ignores it. */
  pod?: { namespace: string; name: string };
  /** The node-local endpoint id (1-4095); kvstore mode ignores it. */
  endpointID?: number;
  /** The endpoint's ingress policy requires mutual authentication (IpcacheEntry.authRequired). */
  authRequired?: boolean;
}

/**
 * The distributed ipcache as an agent sees it, whichever the cluster backend:
 * etcd keys (IpcacheStore, kvstore mode) or BeelineEndpoint objects
 * (CrdIpcache in src/identity/crd.ts, Kubernetes mode).
 */
export interface IpcacheSource {
  /** Loads every node's entries and keeps following changes. */
  start(): Promise<void>;
  /** Stops following; `revoke: false` (an agent restarting) leaves this node's entries in the store. */
  stop(opts?: { revoke?: boolean }): Promise<void>;
  /** Every node's entries, as last seen, by prefix. */
  entries(): IpcacheEntry[];
  onChange(listener: (e: IpcacheEvent) => void): () => void;
  /** Writes (or replaces) the entry of an address this node owns. */
  upsert(entry: IpcacheUpsert): Promise<void>;
  /** Deletes an entry this node wrote, only while it is still this node's; true when deleted. */
  delete(prefix: string): Promise<boolean>;
}

/**
 * One agent's side of the distributed ipcache: writes the entries of its own
 * endpoints under its lease, and keeps every node's entries current through
 * a watch.
 */
export class IpcacheStore implements IpcacheSource {
  private readonly cache = new Map<string, IpcacheEntry>();
  /** What this node wrote: canonical prefix → stored value. */
  private readonly own = new Map<string, string>();
  private readonly listeners = new Set<(e: IpcacheEvent) => void>();
  private lease: Lease | undefined;
  private leaseId: Promise<string> | undefined;
  private informer: KvInformer | undefined;
  private readonly ttl: number;

  constructor(
    private readonly etcd: Etcd3,
    private readonly opts: { node: string; leaseTtlSeconds?: number; log?: Logger },
  ) {
    this.ttl = opts.leaseTtlSeconds ?? 15;
  }

  /**
   * Lists every entry, then watches from the revision after that list; a
   * watch whose history was compacted (or an etcd that lost it) lists again
   * and applies the difference (store/kv.ts).
   */
  async start(): Promise<void> {
    const inf = new KvInformer(this.etcd, IPCACHE_PREFIX);
    inf.on('put', (e: KvEntry) => this.apply('put', e));
    inf.on('delete', (e: KvEntry) => this.apply('delete', e));
    inf.on('error', (e: Error) => this.opts.log?.warn('ipcache watch error', { error: e.message }));
    inf.on('relisted', (n: { puts: number; deletes: number }) => this.opts.log?.info('ipcache relisted', n));
    await inf.start();
    this.informer = inf;
  }

  /** Stops watching and revokes the lease, so this node's entries go now (`revoke: false`: they live out the lease). */
  async stop(opts: { revoke?: boolean } = {}): Promise<void> {
    this.informer?.stop();
    this.informer = undefined;
    const lease = this.lease;
    this.lease = undefined;
    this.leaseId = undefined;
    // revoke: false (an agent restarting): the entries live out their lease; only the keep-alives stop.
    if (opts.revoke === false) lease?.release();
    else if (lease) await lease.revoke().catch(() => undefined);
    this.own.clear();
  }

  private apply(kind: 'put' | 'delete', kv: KvEntry): void {
    const prefix = kv.key.slice(IPCACHE_PREFIX.length);
    if (kind === 'delete') {
      const had = this.cache.get(prefix);
      if (!had) return;
      this.cache.delete(prefix);
      this.emit({ type: 'delete', entry: had });
      return;
    }
    let entry: IpcacheEntry;
    try {
      entry = parseStored(kv);
    } catch (e) {
      this.opts.log?.warn('ignoring malformed ipcache entry', { key: kv.key, error: (e as Error).message });
      return;
    }
    this.cache.set(entry.prefix, entry);
    this.emit({ type: 'upsert', entry });
  }

  private emit(e: IpcacheEvent): void {
    for (const l of this.listeners) l(e);
  }

  onChange(listener: (e: IpcacheEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every node's entries, as last seen, by prefix. */
  entries(): IpcacheEntry[] {
    return [...this.cache.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  }

  private currentLease(): Promise<string> {
    if (!this.leaseId) {
      const lease = this.etcd.lease(this.ttl, { autoKeepAlive: true });
      lease.on('lost', (err) => {
        if (this.lease !== lease) return;
        this.opts.log?.warn('ipcache lease lost; writing this node\'s entries again', { error: err.message });
        this.lease = undefined;
        this.leaseId = undefined;
        void this.rewrite();
      });
      this.lease = lease;
      this.leaseId = lease.grant();
    }
    return this.leaseId;
  }

  /** Writes (or replaces) the entry of an address this node owns. */
  async upsert(entry: IpcacheUpsert): Promise<void> {
    const e = validateEntry({ prefix: entry.prefix, identity: entry.identity, hostIP: entry.hostIP, encryptKey: 0, owner: this.opts.node, ...(entry.authRequired ? { authRequired: true } : {}) });
    const value = JSON.stringify({ identity: e.identity, hostIP: e.hostIP, encryptKey: 0, owner: this.opts.node, ...(e.authRequired ? { authRequired: true } : {}) });
    const lease = await this.currentLease();
    await this.etcd.put(ipcacheKey(e.prefix)).value(value).lease(lease).exec();
    this.own.set(e.prefix, value);
  }

  /** Deletes an entry this node wrote, only while it is still the one it wrote (another node may own the address now). */
  async delete(prefix: string): Promise<boolean> {
    const p = canonicalPrefix(prefix);
    const value = this.own.get(p);
    if (value === undefined) return false;
    this.own.delete(p);
    const tx = await this.etcd.if(ipcacheKey(p), 'Value', '==', value).then(this.etcd.delete().key(ipcacheKey(p))).commit();
    return tx.succeeded;
  }

  private async rewrite(): Promise<void> {
    for (const [prefix, value] of this.own) {
      try {
        const lease = await this.currentLease();
        await this.etcd.put(ipcacheKey(prefix)).value(value).lease(lease).exec();
      } catch (e) {
        this.opts.log?.warn('rewrite ipcache entry', { prefix, error: (e as Error).message });
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Store entries → bl_ipcache (pure)

/** A node as the ipcache needs it. */
export interface IpcacheNode {
  name: string;
  nodeIP: string;
  /** The node's pod CIDR; its first address is the node's router (gateway) address. */
  podCIDR?: string;
  /** bl_datapath_config.node_id of that node. */
  nodeId: number;
}

export interface MapEntriesInput {
  entries: readonly IpcacheEntry[];
  nodes: readonly IpcacheNode[];
  /** Name of the node whose map this is. */
  localNode: string;
  /** Node-local CIDR identities (prefix → identity) of the prefixes policies name. */
  cidrIdentities?: ReadonlyMap<string, number>;
}

/** One bl_ipcache element, in the generated codecs' shape (numbers, ip4 as host-order u32). */
export interface IpcacheMapEntry {
  key: BlIpcacheKey;
  value: BlRemoteEndpointInfo;
}

/**
 * What bl_ipcache of `localNode` should hold, in Cilium's shape:
 *   0.0.0.0/0                  reserved:world (2): IPv4-only clusters use world, not world-ipv4
 *   remote pod CIDR            world (2), tunnel endpoint = that node's IP: an address the
 *                              store does not know yet still goes to the right node
 *   node IPs                   host (1) for this node, remote-node (6) for the others
 *   router IPs                 likewise; a remote one behind its node's tunnel endpoint
 *   store entries              their identity; tunnel endpoint = hostIP when that is
 *                              another node, node_id of that node; flags
 *                              BL_IPCACHE_F_AUTH_REQUIRED when authRequired (a
 *                              local pod's too: its local clients need it)
 * Where several give one prefix, the later line wins (a store entry over
 * everything). Sorted longest prefix first, then by address.
 */
export function toMapEntries(input: MapEntriesInput): IpcacheMapEntry[] {
  const local = input.nodes.find((n) => n.name === input.localNode);
  const localIP = local ? tryParseIPv4(local.nodeIP) : undefined;
  const nodeByIP = new Map<number, IpcacheNode>();
  for (const n of input.nodes) {
    const ip = tryParseIPv4(n.nodeIP);
    if (ip === undefined) throw new IpcacheInvalidError(`ipcache: node ${n.name} has nodeIP '${n.nodeIP}', not an IPv4 address`);
    nodeByIP.set(ip, n);
  }
  const out = new Map<string, IpcacheMapEntry>();
  const put = (c: Cidr4, identity: number, tunnel: number, nodeId: number, flags = 0) =>
    out.set(`${c.base}/${c.prefix}`, {
      key: { prefixlen: c.prefix, ip4: c.base },
      value: { sec_identity: identity, tunnel_endpoint: tunnel, node_id: nodeId, flags },
    });

  put(parsePrefix('0.0.0.0/0'), ReservedIdentity.world, 0, 0);
  // CIDR identities of prefixes policies name: under everything else, so a
  // node, a pod CIDR or a pod with the same prefix keeps its own.
  for (const [prefix, id] of input.cidrIdentities ?? []) put(parsePrefix(prefix), id, 0, 0);
  for (const n of input.nodes) {
    if (n.name === input.localNode || !n.podCIDR) continue;
    put(parsePrefix(n.podCIDR), ReservedIdentity.world, parsePrefix(n.nodeIP).base, n.nodeId);
  }
  for (const n of input.nodes) {
    const isLocal = n.name === input.localNode;
    const ip = parsePrefix(n.nodeIP);
    put(ip, isLocal ? ReservedIdentity.host : ReservedIdentity['remote-node'], 0, isLocal ? 0 : n.nodeId);
    if (n.podCIDR) {
      const router = parsePrefix(formatIPv4(parsePrefix(n.podCIDR).base + 1));
      if (isLocal) put(router, ReservedIdentity.host, 0, 0);
      else put(router, ReservedIdentity['remote-node'], ip.base, n.nodeId);
    }
  }
  for (const raw of input.entries) {
    const e = validateEntry(raw);
    const host = e.hostIP === '' ? undefined : tryParseIPv4(e.hostIP);
    const remote = host !== undefined && host !== localIP;
    put(parsePrefix(e.prefix), e.identity, remote ? host : 0, remote ? (nodeByIP.get(host)?.nodeId ?? 0) : 0, e.authRequired ? BlIpcacheFlags.BL_IPCACHE_F_AUTH_REQUIRED : 0);
  }
  return [...out.values()].sort((a, b) => b.key.prefixlen - a.key.prefixlen || a.key.ip4 - b.key.ip4);
}

/** The network mask of a prefix length as an unsigned number. */
const mask = (len: number) => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

/**
 * Longest-prefix match as the kernel's LPM trie does it for a lookup key
 * { 32, addr }: among the elements whose first `prefixlen` bits equal the
 * address's (bits of the stored ip4 past prefixlen are ignored), the one
 * with the longest prefixlen.
 */
export function lpmLookup(entries: readonly IpcacheMapEntry[], addr: number | string): IpcacheMapEntry | undefined {
  const ip = typeof addr === 'string' ? parsePrefix(addr).base : addr >>> 0;
  let best: IpcacheMapEntry | undefined;
  for (const e of entries) {
    const m = mask(e.key.prefixlen);
    if (((ip & m) >>> 0) !== ((e.key.ip4 & m) >>> 0)) continue;
    if (!best || e.key.prefixlen > best.key.prefixlen) best = e;
  }
  return best;
}

/** What to write and delete to turn a map holding `current` into `desired` (keys compared by prefix). */
export function diffMapEntries(current: readonly IpcacheMapEntry[], desired: readonly IpcacheMapEntry[]): { upserts: IpcacheMapEntry[]; deletes: BlIpcacheKey[] } {
  const k = (key: BlIpcacheKey) => `${(key.ip4 & mask(key.prefixlen)) >>> 0}/${key.prefixlen}`;
  const same = (a: BlRemoteEndpointInfo, b: BlRemoteEndpointInfo) =>
    a.sec_identity === b.sec_identity && a.tunnel_endpoint === b.tunnel_endpoint && a.node_id === b.node_id && a.flags === b.flags;
  const cur = new Map(current.map((e) => [k(e.key), e]));
  const want = new Set(desired.map((e) => k(e.key)));
  const upserts = desired.filter((e) => {
    const c = cur.get(k(e.key));
    return !c || !same(c.value, e.value);
  });
  const deletes = current.filter((e) => !want.has(k(e.key))).map((e) => e.key);
  return { upserts, deletes };
}

/** A map entry as `cilium bpf ipcache list` prints it: `10.0.1.0/24  identity=2 encryptkey=0 tunnelendpoint=172.18.0.12`. */
export function formatMapEntry(e: IpcacheMapEntry): string {
  return `${formatIPv4(e.key.ip4)}/${e.key.prefixlen}`.padEnd(20) + ` identity=${e.value.sec_identity} encryptkey=0 tunnelendpoint=${formatIPv4(e.value.tunnel_endpoint)} nodeid=${e.value.node_id}` +
    (e.value.flags & BlIpcacheFlags.BL_IPCACHE_F_AUTH_REQUIRED ? ' flags=auth-required' : '');
}
