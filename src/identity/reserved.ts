/**
 * Numeric security identities as Cilium numbers them (pkg/identity/numericidentity.go):
 *
 *   0                     unknown / invalid (the datapath's "any" in policy maps)
 *   1-10                  reserved: host, world, unmanaged, health, init, remote-node,
 *                         kube-apiserver, ingress, world-ipv4, world-ipv6
 *   128-255               reserved for users (not handed out)
 *   256-65535             cluster scope: allocated cluster-wide through the store
 *                         (cluster id 0: up to (1<<16)*(0+1)-1)
 *   (1<<24)|1 …           local scope: CIDR identities, allocated per node, never
 *   (1<<24)|0xFFFFFF        leave it (so different nodes may number a prefix differently)
 *
 * Plus the labels of each reserved identity and of CIDR identities.
 */
import { IdentityExhaustedError, IdentityInvalidError } from '../common/errors.js';
import { cidrOf, parseHostOrCidr, type Cidr4 } from '../ipam/cidr.js';
import { canonicalLabels, LabelSource, labelSetKey, type Label, type LabelSet } from './labels.js';

/** Cilium's reserved identities (IdentityUnknown = 0 and then iota). */
export const ReservedIdentity = {
  host: 1,
  world: 2,
  unmanaged: 3,
  health: 4,
  init: 5,
  'remote-node': 6,
  'kube-apiserver': 7,
  ingress: 8,
  'world-ipv4': 9,
  'world-ipv6': 10,
} as const;
export type ReservedIdentityName = keyof typeof ReservedIdentity;

/** Not an identity: "not known yet"; in policy maps the wildcard. */
export const IDENTITY_UNKNOWN = 0;
/** First id users may reserve for themselves (UserReservedNumericIdentity). */
export const USER_RESERVED_MIN = 128;
/** First id the cluster allocator hands out (MinimalNumericIdentity). */
export const CLUSTER_IDENTITY_MIN = 256;
/** Last cluster-scope id for cluster id 0: (1 << ClusterIDShift) * (0 + 1) - 1. */
export const CLUSTER_IDENTITY_MAX = (1 << 16) - 1;
/** LocalIdentityFlag: the bit that marks a node-local (CIDR) identity. */
export const LOCAL_IDENTITY_FLAG = 1 << 24;
/** Local ids are LOCAL_IDENTITY_FLAG | n, n from 1 (MinAllocatorLocalIdentity) to 0xFFFFFF. */
export const LOCAL_IDENTITY_MIN = LOCAL_IDENTITY_FLAG | 1;
export const LOCAL_IDENTITY_MAX = LOCAL_IDENTITY_FLAG | 0xffffff;

/** A numeric identity and its labels. */
export interface Identity {
  id: number;
  labels: LabelSet;
}

const reserved = (name: string): Label => ({ source: LabelSource.reserved, key: name, value: '' });

/**
 * Labels of each reserved identity (reservedIdentityLabels): `reserved:<name>`;
 * kube-apiserver also carries `reserved:remote-node`, since the API server
 * runs on (remote) nodes.
 */
export const RESERVED_IDENTITIES: readonly Identity[] = (Object.entries(ReservedIdentity) as [ReservedIdentityName, number][]).map(
  ([name, id]) => ({
    id,
    labels: canonicalLabels(name === 'kube-apiserver' ? [reserved(name), reserved('remote-node')] : [reserved(name)]),
  }),
);

const RESERVED_BY_ID = new Map(RESERVED_IDENTITIES.map((i) => [i.id, i]));
const RESERVED_BY_KEY = new Map(RESERVED_IDENTITIES.map((i) => [labelSetKey(i.labels), i]));

/** The reserved identity with that number, if it is one. */
export function reservedIdentity(id: number): Identity | undefined {
  return RESERVED_BY_ID.get(id);
}

/** The reserved identity whose label set is exactly `labels`, if any. */
export function reservedIdentityByLabels(labels: Iterable<Label | string>): Identity | undefined {
  return RESERVED_BY_KEY.get(labelSetKey(labels));
}

/** Which range a number falls in. */
export type IdentityScope = 'unknown' | 'reserved' | 'user-reserved' | 'cluster' | 'local' | 'invalid';

export function identityScope(id: number): IdentityScope {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) return 'invalid';
  if (id === IDENTITY_UNKNOWN) return 'unknown';
  if (RESERVED_BY_ID.has(id)) return 'reserved';
  if (id >= USER_RESERVED_MIN && id < CLUSTER_IDENTITY_MIN) return 'user-reserved';
  if (id >= CLUSTER_IDENTITY_MIN && id <= CLUSTER_IDENTITY_MAX) return 'cluster';
  if (id >= LOCAL_IDENTITY_MIN && id <= LOCAL_IDENTITY_MAX) return 'local';
  return 'invalid';
}

// ---------------------------------------------------------------------------
// CIDR identities

/**
 * The labels of a CIDR identity. Today's Cilium (pkg/labels/cidr.go
 * GetCIDRLabels) gives a prefix `cidr:<prefix>` plus `reserved:world`
 * (IPv4-only clusters; dual-stack ones use `reserved:world-ipv4`) and
 * leaves containment to the selectors; before 1.15 it added every covering
 * prefix down to /0 (`cidr:10.0.0.0/8`, `cidr:10.0.0.0/7`, … `cidr:0.0.0.0/0`).
 * `covering: true` gives that older form, for selectors that match one
 * label exactly. A /0 is just `reserved:world`.
 */
export function cidrLabels(prefix: string, opts: { covering?: boolean } = {}): LabelSet {
  const c = parseCidrText(prefix);
  const out: Label[] = [reserved('world')];
  if (c.prefix > 0) {
    const from = opts.covering ? 0 : c.prefix;
    for (let len = from; len <= c.prefix; len++) out.push({ source: LabelSource.cidr, key: cidrOf(c.base, len).text, value: '' });
  }
  return canonicalLabels(out);
}


/** `10.0.0.5` → /32; `10.0.0.0/8` as is; host bits refused. */
function parseCidrText(text: string): Cidr4 {
  try {
    return parseHostOrCidr(text, 'CIDR identity prefix');
  } catch (e) {
    throw new IdentityInvalidError((e as Error).message);
  }
}

/**
 * The node-local allocator of CIDR identities (Cilium's localIdentityCache):
 * LOCAL_IDENTITY_FLAG | n, n the lowest free number from 1, reference
 * counted; a released number is free for the next prefix. Pure, in memory:
 * local identities never leave the node, so nothing is stored.
 * 0.0.0.0/0 is not a CIDR identity but reserved:world (2).
 */
export class LocalIdentityAllocator {
  private readonly byKey = new Map<string, { id: number; labels: LabelSet; refs: number }>();
  private readonly byId = new Map<number, string>();
  /** Every number below this one is in use: the search for the lowest free one starts here (a scan from the bottom made 10k prefixes quadratic). */
  private lowestFree = LOCAL_IDENTITY_MIN;

  /** The identity of a prefix, allocating one (or taking a reference) as needed. */
  allocateCidr(prefix: string, opts: { covering?: boolean } = {}): Identity {
    const labels = cidrLabels(prefix, opts);
    if (labels.length === 1) return { id: ReservedIdentity.world, labels };
    return this.allocate(labels);
  }

  /** The identity of any node-local label set. */
  allocate(labels: LabelSet): Identity {
    const key = labelSetKey(labels);
    const have = this.byKey.get(key);
    if (have) {
      have.refs++;
      return { id: have.id, labels: have.labels };
    }
    let id = this.lowestFree;
    while (this.byId.has(id) && id <= LOCAL_IDENTITY_MAX) id++;
    if (id > LOCAL_IDENTITY_MAX) throw new IdentityExhaustedError(`allocate local identity for ${key}: all ${0xffffff} local identities are in use`);
    this.byKey.set(key, { id, labels, refs: 1 });
    this.byId.set(id, key);
    this.lowestFree = id + 1;
    return { id, labels };
  }

  /** Drops one reference; returns true when the identity was freed. */
  releaseCidr(prefix: string, opts: { covering?: boolean } = {}): boolean {
    return this.release(cidrLabels(prefix, opts));
  }

  release(labels: LabelSet): boolean {
    const key = labelSetKey(labels);
    const have = this.byKey.get(key);
    if (!have) return false;
    if (--have.refs > 0) return false;
    this.byKey.delete(key);
    this.byId.delete(have.id);
    if (have.id < this.lowestFree) this.lowestFree = have.id;
    return true;
  }

  lookup(id: number): Identity | undefined {
    const key = this.byId.get(id);
    const have = key === undefined ? undefined : this.byKey.get(key);
    return have && { id: have.id, labels: have.labels };
  }

  list(): Identity[] {
    return [...this.byKey.values()].map((v) => ({ id: v.id, labels: v.labels })).sort((a, b) => a.id - b.id);
  }
}
