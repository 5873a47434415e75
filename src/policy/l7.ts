/**
 * L7 redirects: which allow entries of an endpoint send their traffic to the
 * node proxy, and which HTTP rules the proxy enforces there (Cilium's
 * semantics). Runs after the entries are resolved (deny precedence
 * materialised), over the allow contributions that made them; the
 * from-scratch and the incremental computation both end here.
 *
 *  - A redirect port: a TCP port key (one port, or an endPort range as its
 *    aligned prefix) on which an allow rule selecting the endpoint has HTTP
 *    rules (for any peer), or a port of the endpoint's proxy-visibility
 *    annotation (which allows nothing by itself).
 *  - Every allow entry of that direction on a redirect key, or inside one,
 *    redirects (proxyPort = the direction's listener): the peers allowed
 *    there by rules without HTTP rules too; they allow every request
 *    (Cilium wildcards L3 and L4 allows at L7 on a port with L7 rules).
 *  - A peer identity whose most specific entry covering a redirect key is a
 *    broader allow (L3-only, all TCP ports, a wider range, identity 0's
 *    allow-all) gets an allow entry of its own on that key with the
 *    redirect (materialised, the broader entry's cookie): the datapath's
 *    lookup returns the most specific entry per identity, so without it that
 *    peer would bypass the proxy (as Cilium's MapState adds L3L4 redirect
 *    entries where L3-only allows meet an L4 redirect).
 *  - Denies win: a peer whose most specific covering entry is a deny, or any
 *    peer when identity 0 denies the port, gets no redirect.
 *  - Sources of a redirect (identity I, key K): one per policy with an allow
 *    contribution of I (and, for I ≠ 0, of identity 0) on K or a broader
 *    key; its HTTP rules on K, or `[]` when any of its contributions has
 *    none.
 */
import type { HttpRuleSource, HttpRuleSpec } from '../l7/http/rules.js';
import { originText } from './cookies.js';
import { entryKey, portPrefix } from './lookup.js';
import { Proto, type Direction, type L7Redirect, type Origin, type PolicyMapEntry } from './types.js';

/** A protocol/port key as the engine's entries have it (protocol 0: any, then port and length 0). */
export interface L7PortKey {
  protocol: number;
  port: number;
  portPrefixLen: number;
}

/** Calls `fn` for every allow contribution: direction, peer identity, port key, origin, HTTP rules (undefined: none). */
export type AllowWalker = (fn: (direction: Direction, identity: number, k: L7PortKey, origin: Origin, http: readonly HttpRuleSpec[] | undefined) => void) => void;

/** The resolved entries of one endpoint by (direction, identity). */
export type EntryGroups = (direction: Direction) => ReadonlyMap<number, readonly PolicyMapEntry[]>;

/** What the redirects make of an endpoint's entries. */
export interface L7Result {
  /** Entries that differ from the resolved ones, by entryKey: existing allows with proxyPort set, and materialised ones. */
  overlay: Map<string, PolicyMapEntry>;
  l7: L7Redirect[];
}

/** True when key `d` is the same as or broader than key `a` (any protocol covers all). */
export function keyCovers(d: L7PortKey, a: L7PortKey): boolean {
  if (d.protocol === 0) return true;
  if (d.protocol !== a.protocol) return false;
  return d.portPrefixLen <= a.portPrefixLen && portPrefix(a.port, d.portPrefixLen) === portPrefix(d.port, d.portPrefixLen);
}

function specificity(e: L7PortKey): number {
  return e.protocol === 0 ? 0 : 1 + e.portPrefixLen;
}

/** The most specific entry of a group covering key `k`. */
function covering(entries: readonly PolicyMapEntry[] | undefined, k: L7PortKey): PolicyMapEntry | undefined {
  let best: PolicyMapEntry | undefined;
  if (entries) for (const e of entries) if (keyCovers(e, k) && (!best || specificity(e) > specificity(best))) best = e;
  return best;
}

const sameKey = (a: L7PortKey, b: L7PortKey) => a.protocol === b.protocol && a.port === b.port && a.portPrefixLen === b.portPrefixLen;

interface Contrib {
  k: L7PortKey;
  origin: Origin;
  http: readonly HttpRuleSpec[] | undefined;
}

/**
 * The redirects of one endpoint. `proxyPorts` absent: none. `walk` gives the
 * allow contributions, `groups` the resolved entries (proxyPort 0),
 * `visibility` redirect keys of the proxy-visibility annotation (TCP ports
 * redirected although no rule has HTTP rules there: their peers get the
 * sources of the policies allowing them, `rules: []` without HTTP rules).
 */
export function computeRedirects(
  proxyPorts: { ingress?: number; egress?: number } | undefined, walk: AllowWalker, groups: EntryGroups,
  visibility?: Partial<Record<Direction, readonly L7PortKey[]>>,
): L7Result {
  const overlay = new Map<string, PolicyMapEntry>();
  const l7: L7Redirect[] = [];
  if (!proxyPorts) return { overlay, l7 };
  // 1. Redirect keys per direction: the visibility ports (they allow nothing themselves), and ports with HTTP rules.
  const redirectKeys: Record<Direction, L7PortKey[]> = { ingress: [], egress: [] };
  for (const dir of ['ingress', 'egress'] as const) for (const k of visibility?.[dir] ?? []) if (!redirectKeys[dir].some((r) => sameKey(r, k))) redirectKeys[dir].push({ ...k });
  walk((dir, _id, k, _o, http) => {
    if (http && k.protocol === Proto.tcp && !redirectKeys[dir].some((r) => sameKey(r, k))) redirectKeys[dir].push({ ...k });
  });
  if (redirectKeys.ingress.length === 0 && redirectKeys.egress.length === 0) return { overlay, l7 };
  // 2. The allow contributions that overlap a redirect key (the only ones a source can come from).
  const contribs: Record<Direction, Map<number, Contrib[]>> = { ingress: new Map(), egress: new Map() };
  walk((dir, id, k, origin, http) => {
    if (k.protocol !== 0 && k.protocol !== Proto.tcp) return;
    if (!redirectKeys[dir].some((r) => keyCovers(k, r) || keyCovers(r, k))) return;
    let list = contribs[dir].get(id);
    if (!list) contribs[dir].set(id, (list = []));
    list.push({ k, origin, http });
  });
  for (const dir of ['egress', 'ingress'] as const) {
    const keys = redirectKeys[dir];
    const proxyPort = proxyPorts[dir];
    if (keys.length === 0 || proxyPort === undefined) continue;
    const byId = groups(dir);
    const any = byId.get(0);
    // Redirect targets per identity: key and the entry written there.
    const targets: { identity: number; k: L7PortKey; entry: PolicyMapEntry }[] = [];
    const ids = [...new Set([0, ...byId.keys()])].sort((a, b) => a - b);
    for (const id of ids) {
      const entries = byId.get(id) ?? [];
      const taken = new Set<string>();
      const target = (k: L7PortKey, base: PolicyMapEntry) => {
        const key = entryKey({ direction: dir, identity: id, ...k });
        if (taken.has(key)) return;
        // Denies win: identity 0's deny covering the key drops every peer before any redirect matters.
        const e2 = covering(any, k);
        if (e2?.verdict === 'deny') return;
        taken.add(key);
        targets.push({ identity: id, k, entry: { direction: dir, identity: id, protocol: k.protocol, port: k.port, portPrefixLen: k.portPrefixLen, verdict: 'allow', cookie: base.cookie, proxyPort } });
      };
      // Its own allow entries on or inside a redirect key.
      for (const e of entries) if (e.verdict === 'allow' && e.protocol === Proto.tcp && keys.some((r) => keyCovers(r, e))) target(e, e);
      // A redirect key it reaches through a broader allow only: materialised.
      for (const r of keys) {
        if (entries.some((e) => sameKey(e, r))) continue;
        const c = covering(entries, r);
        if (c?.verdict === 'allow') target(r, c);
      }
    }
    for (const t of targets) {
      overlay.set(entryKey(t.entry), t.entry);
      const sources = new Map<string, { origin: Origin; plain: boolean; rules: Map<string, HttpRuleSpec> }>();
      const add = (c: Contrib) => {
        if (!keyCovers(c.k, t.k)) return;
        const name = originText(c.origin);
        let s = sources.get(name);
        if (!s) sources.set(name, (s = { origin: c.origin, plain: false, rules: new Map() }));
        if (!c.http) s.plain = true;
        else for (const r of c.http) s.rules.set(JSON.stringify(r), r);
      };
      for (const c of contribs[dir].get(t.identity) ?? []) add(c);
      if (t.identity !== 0) for (const c of contribs[dir].get(0) ?? []) add(c);
      const http: HttpRuleSource[] = [...sources.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([, s]) => ({ origin: s.origin, rules: s.plain ? [] : [...s.rules.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, r]) => r) }));
      l7.push({ direction: dir, port: t.k.port, portPrefixLen: t.k.portPrefixLen, identity: t.identity, parser: 'http', proxyPort, http });
    }
  }
  l7.sort((a, b) => (a.direction !== b.direction ? (a.direction < b.direction ? -1 : 1) : a.port - b.port || a.portPrefixLen - b.portPrefixLen || a.identity - b.identity));
  return { overlay, l7 };
}
