/**
 * Cluster-pool IPAM (Cilium's `cluster-pool` mode): one cluster CIDR, e.g.
 * 10.0.0.0/16, split into per-node CIDRs of a mask size, e.g. /24. A node
 * claims one in the store and keeps it across restarts.
 *
 * Keys (etcd):
 *   /beeline/v1/ipam/podcidrs/10.0.1.0_24 = node1   who owns a CIDR (the claim)
 *   /beeline/v1/ipam/nodes/node1          = 10.0.1.0/24   the node's index entry
 *
 * Both are written in one transaction that succeeds only if neither key
 * exists, so two nodes racing for the same CIDR cannot both get it, and one
 * node racing with itself (two agents, a restart) cannot claim two.
 */
import type { Etcd3 } from 'etcd3';
import { ClusterPoolExhaustedError, IpamConflictError, IpamInvalidError } from '../common/errors.js';
import { formatIPv4, parseCidr, type Cidr4 } from './cidr.js';

export const PODCIDRS_PREFIX = '/beeline/v1/ipam/podcidrs/';
export const NODE_CIDRS_PREFIX = '/beeline/v1/ipam/nodes/';

/** `10.0.1.0/24` → `/beeline/v1/ipam/podcidrs/10.0.1.0_24` */
export const podCIDRKey = (cidr: string) => PODCIDRS_PREFIX + cidr.replace('/', '_');
export const nodeCIDRKey = (node: string) => NODE_CIDRS_PREFIX + node;

/** Kubernetes node names: DNS subdomains (lower-case, digits, `-` and `.`), at most 253 characters. */
const NODE_NAME_RE = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

function checkNodeName(node: string): void {
  if (!NODE_NAME_RE.test(node)) {
    throw new IpamInvalidError(`cluster pool: node name '${node}' is invalid`, 'use a DNS subdomain: lower-case letters, digits, - and .');
  }
}

/** The per-node CIDRs of a cluster pool, in order. */
export interface ClusterPool {
  cluster: Cidr4;
  maskSize: number;
  count: number;
  /** The i-th per-node CIDR, canonical text. */
  at(i: number): string;
}

/** Splits `clusterCIDR` into /maskSize blocks (validated; pure). */
export function clusterPool(clusterCIDR: string, maskSize: number): ClusterPool {
  const cluster = parseCidr(clusterCIDR, 'cluster pool CIDR');
  if (!Number.isInteger(maskSize) || maskSize < cluster.prefix || maskSize > 30) {
    throw new IpamInvalidError(
      `cluster pool ${cluster.text}: mask size ${maskSize} is invalid`,
      `it must be a whole number from ${cluster.prefix} (the pool's own prefix) to 30`,
    );
  }
  const blockSize = 2 ** (32 - maskSize);
  return {
    cluster,
    maskSize,
    count: 2 ** (maskSize - cluster.prefix),
    at: (i: number) => `${formatIPv4(cluster.base + i * blockSize)}/${maskSize}`,
  };
}

export interface ClaimOptions {
  /** A CIDR to claim when it is free (e.g. one given in the node's configuration); else the first free one. */
  preferred?: string;
}

/**
 * The pod CIDR of `node`: the one it already owns (it survives restarts), else
 * a newly claimed free one. Throws ClusterPoolExhaustedError when every CIDR is
 * owned by some node, IpamConflictError when the node's index and the claim
 * disagree (the store was edited by hand).
 */
export async function claimNodeCIDR(etcd: Etcd3, node: string, clusterCIDR: string, maskSize: number, opts: ClaimOptions = {}): Promise<string> {
  checkNodeName(node);
  const pool = clusterPool(clusterCIDR, maskSize);
  const owned = await ownedCIDR(etcd, node, pool);
  if (owned) return owned;

  const taken = new Set(await etcd.getAll().prefix(PODCIDRS_PREFIX).keys());
  const candidates: string[] = [];
  if (opts.preferred !== undefined) {
    const p = parseCidr(opts.preferred, 'preferred pod CIDR');
    if (p.prefix !== maskSize || p.base < pool.cluster.base || p.base >= pool.cluster.base + pool.cluster.size) {
      throw new IpamInvalidError(`claim pod CIDR for ${node}: preferred ${p.text} is not a /${maskSize} of the cluster pool ${pool.cluster.text}`);
    }
    candidates.push(p.text);
  }
  for (let i = 0; i < pool.count; i++) {
    const c = pool.at(i);
    if (c !== candidates[0]) candidates.push(c);
  }
  for (const cidr of candidates) {
    if (taken.has(podCIDRKey(cidr))) continue;
    const tx = await etcd
      .if(podCIDRKey(cidr), 'Create', '==', 0)
      .and(nodeCIDRKey(node), 'Create', '==', 0)
      .then(etcd.put(podCIDRKey(cidr)).value(node), etcd.put(nodeCIDRKey(node)).value(cidr))
      .commit();
    if (tx.succeeded) return cidr;
    // Lost a race: either for this CIDR (try the next) or for this node (another claimer won it for us).
    const mine = await ownedCIDR(etcd, node, pool);
    if (mine) return mine;
  }
  const used = (await etcd.getAll().prefix(PODCIDRS_PREFIX).keys()).length;
  throw new ClusterPoolExhaustedError(
    `claim pod CIDR for ${node}: cluster pool ${pool.cluster.text} is exhausted: ${used} of ${pool.count} /${maskSize} CIDRs are claimed`,
  );
}

/** The node's CIDR according to its index entry, checked against the claim it points to. */
async function ownedCIDR(etcd: Etcd3, node: string, pool: ClusterPool): Promise<string | undefined> {
  const cidr = await etcd.get(nodeCIDRKey(node)).string();
  if (cidr === null) return undefined;
  const holder = await etcd.get(podCIDRKey(cidr)).string();
  if (holder !== node) {
    throw new IpamConflictError(
      `claim pod CIDR for ${node}: the store says the node owns ${cidr} but that CIDR is ${holder === null ? 'unclaimed' : `claimed by ${holder}`}`,
      `repair the store: etcdctl del ${nodeCIDRKey(node)} (the node then claims again)`,
    );
  }
  const c = parseCidr(cidr, 'stored pod CIDR');
  if (c.prefix !== pool.maskSize || c.base < pool.cluster.base || c.base >= pool.cluster.base + pool.cluster.size) {
    throw new IpamConflictError(
      `claim pod CIDR for ${node}: the node owns ${cidr}, which is not a /${pool.maskSize} of the cluster pool ${pool.cluster.text}`,
      `the cluster pool changed; release the node's CIDR (releaseNodeCIDR, or etcdctl del ${nodeCIDRKey(node)} ${podCIDRKey(cidr)})`,
    );
  }
  return cidr;
}

/** Gives back the node's CIDR (the node left the cluster). Idempotent; returns the CIDR released, if any. */
export async function releaseNodeCIDR(etcd: Etcd3, node: string): Promise<string | undefined> {
  checkNodeName(node);
  const cidr = await etcd.get(nodeCIDRKey(node)).string();
  if (cidr === null) return undefined;
  // Delete the claim only while it is still ours and the index still points at it.
  const tx = await etcd
    .if(nodeCIDRKey(node), 'Value', '==', cidr)
    .and(podCIDRKey(cidr), 'Value', '==', node)
    .then(etcd.delete().key(podCIDRKey(cidr)), etcd.delete().key(nodeCIDRKey(node)))
    .commit();
  if (!tx.succeeded) {
    // The claim belongs to someone else (a hand-edited store): drop only our dangling index entry.
    await etcd.if(nodeCIDRKey(node), 'Value', '==', cidr).then(etcd.delete().key(nodeCIDRKey(node))).commit();
  }
  return cidr;
}

/** Every node's claimed CIDR, node → CIDR. */
export async function listNodeCIDRs(etcd: Etcd3): Promise<Record<string, string>> {
  const claims = await etcd.getAll().prefix(PODCIDRS_PREFIX).strings();
  const out: Record<string, string> = {};
  for (const [key, node] of Object.entries(claims)) out[node] = key.slice(PODCIDRS_PREFIX.length).replace('_', '/');
  return out;
}
