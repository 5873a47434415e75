/**
 * The datapath's policy lookup, in TypeScript, over the entries the engine
 * emits; and the key order and diff the agent uses to write them. This is the
 * single definition of what an entry means: `beeline policy trace` and the
 * tests decide verdicts with it, never with the rules directly.
 *
 * Lookup (per endpoint, per direction, as bpf/include/lib/policy.h does):
 *   e1 = most specific entry for the peer identity (skipped for identity 0),
 *   e2 = most specific entry for identity 0 (any);
 *   deny in e1/e2 → drop 181; else allow in e1/e2 → pass; else drop 133;
 *   a pass is authRequired when the allow, or an allow e2 (peer not host),
 *   requires mutual authentication (the datapath drops it with 189 unless
 *   it came through the node proxy's mTLS side).
 * "Most specific": a set protocol beats protocol 0, then a longer port prefix.
 * Deny precedence within one identity is materialised by the engine (an
 * allow covered by a deny of the same identity is emitted as deny), because
 * the trie only returns the most specific entry.
 */
import type { Direction, PolicyMapEntry } from './types.js';
import { ReservedIdentity } from '../identity/reserved.js';

/** Cilium drop reasons (bpf/include/abi): policy deny, and no allow in default deny. */
export const DROP_POLICY_DENY = 181;
export const DROP_POLICY = 133;

/** Cilium's policy-verdict match types. */
export type MatchType = 'L3-Only' | 'L3-L4' | 'L4-Only' | 'all' | 'none';

export interface LookupResult {
  allowed: boolean;
  /** 181 (explicit deny), 133 (default deny), undefined when allowed. */
  dropReason: number | undefined;
  match: MatchType;
  /** The deciding entry: the deny, the allow, or the default-deny entry; undefined when none. */
  entry: PolicyMapEntry | undefined;
  /**
   * Allowed only mutually authenticated (the datapath's rule, lib/policy.h):
   * the deciding allow requires it, or the any-identity allow does and the
   * peer is not the host. Otherwise absent.
   */
  authRequired?: true;
}

/** First `len` bits of a 16-bit port. */
export function portPrefix(port: number, len: number): number {
  return len === 0 ? 0 : (port >>> (16 - len)) << (16 - len);
}

/** True when the entry's key matches (protocol, port). */
export function entryMatches(e: PolicyMapEntry, protocol: number, port: number): boolean {
  if (e.protocol === 0) return true;
  return e.protocol === protocol && portPrefix(port, e.portPrefixLen) === portPrefix(e.port, e.portPrefixLen);
}

/** Specificity in the trie: protocol set (16+1 bits more), then port prefix length. */
function specificity(e: PolicyMapEntry): number {
  return e.protocol === 0 ? 0 : 1 + e.portPrefixLen;
}

function longestMatch(entries: readonly PolicyMapEntry[], direction: Direction, identity: number, protocol: number, port: number): PolicyMapEntry | undefined {
  let best: PolicyMapEntry | undefined;
  for (const e of entries) {
    if (e.direction !== direction || e.identity !== identity || !entryMatches(e, protocol, port)) continue;
    if (!best || specificity(e) > specificity(best)) best = e;
  }
  return best;
}

/**
 * True when the endpoint's entries enforce this direction: an enforced
 * direction always has an entry on the (identity 0, protocol 0) key (the
 * default-deny entry, or the allow/deny that took its key), a direction that
 * is not enforced has none at all.
 */
export function directionEnforced(entries: readonly PolicyMapEntry[], direction: Direction): boolean {
  return entries.some((e) => e.direction === direction);
}

/**
 * The datapath's verdict for a packet of `protocol`/`port` from/to a peer of
 * `identity`. `enforced` defaults to directionEnforced(entries, direction);
 * a direction that is not enforced is not looked up.
 */
export function lookupPolicy(
  entries: readonly PolicyMapEntry[], direction: Direction, identity: number, protocol: number, port: number,
  enforced = directionEnforced(entries, direction),
): LookupResult {
  if (!enforced) return { allowed: true, dropReason: undefined, match: 'none', entry: undefined };
  const e1 = identity === 0 ? undefined : longestMatch(entries, direction, identity, protocol, port);
  const e2 = longestMatch(entries, direction, 0, protocol, port);
  if (e1?.verdict === 'deny') return { allowed: false, dropReason: DROP_POLICY_DENY, match: matchType(e1), entry: e1 };
  if (e2?.verdict === 'deny') return { allowed: false, dropReason: DROP_POLICY_DENY, match: matchType(e2), entry: e2 };
  const allow = e1?.verdict === 'allow' ? e1 : e2?.verdict === 'allow' ? e2 : undefined;
  if (allow) {
    const auth = allow.authRequired === true || (e2?.verdict === 'allow' && e2.authRequired === true && identity !== ReservedIdentity.host);
    return { allowed: true, dropReason: undefined, match: matchType(allow), entry: allow, ...(auth ? { authRequired: true as const } : {}) };
  }
  return { allowed: false, dropReason: DROP_POLICY, match: 'none', entry: e2?.verdict === 'default-deny' ? e2 : undefined };
}

function matchType(e: PolicyMapEntry): MatchType {
  if (e.identity !== 0) return e.protocol === 0 ? 'L3-Only' : 'L3-L4';
  return e.protocol === 0 ? 'all' : 'L4-Only';
}

/** The map key of an entry as text: `direction/identity/protocol/port/len`. */
export function entryKey(e: Pick<PolicyMapEntry, 'direction' | 'identity' | 'protocol' | 'port' | 'portPrefixLen'>): string {
  return `${e.direction}/${e.identity}/${e.protocol}/${e.port}/${e.portPrefixLen}`;
}

/** Deterministic order: direction (egress, ingress), identity, protocol, port, prefix length. */
export function compareEntries(a: PolicyMapEntry, b: PolicyMapEntry): number {
  if (a.direction !== b.direction) return a.direction < b.direction ? -1 : 1;
  return a.identity - b.identity || a.protocol - b.protocol || a.port - b.port || a.portPrefixLen - b.portPrefixLen;
}

/** True when two entries of one key hold the same map value (verdict, cookie, proxy port, auth). */
export function sameEntryValue(a: PolicyMapEntry, b: PolicyMapEntry): boolean {
  return a.verdict === b.verdict && a.cookie === b.cookie && (a.proxyPort ?? 0) === (b.proxyPort ?? 0) && (a.authRequired === true) === (b.authRequired === true);
}

/** What to write and delete to turn `old` into `next`, by key; an entry whose verdict, cookie, proxy port or auth changed is an upsert. */
export function diffEntries(old: readonly PolicyMapEntry[], next: readonly PolicyMapEntry[]): { upserts: PolicyMapEntry[]; deletes: PolicyMapEntry[] } {
  const before = new Map(old.map((e) => [entryKey(e), e]));
  const after = new Map(next.map((e) => [entryKey(e), e]));
  const upserts: PolicyMapEntry[] = [];
  const deletes: PolicyMapEntry[] = [];
  for (const [k, e] of after) {
    const o = before.get(k);
    if (!o || !sameEntryValue(o, e)) upserts.push(e);
  }
  for (const [k, e] of before) if (!after.has(k)) deletes.push(e);
  return { upserts: upserts.sort(compareEntries), deletes: deletes.sort(compareEntries) };
}
