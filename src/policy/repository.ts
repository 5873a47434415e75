/**
 * The policy repository: accepted policies, identities, CIDR identities,
 * Services, peers' named ports and learned DNS names (toFQDNs) in;
 * per-endpoint policy map entries out.
 * Pure and synchronous (no I/O, no timers): the agent feeds it changes and
 * asks for the endpoints a change affects.
 *
 * computeEndpoint, per direction:
 *   1. the rules whose subject selects the endpoint; the direction is
 *      enforced when one of them has the direction's section (or
 *      enforcement is 'always'), and default deny when one of those does not
 *      turn default deny off (or enforcement is 'always');
 *   2. if enforced: every allow and deny section of those rules becomes
 *      entries, peers × ports (identity 0 = any peer, protocol 0 = any port),
 *      plus the direction's default (the default-deny entry, or the
 *      default-allow allow-all entry) and, on ingress, allow-localhost;
 *   3. entries on one key merge (deny > allow > default-deny; origins union);
 *   4. deny precedence is materialised: an allow covered by a deny of the
 *      same identity with the same or a broader protocol/port prefix becomes
 *      that deny, since the datapath's LPM lookup returns only the most
 *      specific entry per identity (identity-0 denies need nothing: the
 *      datapath checks both lookups for deny first);
 *   5. with proxyPorts: L7 redirects over the resolved entries (l7.ts):
 *      proxy ports on the allows of ports with HTTP, DNS or Kafka rules,
 *      materialised redirect entries for peers allowed there by broader
 *      entries, denies where two parsers meet on a port (with an error),
 *      and EndpointPolicy.l7. updateEndpoint keeps them as an overlay over
 *      the resolved entries (recomputed when a rule has L7 rules, or had).
 *      The endpoint's proxy-visibility ports are redirect ports too
 *      (visibility.ts); with them, a direction no rule enforces is enforced
 *      with default allow (origin visibility-annotation) in step 1.
 */
import type { LabelSet } from '../identity/labels.js';
import { ReservedIdentity } from '../identity/reserved.js';
import { ALLOW_LOCALHOST, CookieTable, DEFAULT_ALLOW, ENFORCEMENT_ALWAYS, normaliseOrigins, originText, VISIBILITY_ANNOTATION } from './cookies.js';
import { compareEntries, entryKey, portPrefix, sameEntryValue } from './lookup.js';
import { computeRedirects, type AllowWalker, type EntryGroups, type L7PortKey, type L7Result } from './l7.js';
import { normaliseDnsName } from '../l7/dns/pattern.js';
import type { FqdnSelectorMatcher } from '../l7/dns/rules.js';
import { portRangePrefixes } from './ports.js';
import {
  compilePolicy, namedProtocolOk,
  type CompiledPolicy, type CompiledRule, type L7Rules, type Peer, type PortSpec, type Section,
} from './rules.js';
import { cidrInside, tryParseMaskedCidr, type Cidr4 } from '../ipam/cidr.js';
import { indexLabels, isPodIdentity, makeSelector, namespaceRequirement, selectorMatches, selectorRequirements, SelectorCache, splitSelectorKey, type LabelIndex } from './selectors.js';
import {
  Proto, type CidrGroupInfo, type Direction, type EndpointInfo, type EndpointPolicy, type EnforcementMode, type L7Redirect, type NamedPort, type Origin,
  type PolicyMapEntry, type PolicyOptions, type PolicyProblem, type ProxyPorts, type ServiceInfo,
} from './types.js';

/** The key of an any-protocol entry. */
const ANY_PORT: PortKey = { protocol: 0, port: 0, portPrefixLen: 0 };

/** Identities the `cluster` entity adds to the pod identities. */
const CLUSTER_RESERVED = [1, 3, 4, 5, 6, 7, 8];

interface PortKey {
  protocol: number;
  port: number;
  portPrefixLen: number;
}

/** One key under construction, with the origins of each verdict on it. */
interface Acc {
  protocol: number;
  port: number;
  portPrefixLen: number;
  allow: Origin[] | undefined;
  deny: Origin[] | undefined;
  defaultDeny: Origin[] | undefined;
  /** The origins of allows that require mutual authentication (each also among `allow`). */
  auth: Origin[] | undefined;
}

/**
 * Where a computation puts what one rule says: (direction, peer, port key)
 * gets a verdict from an origin; `l7`: the L7 rules of an allow (the proxy
 * enforces them; see l7.ts).
 */
interface EntrySink {
  add(direction: Direction, identity: number, k: PortKey, what: Verdictish, origin: Origin, l7?: L7Rules): void;
}

/** What a contribution says about a key: 'auth' goes with an 'allow' of the same origin (the allow requires mutual authentication). */
type Verdictish = 'allow' | 'deny' | 'defaultDeny' | 'auth';

/** The port key of a numeric port key. */
function portKeyOf(pk: number): PortKey {
  const rest = pk % 0x200000;
  return { protocol: Math.floor(pk / 0x200000), port: Math.floor(rest / 32), portPrefixLen: rest % 32 };
}

/** The numeric key of a port key within one (direction, identity): any protocol has port and length 0. */
function portKeyNumber(k: PortKey): number {
  return k.protocol === 0 ? 0 : k.protocol * 0x200000 + k.port * 32 + k.portPrefixLen;
}

/**
 * Entries under construction: per direction, per identity, per numeric port
 * key (the hot path of computeEndpoint, so no strings and no copies).
 */
class EntryBuilder implements EntrySink {
  readonly byDir: Record<Direction, Map<number, Map<number, Acc>>> = { ingress: new Map(), egress: new Map() };
  /** Every allow as added, when the redirects need them (proxyPorts given). */
  readonly allows: { direction: Direction; identity: number; k: PortKey; origin: Origin; l7: L7Rules | undefined }[] | undefined;
  constructor(recordAllows: boolean) {
    this.allows = recordAllows ? [] : undefined;
  }

  add(direction: Direction, identity: number, k: PortKey, what: Verdictish, origin: Origin, l7?: L7Rules): void {
    if (this.allows && what === 'allow') this.allows.push({ direction, identity, k, origin, l7 });
    const any = k.protocol === 0;
    const port = any ? 0 : k.port, len = any ? 0 : k.portPrefixLen;
    const key = portKeyNumber(k);
    const dir = this.byDir[direction];
    let m = dir.get(identity);
    if (!m) { m = new Map(); dir.set(identity, m); }
    let a = m.get(key);
    if (!a) { a = { protocol: k.protocol, port, portPrefixLen: len, allow: undefined, deny: undefined, defaultDeny: undefined, auth: undefined }; m.set(key, a); }
    const list = (a[what] ??= []);
    if (!list.includes(origin)) list.push(origin);
  }
}

/** Interns origin lists to cookies, memoised by the origins' object identity within one computation. */
class CookieMemo {
  private readonly ids = new Map<Origin, number>();
  private readonly memo = new Map<string, number>();
  constructor(private readonly cookies: CookieTable) {}
  cookie(origins: Origin[]): number {
    let key = '';
    for (const o of origins) {
      let n = this.ids.get(o);
      if (n === undefined) { n = this.ids.size; this.ids.set(o, n); }
      key += `${n},`;
    }
    if (origins.length > 1) key = key.split(',').sort().join(',');
    let c = this.memo.get(key);
    if (c === undefined) { c = this.cookies.intern(origins); this.memo.set(key, c); }
    return c;
  }
}

/** What one rule, or the engine's defaults, puts into one endpoint's entries: (group, port key, verdict) triples and their origins. */
class Contribution implements EntrySink {
  /** Flat triples: group (identity × 2 + ingress), port key number, verdict (0 allow, 1 deny, 2 default deny, 3 auth). */
  readonly keys: number[] = [];
  readonly origins: Origin[] = [];
  /** The L7 rules of each triple (an allow with rules the proxy enforces), else undefined; parallel to origins. */
  readonly l7: (L7Rules | undefined)[] = [];
  /** True when a triple has L7 rules. */
  hasL7 = false;
  /** Problems applying the rule to the endpoint, per direction (the order computeEndpoint reports them in). */
  readonly errors: Record<Direction, PolicyProblem[]> = { ingress: [], egress: [] };

  add(direction: Direction, identity: number, k: PortKey, what: Verdictish, origin: Origin, l7?: L7Rules): void {
    this.keys.push(identity * 2 + (direction === 'ingress' ? 1 : 0), portKeyNumber(k), VERDICT_CODE[what]);
    this.origins.push(origin);
    this.l7.push(l7);
    if (l7) this.hasL7 = true;
  }

  /** Copies triple `j` (key index i = 3j) of `from`. */
  copy(from: Contribution, j: number): void {
    this.keys.push(from.keys[3 * j]!, from.keys[3 * j + 1]!, from.keys[3 * j + 2]!);
    this.origins.push(from.origins[j]!);
    const h = from.l7[j];
    this.l7.push(h);
    if (h) this.hasL7 = true;
  }
}

/**
 * One key's contributions: the Acc resolveGroup reads (origins per verdict,
 * undefined when none), with how many times each origin put it there.
 * Arrays, not maps, and kept in place: a key has one or two origins, and
 * 12,500 keys of three maps each made the garbage collector the main cost.
 */
interface Counted extends Acc {
  allowN: number[];
  denyN: number[];
  defaultDenyN: number[];
  authN: number[];
}

const VERDICT_FIELDS = [['allow', 'allowN'], ['deny', 'denyN'], ['defaultDeny', 'defaultDenyN'], ['auth', 'authN']] as const;
const VERDICT_CODE: Record<Verdictish, 0 | 1 | 2 | 3> = { allow: 0, deny: 1, defaultDeny: 2, auth: 3 };

/** What updateEndpoint keeps per endpoint between calls. */
class EndpointState {
  /** endpointKey of the endpoint as last computed: a change of any of it recomputes every rule. */
  key = '';
  /** The position in the repository's change log this state has seen up to. */
  gen = 0;
  selecting: CompiledRule[] = [];
  rules = new Map<CompiledRule, Contribution>();
  builtin: Contribution | undefined;
  enforced: Record<Direction, boolean> = { ingress: false, egress: false };
  defaultDeny: Record<Direction, boolean> = { ingress: false, egress: false };
  selectedBy: EndpointPolicy['selectedBy'] = { ingress: [], egress: [] };
  /** The origins of the selecting rules per direction, as selectedBy was last made from. */
  selectingOrigins: Record<Direction, Origin[]> = { ingress: [], egress: [] };
  errors: PolicyProblem[] = [];
  /** The errors without the redirects' problems (parser conflicts), which join them after each redirect computation. */
  baseErrors: PolicyProblem[] = [];
  /** The redirects' problems as last computed. */
  l7Problems: PolicyProblem[] = [];
  /** Contributions counted per group (identity × 2 + ingress) and port key. */
  readonly acc = new Map<number, Map<number, Counted>>();
  /** The entries as last resolved, per group and port key: what the map holds once the last update was written. */
  readonly out = new Map<number, Map<number, PolicyMapEntry>>();
  count = 0;
  /** Groups whose contributions changed since they were last resolved. */
  readonly dirty = new Set<number>();
  /** The L7 redirects as last computed: entries that differ from `out` (by entryKey) and the redirects. */
  overlay = new Map<string, PolicyMapEntry>();
  l7: L7Redirect[] = [];
  /** Overlay entries on keys `out` does not have (materialised redirects). */
  private extra = 0;
  private sorted: PolicyMapEntry[] | undefined;

  /** The resolved (pre-redirect) entry on an entry's key. */
  baseAt(e: PolicyMapEntry): PolicyMapEntry | undefined {
    return this.out.get(e.identity * 2 + (e.direction === 'ingress' ? 1 : 0))?.get(portKeyNumber(e));
  }

  /** The allow contributions of every rule and of the defaults (for the redirects). */
  walkAllows(): AllowWalker {
    const cs = [...(this.builtin ? [this.builtin] : []), ...this.rules.values()];
    return (fn) => {
      for (const c of cs) {
        for (let i = 0, j = 0; i < c.keys.length; i += 3, j++) {
          if (c.keys[i + 2] !== 0) continue;
          const g = c.keys[i]!;
          fn(g % 2 ? 'ingress' : 'egress', Math.floor(g / 2), portKeyOf(c.keys[i + 1]!), c.origins[j]!, c.l7[j]);
        }
      }
    };
  }

  /** True when a contribution has L7 rules (else there are no redirects but the visibility ones). */
  hasL7(): boolean {
    if (this.builtin?.hasL7) return true;
    for (const c of this.rules.values()) if (c.hasL7) return true;
    return false;
  }

  /** The resolved entries by direction and identity. */
  groups(): EntryGroups {
    const by: Record<Direction, Map<number, PolicyMapEntry[]>> = { ingress: new Map(), egress: new Map() };
    for (const [g, m] of this.out) by[g % 2 ? 'ingress' : 'egress'].set(Math.floor(g / 2), [...m.values()]);
    return (dir) => by[dir];
  }

  /**
   * Takes the redirects now in force; the writes of the last resolve (base
   * entries) turned into the writes of the entries with their redirects.
   */
  applyRedirects(next: L7Result, base: { upserts: PolicyMapEntry[]; deletes: PolicyMapEntry[] }): { upserts: PolicyMapEntry[]; deletes: PolicyMapEntry[] } {
    const prev = this.overlay;
    this.overlay = next.overlay;
    this.l7 = next.l7;
    let extra = 0;
    for (const e of next.overlay.values()) if (!this.baseAt(e)) extra++;
    this.extra = extra;
    if (prev.size === 0 && next.overlay.size === 0) return base;
    this.sorted = undefined;
    const ups = new Map<string, PolicyMapEntry>();
    const dels = new Map<string, PolicyMapEntry>();
    const touched = new Set<string>();
    for (const e of base.upserts) {
      const k = entryKey(e);
      touched.add(k);
      ups.set(k, next.overlay.get(k) ?? e);
    }
    for (const e of base.deletes) {
      const k = entryKey(e);
      touched.add(k);
      const o = next.overlay.get(k);
      if (!o) dels.set(k, e);
      else if (!sameEntryValue(prev.get(k) ?? e, o)) ups.set(k, o);
    }
    // Keys whose resolved entry did not change: only their redirect may have.
    for (const [k, e] of [...prev, ...next.overlay]) {
      if (touched.has(k)) continue;
      touched.add(k);
      const b = this.baseAt(e);
      const before = prev.get(k) ?? b;
      const after = next.overlay.get(k) ?? b;
      if (!after) { if (before) dels.set(k, before); }
      else if (!before || !sameEntryValue(before, after)) ups.set(k, after);
    }
    return { upserts: [...ups.values()].sort(compareEntries), deletes: [...dels.values()].sort(compareEntries) };
  }

  apply(c: Contribution, sign: 1 | -1): void {
    const k = c.keys;
    for (let i = 0, j = 0; i < k.length; i += 3, j++) {
      const g = k[i]!, pk = k[i + 1]!, what = k[i + 2]!;
      const origin = c.origins[j]!;
      let m = this.acc.get(g);
      if (!m) this.acc.set(g, (m = new Map()));
      let a = m.get(pk);
      if (!a) {
        const protocol = Math.floor(pk / 0x200000), rest = pk % 0x200000;
        a = { protocol, port: Math.floor(rest / 32), portPrefixLen: rest % 32, allow: undefined, deny: undefined, defaultDeny: undefined, auth: undefined, allowN: [], denyN: [], defaultDenyN: [], authN: [] };
        m.set(pk, a);
      }
      const [field, countField] = VERDICT_FIELDS[what as 0 | 1 | 2 | 3];
      const list = (a[field] ??= []);
      const counts = a[countField];
      const x = list.indexOf(origin);
      if (x < 0) {
        if (sign < 0) throw new Error(`policy engine: endpoint state lost a contribution of ${originText(origin)}`);
        list.push(origin);
        counts.push(1);
      } else if ((counts[x] += sign) === 0) {
        list.splice(x, 1);
        counts.splice(x, 1);
        if (list.length === 0) {
          a[field] = undefined;
          if (!a.allow && !a.deny && !a.defaultDeny && !a.auth) {
            m.delete(pk);
            if (m.size === 0) this.acc.delete(g);
          }
        }
      }
      this.dirty.add(g);
    }
  }

  /** Resolves the dirty groups; the entries that changed (upserts) and went (deletes). */
  resolve(memo: CookieMemo): { upserts: PolicyMapEntry[]; deletes: PolicyMapEntry[] } {
    const upserts: PolicyMapEntry[] = [];
    const deletes: PolicyMapEntry[] = [];
    const seen = new Set<number>();
    for (const g of this.dirty) {
      const m = this.acc.get(g);
      let out = this.out.get(g);
      const before = out?.size ?? 0;
      seen.clear();
      if (m) {
        const o = (out ??= new Map());
        resolveGroup(g % 2 ? 'ingress' : 'egress', Math.floor(g / 2), [...m.values()], memo, (e) => {
          const pk = portKeyNumber(e);
          seen.add(pk);
          const had = o.get(pk);
          if (!had || had.verdict !== e.verdict || had.cookie !== e.cookie || had.authRequired !== e.authRequired) { o.set(pk, e); upserts.push(e); }
        });
      }
      if (out) {
        // Entries the group no longer emits.
        if (out.size > seen.size) for (const [pk, e] of out) if (!seen.has(pk)) { out.delete(pk); deletes.push(e); }
        this.count += out.size - before;
        if (out.size) this.out.set(g, out);
        else this.out.delete(g);
      }
    }
    if (this.dirty.size) this.sorted = undefined;
    this.dirty.clear();
    return { upserts: upserts.sort(compareEntries), deletes: deletes.sort(compareEntries) };
  }

  /** Every entry, sorted (built when first asked for after a change). */
  entries(): PolicyMapEntry[] {
    if (!this.sorted) {
      const all: PolicyMapEntry[] = [];
      if (this.overlay.size === 0) {
        for (const m of this.out.values()) for (const e of m.values()) all.push(e);
      } else {
        for (const m of this.out.values()) for (const e of m.values()) all.push(this.overlay.get(entryKey(e)) ?? e);
        for (const e of this.overlay.values()) if (!this.baseAt(e)) all.push(e);
      }
      this.sorted = all.sort(compareEntries);
    }
    return this.sorted;
  }

  /** The EndpointPolicy as computeEndpoint gives it; `entries` is sorted only when read. */
  policy(): EndpointPolicy & { entryCount: number } {
    const entries = () => this.entries();
    return {
      ingressEnforced: this.enforced.ingress, egressEnforced: this.enforced.egress,
      ingressDefaultDeny: this.defaultDeny.ingress, egressDefaultDeny: this.defaultDeny.egress,
      get entries() { return entries(); },
      selectedBy: this.selectedBy, errors: this.errors, l7: this.l7, entryCount: this.count + this.extra,
    };
  }
}

/** The result of updateEndpoint. */
export interface EndpointUpdate {
  /** The endpoint's policy now (entryCount: entries.length without sorting them). */
  policy: EndpointPolicy & { entryCount: number };
  /** New entries and entries whose verdict, cookie or proxy port changed, since the previous call for this endpoint id. */
  upserts: PolicyMapEntry[];
  /** Entries gone since that call. */
  deletes: PolicyMapEntry[];
}

/** One change the endpoints' incremental updates replay. */
type Change =
  | { t: 'policy' }
  | { t: 'identity'; id: number; sels: readonly string[]; pod: boolean }
  /** Services or peers' named ports: rules with toServices peers or egress named ports. */
  | { t: 'inputs' }
  /** Learned DNS names whose addresses changed: rules with a toFQDNs peer selecting one of them. */
  | { t: 'fqdn'; names: readonly string[] }
  /** CIDR identities added, removed or moved to another prefix: rules whose peers can select CIDR identities. */
  | { t: 'cidr'; ids: readonly number[] }
  | { t: 'all' };

/** What a rule's contribution reads besides its policy and the endpoint. */
interface RuleDeps {
  /** Keys of its peer selectors. */
  sels: Set<string>;
  /** The `cluster` entity: every pod identity. */
  pods: boolean;
  /** toServices peers or egress named ports: Services, peers' named ports, any identity. */
  inputs: boolean;
  /** Named ports in any section. */
  namedPorts: boolean;
  /** Its toFQDNs peers' matchers. */
  fqdn: FqdnSelectorMatcher[];
  /** A peer that can select CIDR identities: cidr, cidrGroup, toFQDNs, a selector-less Service, the world entities. */
  cidr: boolean;
}

/** Changes kept for endpoints not updated yet; one that falls further behind is recomputed whole. */
const MAX_LOG = 4096;

/** Everything about an endpoint its policy depends on, as text. */
function endpointKey(ep: EndpointInfo): string {
  return JSON.stringify([ep.identity, ep.namespace, ep.labels.map((l) => `${l.source}:${l.key}=${l.value}`), (ep.namedPorts ?? []).map((n) => `${n.name}:${n.port}/${n.protocol}`), ep.visibility ?? null]);
}

/** What the engine makes of an endpoint's proxy-visibility annotation. */
interface VisibilityUse {
  /** Redirect keys (TCP, port, /16) per direction; empty where nothing can be honoured. */
  keys: Record<Direction, L7PortKey[]>;
  /** The annotation's own problems, and why it is not honoured here when it is not. */
  problems: PolicyProblem[];
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameContribution(a: Contribution, b: Contribution): boolean {
  return sameList(a.keys, b.keys) && sameList(a.origins, b.origins);
}

function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size === 0 || b.size === 0) return false;
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (big.has(x)) return true;
  return false;
}

function selectedByOf(selecting: readonly CompiledRule[]): EndpointPolicy['selectedBy'] {
  return {
    ingress: normaliseOrigins(selecting.filter((r) => r.ingress).map((r) => r.origin)),
    egress: normaliseOrigins(selecting.filter((r) => r.egress).map((r) => r.origin)),
  };
}

/** One accepted policy and what upserting it said. */
export interface PolicyStatus {
  key: string;
  origin: Origin;
  /** Warnings and notes of the version in force. */
  problems: PolicyProblem[];
}

export class PolicyRepository {
  /** Interns rule origins to map cookies; shared across computations so numbers stay stable. */
  readonly cookies: CookieTable;
  private enforcement: EnforcementMode;
  private allowLocalhost: boolean;
  private proxyPorts: ProxyPorts | undefined;
  private readonly policies = new Map<string, CompiledPolicy>();
  /** The version the last upsert/delete of a key replaced (for endpointsAffectedBy). */
  private readonly replaced = new Map<string, CompiledPolicy | undefined>();
  private readonly selectors = new SelectorCache();
  /** Sorted by base address (then length), so the identities inside a prefix are one contiguous run. */
  private cidrIds: { cidr: Cidr4; id: number }[] = [];
  private readonly cidrCache = new Map<string, number[]>();
  private services: ServiceInfo[] = [];
  /** CiliumCIDRGroups by name, with their IPv4 CIDRs parsed. */
  private cidrGroups = new Map<string, { labels: Record<string, string>; cidrs: Cidr4[] }>();
  private peerPorts = new Map<number, NamedPort[]>();
  /** Learned DNS names (normalised, trailing dot) → their IPv4 addresses (setFqdnNames). */
  private fqdnNames = new Map<string, readonly string[]>();
  /** CIDR identities by prefix text (the /32s toFQDNs peers select). */
  private cidrByText = new Map<string, number>();
  /** The identities each toFQDNs matcher selects now; cleared when names or CIDR identities change. */
  private fqdnCache = new WeakMap<FqdnSelectorMatcher, number[]>();
  /** updateEndpoint's state per endpoint id, and the changes it replays. */
  private readonly states = new Map<number, EndpointState>();
  private readonly log: Change[] = [];
  /** The log position of log[0]. */
  private logBase = 0;
  private readonly ruleDeps = new WeakMap<CompiledRule, RuleDeps>();

  constructor(opts: { cookies?: CookieTable; options?: PolicyOptions } = {}) {
    this.cookies = opts.cookies ?? new CookieTable();
    this.enforcement = opts.options?.enforcement ?? 'default';
    this.allowLocalhost = opts.options?.allowLocalhost ?? true;
    this.proxyPorts = checkProxyPorts(opts.options?.proxyPorts);
  }

  /**
   * Changes options; `proxyPorts` given replaces the proxy ports (it cannot
   * be removed here). Policies keep the problems of their compilation:
   * set proxyPorts before upserting them.
   */
  setOptions(o: PolicyOptions): void {
    const text = () => `${this.enforcement}/${this.allowLocalhost}/${JSON.stringify(this.proxyPorts ?? null)}`;
    const before = text();
    if (o.enforcement !== undefined) this.enforcement = o.enforcement;
    if (o.allowLocalhost !== undefined) this.allowLocalhost = o.allowLocalhost;
    if (o.proxyPorts !== undefined) this.proxyPorts = checkProxyPorts(o.proxyPorts);
    if (text() !== before) this.record({ t: 'all' });
  }

  // ---- policies ----

  /**
   * Adds or replaces a policy. Returns every problem found; when one is an
   * error the new version is rejected whole and the previous one (if any)
   * stays in force.
   */
  upsertPolicy(obj: unknown): PolicyProblem[] {
    const pp = this.proxyPorts;
    const c = compilePolicy(obj, {
      httpProxy: { ingress: pp?.ingress !== undefined, egress: pp?.egress !== undefined },
      dnsProxy: pp?.dns !== undefined,
      kafkaProxy: { ingress: pp?.kafka?.ingress !== undefined, egress: pp?.kafka?.egress !== undefined },
    });
    if (c.problems.some((p) => p.severity === 'error')) return c.problems;
    const prev = this.policies.get(c.key);
    // The version in force keeps its Origin object: the defaults an endpoint's update compares (and the
    // cookie memo) go by object, so a new version of a policy changes only the entries of its own rules.
    if (prev) {
      c.origin = prev.origin;
      for (const r of c.rules) r.origin = prev.origin;
    }
    this.replaced.set(c.key, prev);
    this.policies.set(c.key, c);
    this.record({ t: 'policy' });
    return c.problems;
  }

  /** Removes a policy by key (`CiliumNetworkPolicy/ns/name`, …); false when there was none. */
  deletePolicy(key: string): boolean {
    const had = this.policies.get(key);
    if (!had) return false;
    this.replaced.set(key, had);
    this.policies.delete(key);
    this.record({ t: 'policy' });
    return true;
  }

  /** The policies in force, by key. */
  listPolicies(): PolicyStatus[] {
    return [...this.policies.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((p) => ({ key: p.key, origin: p.origin, problems: p.problems }));
  }

  /** Whether any policy in force has a toServices peer (then Services are an input). */
  usesServices(): boolean {
    for (const p of this.policies.values()) if (p.usesServices) return true;
    return false;
  }

  /** True when a policy in force has an allow that requires mutual authentication (else no entry has authRequired). */
  usesAuth(): boolean {
    for (const p of this.policies.values()) if (p.usesAuth) return true;
    return false;
  }

  /**
   * Every IPv4 prefix the policies name (cidr and except), the CIDRs of the
   * CiliumCIDRGroups they refer to, and the addresses of selector-less
   * Services they refer to and of learned names their toFQDNs select, as /32.
   */
  requiredPrefixes(): string[] {
    const out = new Set<string>();
    let services = false;
    for (const p of this.policies.values()) {
      for (const x of p.prefixes) out.add(x);
      if (p.usesFqdn) for (const m of fqdnMatchers(p)) for (const [name, addrs] of this.fqdnNames) if (m.selects(name)) for (const a of addrs) out.add(`${a}/32`); // addresses as setFqdnNames normalised them
      services ||= p.usesServices;
      if (!p.usesCidrGroups) continue;
      for (const r of p.rules) for (const dir of ['ingress', 'egress'] as const) for (const s of r[dir]?.allow.concat(r[dir]!.deny) ?? []) for (const peer of s.peers) {
        if (peer.t !== 'cidrGroup') continue;
        for (const g of this.groupsOf(peer)) for (const c of g.cidrs) out.add(c.text);
      }
    }
    if (services) {
      for (const p of this.policies.values()) {
        if (!p.usesServices) continue;
        for (const r of p.rules) for (const s of r.egress?.allow.concat(r.egress.deny) ?? []) for (const peer of s.peers) {
          if (peer.t !== 'service') continue;
          for (const svc of this.servicesOf(peer)) if (!hasSelector(svc)) for (const a of svc.addresses ?? []) { const x = tryParseMaskedCidr(a); if (x) out.add(x.text); }
        }
      }
    }
    return [...out].sort();
  }

  // ---- identities and other inputs ----

  /** Replaces every identity (id → labels). */
  setIdentities(ids: Iterable<[number, LabelSet]> | ReadonlyMap<number, LabelSet>): void {
    this.selectors.setIdentities(ids);
    this.record({ t: 'all' });
  }

  upsertIdentity(id: number, labels: LabelSet): void {
    this.record({ t: 'identity', id, sels: this.selectors.upsertIdentity(id, labels), pod: isPodIdentity(id) });
  }

  deleteIdentity(id: number): void {
    this.record({ t: 'identity', id, sels: this.selectors.deleteIdentity(id), pod: isPodIdentity(id) });
  }

  /** The node's CIDR identities: prefix → identity. */
  setCidrIdentities(m: Iterable<[string, number]> | ReadonlyMap<string, number> | Record<string, number>): void {
    const entries = Symbol.iterator in Object(m) ? [...(m as Iterable<[string, number]>)] : Object.entries(m as Record<string, number>);
    this.cidrIds = [];
    for (const [text, id] of entries) {
      const cidr = tryParseMaskedCidr(text);
      if (cidr) this.cidrIds.push({ cidr, id });
    }
    this.cidrIds.sort((a, b) => a.cidr.base - b.cidr.base || a.cidr.prefix - b.cidr.prefix);
    const before = this.cidrByText;
    this.cidrByText = new Map(this.cidrIds.map((c) => [c.cidr.text, c.id]));
    // Only the identities that came, went or changed prefix: a learned address (toFQDNs) adds one
    // /32 and recomputes only those identities' entries of the rules that can select it.
    const changed = new Set<number>();
    for (const [text, id] of this.cidrByText) {
      const was = before.get(text);
      if (was === id) continue;
      changed.add(id);
      if (was !== undefined) changed.add(was);
    }
    for (const [text, id] of before) if (!this.cidrByText.has(text)) changed.add(id);
    if (changed.size === 0) return;
    this.cidrCache.clear();
    this.fqdnCache = new WeakMap();
    this.record({ t: 'cidr', ids: [...changed] });
  }

  /** Replaces the CiliumCIDRGroups; true when what policies may see of them changed. */
  setCidrGroups(groups: readonly CidrGroupInfo[]): boolean {
    const next = new Map(groups.map((g) => [g.name, {
      labels: { ...(g.labels ?? {}) },
      cidrs: g.cidrs.map((c) => tryParseMaskedCidr(c)).filter((c): c is Cidr4 => c !== undefined),
    }]));
    const text = (m: typeof next) => JSON.stringify([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([n, g]) => [n, g.labels, g.cidrs.map((c) => c.text)]));
    if (text(next) === text(this.cidrGroups)) return false;
    this.cidrGroups = next;
    this.record({ t: 'all' });
    return true;
  }

  /** Whether any policy in force refers to CiliumCIDRGroups. */
  usesCidrGroups(): boolean {
    for (const p of this.policies.values()) if (p.usesCidrGroups) return true;
    return false;
  }

  setServices(services: readonly ServiceInfo[]): void {
    this.services = [...services];
    this.record({ t: 'inputs' });
  }

  /** Named ports of peer identities (union over their pods), for egress named ports. */
  setPeerNamedPorts(m: Iterable<[number, NamedPort[]]> | ReadonlyMap<number, NamedPort[]>): void {
    this.peerPorts = new Map(m);
    this.record({ t: 'inputs' });
  }

  /**
   * Replaces the learned DNS names (the DNS proxy's allowed answers, kept
   * while their TTL runs): normalised name (lower case, trailing dot) → its
   * IPv4 addresses. A toFQDNs peer selects the /32 CIDR identities of the
   * addresses of the names it matches (requiredPrefixes lists them, so the
   * agent allocates them as for toCIDR). Incremental: only the rules whose
   * toFQDNs select a name whose addresses changed are recomputed. Returns
   * the names that changed (added, removed or other addresses). Addresses
   * other than IPv4 ones are dropped (the datapath is IPv4).
   */
  setFqdnNames(names: ReadonlyMap<string, readonly string[]>): string[] {
    const next = new Map<string, readonly string[]>();
    for (const [n, addrs] of names) {
      const name = normaliseDnsName(n);
      const set = new Set(next.get(name) ?? []);
      for (const a of addrs) { const x = tryParseMaskedCidr(a); if (x && x.prefix === 32) set.add(x.text.slice(0, -3)); }
      next.set(name, [...set].sort());
    }
    const changed: string[] = [];
    for (const [n, a] of next) { const b = this.fqdnNames.get(n); if (!b || !sameList(a, b)) changed.push(n); }
    for (const n of this.fqdnNames.keys()) if (!next.has(n)) changed.push(n);
    this.fqdnNames = next;
    if (changed.length === 0) return [];
    this.fqdnCache = new WeakMap();
    changed.sort();
    this.record({ t: 'fqdn', names: changed });
    return changed;
  }

  /**
   * Whether a toFQDNs peer of a policy in force selects the name (any case,
   * trailing dot optional): only then must the DNS proxy wait until the
   * datapath allows the answer's addresses before releasing it.
   */
  fqdnSelected(name: string): boolean {
    for (const p of this.policies.values()) if (p.usesFqdn) for (const m of fqdnMatchers(p)) if (m.selects(name)) return true;
    return false;
  }

  /** Distinct selectors cached so far (diagnostics, tests). */
  get cachedSelectors(): number {
    return this.selectors.cachedSelectors;
  }

  // ---- per endpoint ----

  /**
   * The keys of endpoints a policy's current or previous version selects (by
   * subject), among `endpoints`: the ones to recompute after upsertPolicy or
   * deletePolicy of that key.
   */
  endpointsAffectedBy<E extends EndpointInfo>(policyKey: string, endpoints: readonly E[]): E[] {
    const versions = [this.policies.get(policyKey), this.replaced.get(policyKey)].filter((p): p is CompiledPolicy => p !== undefined);
    if (versions.length === 0) return [];
    return endpoints.filter((ep) => {
      const idx = indexLabels(ep.labels);
      return versions.some((v) => v.rules.some((r) => r.subject !== undefined && selectorMatches(r.subject, ep.identity, idx)));
    });
  }

  /** The endpoint's policy map entries and what put them there. */
  computeEndpoint(ep: EndpointInfo): EndpointPolicy {
    const selecting = this.selectingRules(ep);
    const errors: PolicyProblem[] = [];
    const acc = new EntryBuilder(this.proxyPorts !== undefined);
    const vis = this.visibilityOf(ep);
    const { enforced, defaultDeny } = this.defaults(selecting, acc, vis);
    for (const dir of ['ingress', 'egress'] as const) {
      if (!enforced[dir]) continue;
      for (const r of selecting) {
        if (!r[dir]) continue;
        for (const s of r[dir].allow) this.addSection(acc, dir, s, 'allow', r.origin, ep, errors);
        for (const s of r[dir].deny) this.addSection(acc, dir, s, 'deny', r.origin, ep, errors);
      }
    }
    let entries = this.finish(acc);
    let l7: L7Redirect[] = [];
    if (acc.allows) {
      const allows = acc.allows;
      const by: Record<Direction, Map<number, PolicyMapEntry[]>> = { ingress: new Map(), egress: new Map() };
      for (const e of entries) {
        const m = by[e.direction];
        const list = m.get(e.identity);
        if (list) list.push(e);
        else m.set(e.identity, [e]);
      }
      const r = computeRedirects(this.proxyPorts, (fn) => { for (const a of allows) fn(a.direction, a.identity, a.k, a.origin, a.l7); }, (dir) => by[dir], vis.keys);
      errors.push(...r.problems);
      if (r.overlay.size) {
        const keys = new Set(entries.map((e) => entryKey(e)));
        entries = entries.map((e) => r.overlay.get(entryKey(e)) ?? e);
        for (const [k, e] of r.overlay) if (!keys.has(k)) entries.push(e);
        entries.sort(compareEntries);
      }
      l7 = r.l7;
    }
    return {
      ingressEnforced: enforced.ingress, egressEnforced: enforced.egress, ingressDefaultDeny: defaultDeny.ingress, egressDefaultDeny: defaultDeny.egress,
      entries, selectedBy: selectedByOf(selecting), errors: dedupeProblems([...vis.problems, ...errors]), l7,
    };
  }

  /** The rules whose subject selects the endpoint, in policy order. */
  private selectingRules(ep: EndpointInfo): CompiledRule[] {
    const idx = indexLabels(ep.labels);
    const selecting: CompiledRule[] = [];
    for (const p of this.policies.values()) for (const r of p.rules) if (r.subject && selectorMatches(r.subject, ep.identity, idx)) selecting.push(r);
    return selecting;
  }

  /**
   * Which directions the selecting rules enforce and with which default;
   * puts each enforced direction's default entry (default deny naming the
   * enforcers, or default-allow) and, on ingress, allow-localhost into `sink`.
   */
  private defaults(selecting: readonly CompiledRule[], sink: EntrySink, vis: VisibilityUse): { enforced: Record<Direction, boolean>; defaultDeny: Record<Direction, boolean> } {
    const enforced = { ingress: false, egress: false };
    const defaultDeny = { ingress: false, egress: false };
    if (this.enforcement === 'never') return { enforced, defaultDeny };
    for (const dir of ['ingress', 'egress'] as const) {
      const rules = selecting.filter((r) => r[dir]);
      const enforcers = rules.filter((r) => r[dir]!.enforce).map((r) => r.origin);
      if (this.enforcement === 'always') enforcers.push(ENFORCEMENT_ALWAYS);
      // The visibility annotation alone: enforced (so the datapath looks the redirect up) with default allow.
      const visibilityOnly = rules.length === 0 && enforcers.length === 0 && vis.keys[dir].length > 0;
      if (rules.length === 0 && enforcers.length === 0 && !visibilityOnly) continue;
      // Rules in this direction make it enforced; only a rule that keeps default deny on makes it default deny.
      enforced[dir] = true;
      defaultDeny[dir] = enforcers.length > 0;
      if (defaultDeny[dir]) for (const o of enforcers) sink.add(dir, 0, ANY_PORT, 'defaultDeny', o);
      else sink.add(dir, 0, ANY_PORT, 'allow', visibilityOnly ? VISIBILITY_ANNOTATION : DEFAULT_ALLOW);
      if (dir === 'ingress' && this.allowLocalhost) sink.add(dir, ReservedIdentity.host, ANY_PORT, 'allow', ALLOW_LOCALHOST);
    }
    return { enforced, defaultDeny };
  }

  /**
   * The endpoint's proxy-visibility annotation as this repository can honour
   * it: ingress HTTP ports need the ingress proxy port and enforcement
   * other than 'never'; otherwise none, and a warning saying why.
   */
  private visibilityOf(ep: EndpointInfo): VisibilityUse {
    const keys: Record<Direction, L7PortKey[]> = { ingress: [], egress: [] };
    const v = ep.visibility;
    if (!v) return { keys, problems: [] };
    const problems = [...v.problems];
    for (const dir of ['ingress', 'egress'] as const) {
      const ports = dir === 'ingress' ? v.ingressHttp : v.egressHttp;
      if (ports.length === 0) continue;
      const why = this.enforcement === 'never' ? 'policy enforcement is never' : this.proxyPorts?.[dir] === undefined ? `this node has no L7 proxy for ${dir}` : undefined;
      if (why) problems.push({ severity: 'warning', policy: v.source, path: `metadata.annotations[${v.annotation}]`, message: `not honoured: ${why}; ${dir} TCP ${ports.join(', ')} is not redirected and gives no L7 records` });
      else keys[dir] = ports.map((port) => ({ protocol: Proto.tcp, port, portPrefixLen: 16 }));
    }
    return { keys, problems };
  }

  // ---- incremental, per endpoint ----

  /**
   * The endpoint's policy brought up to date with every change since the
   * last call for this endpoint id, and the map writes that take the entries
   * of that call to these (the first call: from none). Equal to
   * computeEndpoint(ep) in every field (the property test holds it to that);
   * what it costs follows the change, not the policy's size:
   *  - a policy upserted or deleted: the rules it had or has that select the
   *    endpoint are taken out and put in (plus the direction defaults);
   *  - an identity added, changed or deleted: only the selecting rules with a
   *    peer selector whose selection changed (the selector cache says which),
   *    a `cluster` entity (pod identities) or a toServices peer;
   *  - learned DNS names changed (setFqdnNames): only the selecting rules
   *    with a toFQDNs peer that selects one of the changed names;
   *  - CIDR identities added, removed or moved (setCidrIdentities; a
   *    learned address brings its /32): only those identities' entries of
   *    the rules with a peer that can select CIDR identities;
   *  - the endpoint's labels, identity, namespace or named ports, the
   *    options, CIDR groups or identities replaced whole:
   *    every rule again (the diff still writes only what differs).
   * Each rule's contribution is kept as (direction, identity, port key,
   * verdict, origin) tuples counted per key; only the (direction, identity)
   * groups a changed tuple touches are resolved again (resolveGroup, shared
   * with computeEndpoint) and compared with what they gave before.
   */
  updateEndpoint(ep: EndpointInfo): EndpointUpdate {
    const key = endpointKey(ep);
    let st = this.states.get(ep.id);
    if (!st) this.states.set(ep.id, (st = new EndpointState()));
    let full = st.key !== key || st.gen < this.logBase;
    let policiesChanged = false;
    let identities = false;
    let pods = false;
    let inputs = false;
    const fqdnChanged = new Set<string>();
    const cidrChanged = new Set<number>();
    const sels = new Set<string>();
    const changedIds = new Set<number>();
    if (!full) {
      for (let i = st.gen - this.logBase; i < this.log.length; i++) {
        const c = this.log[i]!;
        if (c.t === 'all') { full = true; break; }
        if (c.t === 'policy') policiesChanged = true;
        else if (c.t === 'inputs') inputs = true;
        else if (c.t === 'fqdn') for (const n of c.names) fqdnChanged.add(n);
        else if (c.t === 'cidr') for (const id of c.ids) cidrChanged.add(id);
        else {
          identities = true;
          pods ||= c.pod;
          changedIds.add(c.id);
          for (const k of c.sels) sels.add(k);
        }
      }
    }
    st.key = key;
    st.gen = this.logBase + this.log.length;
    // Part of the key and of the options: it changes only with a full recomputation.
    const vis = this.visibilityOf(ep);
    if (full) {
      // Start over from no contributions; the groups the map holds stay to be compared against.
      for (const g of st.out.keys()) st.dirty.add(g);
      st.acc.clear();
      st.rules.clear();
      st.builtin = undefined;
    }
    if (full || policiesChanged) {
      const selecting = this.selectingRules(ep);
      const now = new Set(selecting);
      for (const [r, c] of st.rules) if (!now.has(r)) { st.apply(c, -1); st.rules.delete(r); }
      const builtin = new Contribution();
      const d = this.defaults(selecting, builtin, vis);
      if (!st.builtin || !sameContribution(st.builtin, builtin)) {
        if (st.builtin) st.apply(st.builtin, -1);
        st.apply(builtin, 1);
        st.builtin = builtin;
      }
      const origins = (dir: Direction) => selecting.filter((r) => r[dir]).map((r) => r.origin);
      if (full || !sameList(origins('ingress'), st.selectingOrigins.ingress) || !sameList(origins('egress'), st.selectingOrigins.egress)) {
        st.selectingOrigins = { ingress: origins('ingress'), egress: origins('egress') };
        st.selectedBy = { ingress: normaliseOrigins(st.selectingOrigins.ingress), egress: normaliseOrigins(st.selectingOrigins.egress) };
      }
      st.selecting = selecting;
      st.enforced = d.enforced;
      st.defaultDeny = d.defaultDeny;
    }
    let errorsChanged = full || policiesChanged;
    for (const r of st.selecting) {
      const old = st.rules.get(r);
      if (old) {
        if (!identities && !inputs && fqdnChanged.size === 0 && cidrChanged.size === 0) continue;
        const deps = this.depsOf(r);
        const whole = (deps.inputs && (inputs || identities)) || (deps.pods && pods)
          || (fqdnChanged.size > 0 && deps.fqdn.some((m) => { for (const n of fqdnChanged) if (m.selects(n)) return true; return false; }));
        const selHit = identities && intersects(deps.sels, sels);
        const cidrHit = deps.cidr && cidrChanged.size > 0;
        if (!whole && !selHit && !cidrHit) continue;
        if (!whole && !deps.namedPorts) {
          // Only peer selectors or CIDR identities saw the change: only the changed identities' entries of
          // this rule can differ (Cilium's selector-cache delta). A rule with named ports is recomputed
          // whole: whether it warns of an undefined named port depends on its peers selecting anyone.
          const ids = selHit && cidrHit ? new Set([...changedIds, ...cidrChanged]) : selHit ? changedIds : cidrChanged;
          st.rules.set(r, this.replaceIdentities(st, r, old, ep, ids));
          continue;
        }
        st.apply(old, -1);
      }
      const c = new Contribution();
      if (this.enforcement !== 'never') {
        for (const dir of ['ingress', 'egress'] as const) {
          if (!r[dir]) continue;
          for (const s of r[dir].allow) this.addSection(c, dir, s, 'allow', r.origin, ep, c.errors[dir]);
          for (const s of r[dir].deny) this.addSection(c, dir, s, 'deny', r.origin, ep, c.errors[dir]);
        }
      }
      st.apply(c, 1);
      st.rules.set(r, c);
      errorsChanged ||= (old?.errors.ingress.length ?? 0) + (old?.errors.egress.length ?? 0) + c.errors.ingress.length + c.errors.egress.length > 0;
    }
    if (errorsChanged) {
      const errors: PolicyProblem[] = [];
      for (const dir of ['ingress', 'egress'] as const) for (const r of st.selecting) errors.push(...(st.rules.get(r)?.errors[dir] ?? []));
      st.baseErrors = [...vis.problems, ...errors];
      st.errors = dedupeProblems([...st.baseErrors, ...st.l7Problems]);
    }
    let writes = st.resolve(new CookieMemo(this.cookies));
    if (st.overlay.size || (this.proxyPorts && (st.hasL7() || vis.keys.ingress.length || vis.keys.egress.length))) {
      const next = computeRedirects(this.proxyPorts, st.walkAllows(), st.groups(), vis.keys);
      if (next.problems.length || st.l7Problems.length) {
        st.l7Problems = next.problems;
        st.errors = dedupeProblems([...st.baseErrors, ...st.l7Problems]);
      }
      writes = st.applyRedirects(next, writes);
    } else if (st.l7Problems.length) {
      st.l7Problems = [];
      st.errors = dedupeProblems(st.baseErrors);
    }
    return { policy: st.policy(), upserts: writes.upserts, deletes: writes.deletes };
  }

  /** The rule's contribution with the entries of identities `ids` recomputed, the difference applied to the endpoint's state. */
  private replaceIdentities(st: EndpointState, r: CompiledRule, old: Contribution, ep: EndpointInfo, ids: ReadonlySet<number>): Contribution {
    const next = new Contribution();
    const gone = new Contribution();
    for (let i = 0, j = 0; i < old.keys.length; i += 3, j++) {
      (ids.has(Math.floor(old.keys[i]! / 2)) ? gone : next).copy(old, j);
    }
    const added = new Contribution();
    for (const dir of ['ingress', 'egress'] as const) {
      if (!r[dir] || this.enforcement === 'never') continue;
      for (const s of r[dir].allow) this.addSection(added, dir, s, 'allow', r.origin, ep, added.errors[dir], ids);
      for (const s of r[dir].deny) this.addSection(added, dir, s, 'deny', r.origin, ep, added.errors[dir], ids);
    }
    st.apply(gone, -1);
    st.apply(added, 1);
    for (let j = 0; j < added.origins.length; j++) next.copy(added, j);
    next.errors.ingress.push(...old.errors.ingress);
    next.errors.egress.push(...old.errors.egress);
    return next;
  }

  /** Drops what updateEndpoint keeps for an endpoint that is gone (its next call starts from no entries). */
  forgetEndpoint(id: number): void {
    this.states.delete(id);
  }

  /** What a rule's contribution depends on besides the policy and the endpoint. */
  private depsOf(r: CompiledRule): RuleDeps {
    let d = this.ruleDeps.get(r);
    if (!d) {
      d = { sels: new Set(), pods: false, inputs: false, namedPorts: false, fqdn: [], cidr: false };
      for (const dir of ['ingress', 'egress'] as const) {
        const rules = r[dir];
        if (!rules) continue;
        for (const s of [...rules.allow, ...rules.deny]) {
          for (const peer of s.peers) {
            if (peer.t === 'selector') d.sels.add(peer.sel.key);
            else if (peer.t === 'entity' && peer.entity === 'cluster') d.pods = true;
            else if (peer.t === 'service') d.inputs = true;
            else if (peer.t === 'fqdn') d.fqdn.push(peer.matcher);
            if (peer.t === 'cidr' || peer.t === 'cidrGroup' || peer.t === 'fqdn' || peer.t === 'service'
              || (peer.t === 'entity' && (peer.entity === 'world' || peer.entity === 'world-ipv4'))) d.cidr = true;
          }
          if (s.ports.some((p) => p.t === 'named')) {
            d.namedPorts = true;
            // Egress named ports resolve against the peers' own ports.
            if (dir === 'egress') d.inputs = true;
          }
        }
      }
      this.ruleDeps.set(r, d);
    }
    return d;
  }

  /** Appends a change to the log the endpoints' updates replay; an old half is dropped (endpoints behind it start over). */
  private record(c: Change): void {
    this.log.push(c);
    if (this.log.length > MAX_LOG) {
      const drop = this.log.length >> 1;
      this.log.splice(0, drop);
      this.logBase += drop;
    }
  }

  /** `only`: just these peer identities' entries (an identity change, see updateEndpoint). */
  private addSection(acc: EntrySink, dir: Direction, s: Section, verdict: 'allow' | 'deny', origin: Origin, ep: EndpointInfo, errors: PolicyProblem[], only?: ReadonlySet<number>): void {
    const ids = new Set<number>();
    for (const peer of s.peers) for (const id of this.resolvePeer(peer)) if (!only || only.has(id)) ids.add(id);
    if (ids.size === 0) return;
    const policy = originText(origin);
    const auth = verdict === 'allow' && s.auth === true;
    for (const spec of s.ports) {
      if (spec.t === 'named' && dir === 'egress') {
        // Egress named ports resolve against each peer identity's own ports.
        const targets = ids.has(0) ? [...this.peerPorts.keys()] : [...ids];
        let found = false;
        for (const id of targets) {
          for (const np of this.peerPorts.get(id) ?? []) {
            const proto = protoNumber(np.protocol);
            if (np.name.toLowerCase() !== spec.name || !namedProtocolOk(spec, proto)) continue;
            const k = { protocol: proto, port: np.port, portPrefixLen: 16 };
            acc.add(dir, id, k, verdict, origin, verdict === 'allow' ? spec.l7 : undefined);
            if (auth) acc.add(dir, id, k, 'auth', origin);
            found = true;
          }
        }
        if (!found) errors.push({ severity: 'warning', policy, path: spec.path, message: `named port ${JSON.stringify(spec.name)} is not defined by any selected peer; it allows nothing` });
        continue;
      }
      const keys = this.portKeys(spec, ep);
      if (spec.t === 'named' && keys.length === 0) {
        errors.push({ severity: 'warning', policy, path: spec.path, message: `named port ${JSON.stringify(spec.name)} is not defined by endpoint ${ep.id}; it allows nothing` });
      }
      const l7 = verdict === 'allow' && spec.t !== 'all' && spec.t !== 'icmp' ? spec.l7 : undefined;
      for (const id of ids) {
        for (const k of keys) {
          acc.add(dir, id, k, verdict, origin, l7);
          if (auth) acc.add(dir, id, k, 'auth', origin);
        }
      }
    }
  }

  private portKeys(spec: PortSpec, ep: EndpointInfo): PortKey[] {
    switch (spec.t) {
      case 'all': return [{ protocol: 0, port: 0, portPrefixLen: 0 }];
      case 'icmp': return [{ protocol: Proto.icmp, port: spec.type, portPrefixLen: 16 }];
      case 'range': {
        const prefixes = spec.from === 0 && spec.to === 65535 ? [{ port: 0, len: 0 }] : portRangePrefixes(spec.from, spec.to);
        return spec.protocols.flatMap((protocol) => prefixes.map((p) => ({ protocol, port: p.port, portPrefixLen: p.len })));
      }
      case 'named':
        return (ep.namedPorts ?? [])
          .filter((np) => np.name.toLowerCase() === spec.name && namedProtocolOk(spec, protoNumber(np.protocol)))
          .map((np) => ({ protocol: protoNumber(np.protocol), port: np.port, portPrefixLen: 16 }));
    }
  }

  /** The identities a peer stands for (0 = any). */
  private resolvePeer(peer: Peer): Iterable<number> {
    switch (peer.t) {
      case 'any': return [0];
      case 'selector': return this.selectors.select(peer.sel);
      case 'cidr': return this.cidrSelect(peer.cidr, peer.except);
      case 'cidrGroup': return this.groupsOf(peer).flatMap((g) => g.cidrs.flatMap((c) => this.cidrSelect(c, peer.except)));
      case 'entity': return this.entity(peer.entity);
      case 'fqdn': return this.fqdnSelect(peer.matcher);
      case 'service': {
        const out: number[] = [];
        for (const svc of this.servicesOf(peer)) {
          if (hasSelector(svc)) {
            const reqs = selectorRequirements({ matchLabels: svc.selector! }, { defaultSource: 'k8s' });
            reqs.push(namespaceRequirement(svc.namespace));
            out.push(...this.selectors.select(makeSelector(reqs, true)));
          } else {
            for (const a of svc.addresses ?? []) {
              const x = tryParseMaskedCidr(a);
              const hit = x && this.cidrIds.find((c) => c.cidr.text === x.text);
              if (hit) out.push(hit.id);
            }
          }
        }
        return out;
      }
    }
  }

  /** The /32 CIDR identities of the addresses of the learned names the matcher selects (not broader CIDR identities containing them). */
  private fqdnSelect(m: FqdnSelectorMatcher): number[] {
    let ids = this.fqdnCache.get(m);
    if (!ids) {
      const set = new Set<number>();
      for (const [name, addrs] of this.fqdnNames) {
        if (!m.selects(name)) continue;
        for (const a of addrs) { const id = this.cidrByText.get(`${a}/32`); if (id !== undefined) set.add(id); }
      }
      ids = [...set].sort((a, b) => a - b);
      this.fqdnCache.set(m, ids);
    }
    return ids;
  }

  /** The CiliumCIDRGroups a cidrGroupRef or cidrGroupSelector names (none yet: selects nothing, as in Cilium). */
  private groupsOf(peer: Extract<Peer, { t: 'cidrGroup' }>): { labels: Record<string, string>; cidrs: Cidr4[] }[] {
    if (peer.name !== undefined) {
      const g = this.cidrGroups.get(peer.name);
      return g ? [g] : [];
    }
    return [...this.cidrGroups.values()].filter((g) => plainSelectorMatches(peer.selector!, g.labels));
  }

  private servicesOf(peer: Extract<Peer, { t: 'service' }>): ServiceInfo[] {
    return this.services.filter((s) => {
      if (peer.namespace !== undefined && s.namespace !== peer.namespace) return false;
      if (peer.name !== undefined) return s.name === peer.name;
      if (peer.selector) return plainSelectorMatches(peer.selector, s.labels ?? {});
      return false;
    });
  }

  /** CIDR identities inside `cidr` and inside no `except`; a /0 adds world and world-ipv4. */
  private cidrSelect(cidr: Cidr4, except: Cidr4[]): number[] {
    const key = `${cidr.text}|${except.map((e) => e.text).join(',')}`;
    let ids = this.cidrCache.get(key);
    if (!ids) {
      const set = new Set<number>();
      if (cidr.prefix === 0) { set.add(ReservedIdentity.world); set.add(ReservedIdentity['world-ipv4']); }
      // Only the run of identities whose base lies in [cidr.base, cidr.base + size): a scan of every
      // CIDR identity per peer made 10k prefixes cost 10k × 10k checks (17 s) on the first computation.
      const end = cidr.base + cidr.size;
      for (let i = lowerBound(this.cidrIds, cidr.base); i < this.cidrIds.length && this.cidrIds[i]!.cidr.base < end; i++) {
        const c = this.cidrIds[i]!;
        if (c.cidr.prefix >= cidr.prefix && !except.some((e) => cidrInside(c.cidr, e))) set.add(c.id);
      }
      ids = [...set];
      this.cidrCache.set(key, ids);
    }
    return ids;
  }

  private entity(name: string): number[] {
    const cidrs = () => this.cidrIds.map((c) => c.id);
    switch (name) {
      case 'all': return [0];
      case 'world': return [ReservedIdentity.world, ReservedIdentity['world-ipv4'], ...cidrs()];
      case 'world-ipv4': return [ReservedIdentity['world-ipv4'], ...cidrs()];
      case 'world-ipv6': return [ReservedIdentity['world-ipv6']];
      case 'cluster': return [...this.selectors.podIdentities(), ...CLUSTER_RESERVED];
      case 'host': return [ReservedIdentity.host];
      case 'remote-node': return [ReservedIdentity['remote-node'], ReservedIdentity['kube-apiserver']];
      case 'kube-apiserver': return [ReservedIdentity['kube-apiserver']];
      case 'init': return [ReservedIdentity.init];
      case 'health': return [ReservedIdentity.health];
      case 'unmanaged': return [ReservedIdentity.unmanaged];
      case 'ingress': return [ReservedIdentity.ingress];
      default: return [];
    }
  }

  /** Merges verdicts per key, materialises deny precedence, assigns cookies, sorts. */
  private finish(acc: EntryBuilder): PolicyMapEntry[] {
    const out: PolicyMapEntry[] = [];
    const memo = new CookieMemo(this.cookies);
    for (const direction of ['egress', 'ingress'] as const) {
      for (const [identity, m] of acc.byDir[direction]) resolveGroup(direction, identity, [...m.values()], memo, (e) => out.push(e));
    }
    return out.sort(compareEntries);
  }
}

/**
 * The entries of one (direction, identity): verdicts merged per key
 * (deny > allow > default-deny), and an allow covered by a deny of the same
 * identity with the same or a broader protocol/port prefix emitted as that
 * deny. Both the from-scratch and the incremental computation end here, so
 * they cannot disagree on what a key's contributions mean.
 */
function resolveGroup(direction: Direction, identity: number, accs: readonly Acc[], memo: CookieMemo, emit: (e: PolicyMapEntry) => void): void {
  let denies: Acc[] | undefined;
  let auths: Acc[] | undefined;
  for (const a of accs) {
    if (a.deny) (denies ??= []).push(a);
    if (a.auth && a.allow) (auths ??= []).push(a);
  }
  for (const a of accs) {
    let verdict: PolicyMapEntry['verdict'];
    let origins: Origin[];
    let auth = false;
    if (a.deny) { verdict = 'deny'; origins = a.deny; }
    else if (a.allow) {
      const covering = denies?.filter((d) => covers(d, a));
      if (covering?.length) { verdict = 'deny'; origins = covering.flatMap((d) => d.deny!); }
      else {
        verdict = 'allow';
        origins = a.allow;
        // Mutual authentication: asked by a rule on this key, or by one on a broader key of the same
        // identity (the trie returns only the most specific entry; Cilium propagates it the same way).
        auth = a.auth !== undefined || (auths?.some((x) => covers(x, a)) ?? false);
      }
    } else { verdict = 'default-deny'; origins = a.defaultDeny ?? []; }
    const e: PolicyMapEntry = { direction, identity, protocol: a.protocol, port: a.port, portPrefixLen: a.portPrefixLen, verdict, cookie: memo.cookie(origins), proxyPort: 0 };
    if (auth) e.authRequired = true;
    emit(e);
  }
}

/** The first index of `sorted` (by base address) whose base is >= `base`. */
function lowerBound(sorted: readonly { cidr: Cidr4 }[], base: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.cidr.base < base) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** True when deny entry `d` (same direction and identity) covers key `a`: same or broader protocol/port prefix. */
function covers(d: PortKey, a: PortKey): boolean {
  if (d.protocol === 0) return true;
  if (d.protocol !== a.protocol) return false;
  return d.portPrefixLen <= a.portPrefixLen && portPrefix(a.port, d.portPrefixLen) === portPrefix(d.port, d.portPrefixLen);
}

/** The proxy ports as given, checked (the agent's configuration; a bad one is a programming error); undefined when none is set. */
function checkProxyPorts(p: PolicyOptions['proxyPorts']): ProxyPorts | undefined {
  if (p === undefined) return undefined;
  const check = (name: string, n: number | undefined) => {
    if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 65535)) throw new RangeError(`policy engine: proxyPorts.${name} ${JSON.stringify(n)} must be a port 1..65535`);
  };
  check('ingress', p.ingress);
  check('egress', p.egress);
  check('dns', p.dns);
  check('kafka.ingress', p.kafka?.ingress);
  check('kafka.egress', p.kafka?.egress);
  const out: ProxyPorts = {
    ...(p.ingress !== undefined ? { ingress: p.ingress } : {}), ...(p.egress !== undefined ? { egress: p.egress } : {}), ...(p.dns !== undefined ? { dns: p.dns } : {}),
    ...(p.kafka?.ingress !== undefined || p.kafka?.egress !== undefined
      ? { kafka: { ...(p.kafka.ingress !== undefined ? { ingress: p.kafka.ingress } : {}), ...(p.kafka.egress !== undefined ? { egress: p.kafka.egress } : {}) } }
      : {}),
  };
  return Object.keys(out).length ? out : undefined;
}

/** The toFQDNs matchers of a policy's allow sections. */
function fqdnMatchers(p: CompiledPolicy): FqdnSelectorMatcher[] {
  const out: FqdnSelectorMatcher[] = [];
  for (const r of p.rules) for (const s of r.egress?.allow ?? []) for (const peer of s.peers) if (peer.t === 'fqdn') out.push(peer.matcher);
  return out;
}

function protoNumber(p: string): number {
  return p === 'UDP' ? Proto.udp : p === 'SCTP' ? Proto.sctp : Proto.tcp;
}

function hasSelector(s: ServiceInfo): boolean {
  return s.selector !== undefined && Object.keys(s.selector).length > 0;
}

/** A Kubernetes selector over plain labels (Service labels); a source prefix on a key is ignored. */
function plainSelectorMatches(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }, labels: Record<string, string>): boolean {
  const idx: LabelIndex = new Map(Object.entries(labels).map(([k, v]) => [k, { source: 'k8s', key: k, value: v }]));
  const reqs = selectorRequirements(sel as never).map((r) => ({ ...r, source: '', key: splitSelectorKey(r.key).key }));
  return selectorMatches(makeSelector(reqs, false), 0, idx);
}

function dedupeProblems(list: PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const k = `${p.policy}|${p.path}|${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
