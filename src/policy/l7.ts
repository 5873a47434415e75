/**
 * L7 redirects: which allow entries of an endpoint send their traffic to the
 * node proxy, and which HTTP, DNS or Kafka rules the proxy enforces there
 * (Cilium's semantics). Runs after the entries are resolved (deny precedence
 * materialised), over the allow contributions that made them; the
 * from-scratch and the incremental computation both end here.
 *
 *  - A redirect port: a port key (one port, or an endPort range as its
 *    aligned prefix) on which an allow rule selecting the endpoint has L7
 *    rules the node proxy has a listener for (for any peer): HTTP and Kafka
 *    on TCP; DNS (egress) on each of UDP and TCP the port rule names; or an
 *    HTTP port of the endpoint's proxy-visibility annotation (which allows
 *    nothing by itself, and yields to another parser's rules on its port).
 *    The port's parser is the one of its rules.
 *  - Every allow entry of that direction on a redirect key, or inside one,
 *    redirects (proxyPort = the parser's listener): the peers allowed there
 *    by rules without L7 rules too; they allow every request (Cilium
 *    wildcards L3 and L4 allows at L7 on a port with L7 rules).
 *  - Two parsers on overlapping redirect keys of one direction (HTTP and
 *    Kafka rules on one port, say): Cilium refuses the endpoint's policy.
 *    Here the conflict is an error of the endpoint (L7Result.problems) and
 *    every peer allowed there is denied on those keys (deny entries in the
 *    overlay): never a port passed without the rules that name it.
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
 *    key; its rules of the port's parser on K, or `[]` when any of its
 *    contributions has none.
 */
import type { HttpRuleSource } from '../l7/http/rules.js';
import type { DnsRuleSource } from '../l7/dns/rules.js';
import type { KafkaRuleSource } from '../l7/kafka/rules.js';
import { originText } from './cookies.js';
import { entryKey, portPrefix } from './lookup.js';
import type { L7Rules } from './rules.js';
import { Proto, type Direction, type L7Parser, type L7Redirect, type Origin, type PolicyMapEntry, type PolicyProblem, type ProxyPorts } from './types.js';

/** A protocol/port key as the engine's entries have it (protocol 0: any, then port and length 0). */
export interface L7PortKey {
  protocol: number;
  port: number;
  portPrefixLen: number;
}

/** Calls `fn` for every allow contribution: direction, peer identity, port key, origin, L7 rules (undefined: none). */
export type AllowWalker = (fn: (direction: Direction, identity: number, k: L7PortKey, origin: Origin, l7: L7Rules | undefined) => void) => void;

/** The resolved entries of one endpoint by (direction, identity). */
export type EntryGroups = (direction: Direction) => ReadonlyMap<number, readonly PolicyMapEntry[]>;

/** What the redirects make of an endpoint's entries. */
export interface L7Result {
  /** Entries that differ from the resolved ones, by entryKey: existing allows with proxyPort set, materialised ones, denies of parser conflicts. */
  overlay: Map<string, PolicyMapEntry>;
  l7: L7Redirect[];
  /** Problems of the endpoint: two parsers on one port (errors). */
  problems: PolicyProblem[];
}

/** True when key `d` is the same as or broader than key `a` (any protocol covers all). */
export function keyCovers(d: L7PortKey, a: L7PortKey): boolean {
  if (d.protocol === 0) return true;
  if (d.protocol !== a.protocol) return false;
  return d.portPrefixLen <= a.portPrefixLen && portPrefix(a.port, d.portPrefixLen) === portPrefix(d.port, d.portPrefixLen);
}

/** The listener port of a parser for a direction, if the node proxy has one. */
export function parserProxyPort(p: ProxyPorts | undefined, parser: L7Parser, dir: Direction): number | undefined {
  if (!p) return undefined;
  if (parser === 'http') return p[dir];
  if (parser === 'dns') return dir === 'egress' ? p.dns : undefined;
  return p.kafka?.[dir];
}

/**
 * Whether a redirect goes to the node proxy (HAProxy, the HTTP parser);
 * DNS and Kafka redirects go to the agent's own proxies, which need no
 * reload to have them.
 */
export function toNodeProxy(r: Pick<L7Redirect, 'parser'>): boolean {
  return r.parser === 'http';
}

/** The protocols a parser's redirects can have. */
function parserProtocolOk(parser: L7Parser, protocol: number): boolean {
  return protocol === Proto.tcp || (parser === 'dns' && protocol === Proto.udp);
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
const overlap = (a: L7PortKey, b: L7PortKey) => keyCovers(a, b) || keyCovers(b, a);
const cmpText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Contrib {
  k: L7PortKey;
  origin: Origin;
  l7: L7Rules | undefined;
}

/** One redirect key of a direction: its parser, and for a parser conflict where the rules are. */
interface RedirectKey {
  k: L7PortKey;
  parser: L7Parser;
  /** True when another parser's key overlaps it: its peers are denied instead. */
  conflict: boolean;
  /** The first rule that made it (none for a visibility key). */
  by?: { origin: Origin; path: string };
}

const PARSER_NAME: Record<L7Parser, string> = { http: 'HTTP', dns: 'DNS', kafka: 'Kafka' };
const PROTO_NAME: Record<number, string> = { [Proto.tcp]: 'TCP', [Proto.udp]: 'UDP' };

function keyText(k: L7PortKey): string {
  const end = k.port + (1 << (16 - k.portPrefixLen)) - 1;
  return `${PROTO_NAME[k.protocol] ?? k.protocol}/${k.port}${end !== k.port ? `-${end}` : ''}`;
}

/**
 * The redirects of one endpoint. `proxyPorts` absent: none. `walk` gives the
 * allow contributions, `groups` the resolved entries (proxyPort 0),
 * `visibility` redirect keys of the proxy-visibility annotation (HTTP on TCP
 * ports, redirected although no rule has HTTP rules there: their peers get
 * the sources of the policies allowing them, `rules: []` without HTTP rules).
 */
export function computeRedirects(
  proxyPorts: ProxyPorts | undefined, walk: AllowWalker, groups: EntryGroups,
  visibility?: Partial<Record<Direction, readonly L7PortKey[]>>,
): L7Result {
  const overlay = new Map<string, PolicyMapEntry>();
  const l7: L7Redirect[] = [];
  const problems: PolicyProblem[] = [];
  if (!proxyPorts) return { overlay, l7, problems };
  // 1. Redirect keys per direction: ports with L7 rules of a parser the proxy listens for, then the visibility
  //    ports (HTTP; they allow nothing themselves) where no rule's parser claims the port.
  const redirectKeys: Record<Direction, RedirectKey[]> = { ingress: [], egress: [] };
  walk((dir, _id, k, origin, rules) => {
    if (!rules || !parserProtocolOk(rules.parser, k.protocol) || parserProxyPort(proxyPorts, rules.parser, dir) === undefined) return;
    const list = redirectKeys[dir];
    const same = list.find((r) => sameKey(r.k, k) && r.parser === rules.parser);
    if (same) {
      if (same.by && (originText(origin) < originText(same.by.origin) || (originText(origin) === originText(same.by.origin) && rules.path < same.by.path))) same.by = { origin, path: rules.path };
      return;
    }
    list.push({ k: { ...k }, parser: rules.parser, conflict: false, by: { origin, path: rules.path } });
  });
  for (const dir of ['ingress', 'egress'] as const) {
    for (const k of visibility?.[dir] ?? []) {
      if (parserProxyPort(proxyPorts, 'http', dir) === undefined) continue;
      if (redirectKeys[dir].some((r) => (r.parser === 'http' && sameKey(r.k, k)) || (r.parser !== 'http' && overlap(r.k, k)))) continue;
      redirectKeys[dir].push({ k: { ...k }, parser: 'http', conflict: false });
    }
  }
  if (redirectKeys.ingress.length === 0 && redirectKeys.egress.length === 0) return { overlay, l7, problems };
  // 2. Parser conflicts: two parsers on overlapping keys of one direction (Cilium: "cannot merge conflicting L7 parsers").
  for (const dir of ['ingress', 'egress'] as const) {
    const keys = redirectKeys[dir];
    for (let i = 0; i < keys.length; i++) for (let j = i + 1; j < keys.length; j++) {
      const a = keys[i]!, b = keys[j]!;
      if (a.parser === b.parser || !overlap(a.k, b.k)) continue;
      a.conflict = b.conflict = true;
    }
    for (const a of keys) {
      if (!a.conflict || !a.by) continue;
      const others = keys.filter((b) => b !== a && b.parser !== a.parser && overlap(a.k, b.k) && b.by);
      const names = [...new Set(others.map((b) => `${PARSER_NAME[b.parser]} rules of ${originText(b.by!.origin)} (${b.by!.path}) on ${keyText(b.k)}`))].sort(cmpText);
      problems.push({
        severity: 'error', policy: originText(a.by.origin), path: a.by.path,
        message: `Forbidden: ${dir} ${keyText(a.k)} has ${PARSER_NAME[a.parser]} rules here and ${names.join(', ')}; one port takes one L7 parser: the port is denied to every peer`,
      });
    }
  }
  // Walk order differs between the from-scratch and the incremental computation: a stable order.
  problems.sort((a, b) => cmpText(a.policy, b.policy) || cmpText(a.path, b.path) || cmpText(a.message, b.message));
  // 3. The allow contributions that overlap a redirect key (the only ones a source can come from).
  const contribs: Record<Direction, Map<number, Contrib[]>> = { ingress: new Map(), egress: new Map() };
  walk((dir, id, k, origin, rules) => {
    if (!redirectKeys[dir].some((r) => overlap(k, r.k))) return;
    let list = contribs[dir].get(id);
    if (!list) contribs[dir].set(id, (list = []));
    list.push({ k, origin, l7: rules });
  });
  for (const dir of ['egress', 'ingress'] as const) {
    const keys = redirectKeys[dir];
    if (keys.length === 0) continue;
    const byId = groups(dir);
    const any = byId.get(0);
    // Redirect targets per identity: key, its redirect key and the entry written there.
    const targets: { identity: number; k: L7PortKey; r: RedirectKey; entry: PolicyMapEntry }[] = [];
    const ids = [...new Set([0, ...byId.keys()])].sort((a, b) => a - b);
    for (const id of ids) {
      const entries = byId.get(id) ?? [];
      const taken = new Set<string>();
      const target = (k: L7PortKey, r: RedirectKey, base: PolicyMapEntry) => {
        const key = entryKey({ direction: dir, identity: id, ...k });
        if (taken.has(key)) return;
        // Denies win: identity 0's deny covering the key drops every peer before any redirect matters.
        const e2 = covering(any, k);
        if (e2?.verdict === 'deny') return;
        taken.add(key);
        const proxyPort = r.conflict ? 0 : parserProxyPort(proxyPorts, r.parser, dir)!;
        const entry: PolicyMapEntry = { direction: dir, identity: id, protocol: k.protocol, port: k.port, portPrefixLen: k.portPrefixLen, verdict: r.conflict ? 'deny' : 'allow', cookie: base.cookie, proxyPort };
        // The allow it redirects keeps its mutual authentication (a materialised one, that of the allow covering it).
        if (!r.conflict && base.authRequired) entry.authRequired = true;
        targets.push({ identity: id, k, r, entry });
      };
      // Its own allow entries on or inside a redirect key (a conflicting key first: its deny wins).
      const ordered = [...keys.filter((r) => r.conflict), ...keys.filter((r) => !r.conflict)];
      for (const e of entries) {
        if (e.verdict !== 'allow' || e.protocol === 0) continue;
        const r = ordered.find((x) => keyCovers(x.k, e));
        if (r) target(e, r, e);
      }
      // A redirect key it reaches through a broader allow only: materialised.
      for (const r of ordered) {
        if (entries.some((e) => sameKey(e, r.k))) continue;
        const c = covering(entries, r.k);
        if (c?.verdict === 'allow') target(r.k, r, c);
      }
    }
    for (const t of targets) {
      overlay.set(entryKey(t.entry), t.entry);
      if (t.r.conflict) continue;
      const parser = t.r.parser;
      const sources = new Map<string, { origin: Origin; plain: boolean; rules: Map<string, unknown> }>();
      const add = (c: Contrib) => {
        if (!keyCovers(c.k, t.k)) return;
        const name = originText(c.origin);
        let s = sources.get(name);
        if (!s) sources.set(name, (s = { origin: c.origin, plain: false, rules: new Map() }));
        if (!c.l7 || c.l7.parser !== parser) s.plain = true;
        else for (const r of c.l7.rules) s.rules.set(JSON.stringify(r), r);
      };
      for (const c of contribs[dir].get(t.identity) ?? []) add(c);
      if (t.identity !== 0) for (const c of contribs[dir].get(0) ?? []) add(c);
      const list = [...sources.entries()]
        .sort((a, b) => cmpText(a[0], b[0]))
        .map(([, s]) => ({ origin: s.origin, rules: s.plain ? [] : [...s.rules.entries()].sort((a, b) => cmpText(a[0], b[0])).map(([, r]) => r) }));
      const proxyPort = t.entry.proxyPort;
      const base = { direction: dir, port: t.k.port, portPrefixLen: t.k.portPrefixLen, identity: t.identity, protocol: t.k.protocol, proxyPort };
      if (parser === 'http') l7.push({ ...base, parser, http: list as HttpRuleSource[] });
      else if (parser === 'dns') l7.push({ ...base, parser, http: [], dns: list as DnsRuleSource[] });
      else l7.push({ ...base, parser, http: [], kafka: list as KafkaRuleSource[] });
    }
  }
  l7.sort(compareRedirects);
  return { overlay, l7, problems };
}

/** The order of EndpointPolicy.l7: direction, port, portPrefixLen, identity, protocol. */
export function compareRedirects(a: L7Redirect, b: L7Redirect): number {
  return (a.direction !== b.direction ? (a.direction < b.direction ? -1 : 1) : 0) || a.port - b.port || a.portPrefixLen - b.portPrefixLen || a.identity - b.identity || a.protocol - b.protocol;
}
