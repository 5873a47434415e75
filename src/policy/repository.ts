/**
 * The policy repository: accepted policies, identities, CIDR identities,
 * Services and peers' named ports in; per-endpoint policy map entries out.
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
 *      datapath checks both lookups for deny first).
 */
import type { LabelSet } from '../identity/labels.js';
import { ReservedIdentity } from '../identity/reserved.js';
import { ALLOW_LOCALHOST, CookieTable, DEFAULT_ALLOW, ENFORCEMENT_ALWAYS, normaliseOrigins, originText } from './cookies.js';
import { compareEntries, portPrefix } from './lookup.js';
import { portRangePrefixes } from './ports.js';
import {
  compilePolicy, namedProtocolOk, parsePrefix4, prefixInside,
  type CompiledPolicy, type CompiledRule, type Peer, type PortSpec, type Prefix4, type Section,
} from './rules.js';
import { indexLabels, makeSelector, namespaceRequirement, selectorMatches, selectorRequirements, SelectorCache, splitSelectorKey, type LabelIndex } from './selectors.js';
import {
  Proto, type CidrGroupInfo, type Direction, type EndpointInfo, type EndpointPolicy, type EnforcementMode, type NamedPort, type Origin,
  type PolicyMapEntry, type PolicyOptions, type PolicyProblem, type ServiceInfo,
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
}

/**
 * Entries under construction: per direction, per identity, per numeric port
 * key (the hot path of computeEndpoint, so no strings and no copies).
 */
class EntryBuilder {
  readonly byDir: Record<Direction, Map<number, Map<number, Acc>>> = { ingress: new Map(), egress: new Map() };

  add(direction: Direction, identity: number, k: PortKey, what: 'allow' | 'deny' | 'defaultDeny', origin: Origin): void {
    const any = k.protocol === 0;
    const port = any ? 0 : k.port, len = any ? 0 : k.portPrefixLen;
    const key = k.protocol * 0x200000 + port * 32 + len;
    const dir = this.byDir[direction];
    let m = dir.get(identity);
    if (!m) { m = new Map(); dir.set(identity, m); }
    let a = m.get(key);
    if (!a) { a = { protocol: k.protocol, port, portPrefixLen: len, allow: undefined, deny: undefined, defaultDeny: undefined }; m.set(key, a); }
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
  private readonly policies = new Map<string, CompiledPolicy>();
  /** The version the last upsert/delete of a key replaced (for endpointsAffectedBy). */
  private readonly replaced = new Map<string, CompiledPolicy | undefined>();
  private readonly selectors = new SelectorCache();
  /** Sorted by base address (then length), so the identities inside a prefix are one contiguous run. */
  private cidrIds: { prefix: Prefix4; id: number }[] = [];
  private readonly cidrCache = new Map<string, number[]>();
  private services: ServiceInfo[] = [];
  /** CiliumCIDRGroups by name, with their IPv4 CIDRs parsed. */
  private cidrGroups = new Map<string, { labels: Record<string, string>; cidrs: Prefix4[] }>();
  private peerPorts = new Map<number, NamedPort[]>();

  constructor(opts: { cookies?: CookieTable; options?: PolicyOptions } = {}) {
    this.cookies = opts.cookies ?? new CookieTable();
    this.enforcement = opts.options?.enforcement ?? 'default';
    this.allowLocalhost = opts.options?.allowLocalhost ?? true;
  }

  setOptions(o: PolicyOptions): void {
    if (o.enforcement !== undefined) this.enforcement = o.enforcement;
    if (o.allowLocalhost !== undefined) this.allowLocalhost = o.allowLocalhost;
  }

  // ---- policies ----

  /**
   * Adds or replaces a policy. Returns every problem found; when one is an
   * error the new version is rejected whole and the previous one (if any)
   * stays in force.
   */
  upsertPolicy(obj: unknown): PolicyProblem[] {
    const c = compilePolicy(obj);
    if (c.problems.some((p) => p.severity === 'error')) return c.problems;
    this.replaced.set(c.key, this.policies.get(c.key));
    this.policies.set(c.key, c);
    return c.problems;
  }

  /** Removes a policy by key (`CiliumNetworkPolicy/ns/name`, …); false when there was none. */
  deletePolicy(key: string): boolean {
    const had = this.policies.get(key);
    if (!had) return false;
    this.replaced.set(key, had);
    this.policies.delete(key);
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

  /**
   * Every IPv4 prefix the policies name (cidr and except), the CIDRs of the
   * CiliumCIDRGroups they refer to, and the addresses of selector-less
   * Services they refer to, as /32.
   */
  requiredPrefixes(): string[] {
    const out = new Set<string>();
    let services = false;
    for (const p of this.policies.values()) {
      for (const x of p.prefixes) out.add(x);
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
          for (const svc of this.servicesOf(peer)) if (!hasSelector(svc)) for (const a of svc.addresses ?? []) { const x = parsePrefix4(a); if (x) out.add(x.text); }
        }
      }
    }
    return [...out].sort();
  }

  // ---- identities and other inputs ----

  /** Replaces every identity (id → labels). */
  setIdentities(ids: Iterable<[number, LabelSet]> | ReadonlyMap<number, LabelSet>): void {
    this.selectors.setIdentities(ids);
  }

  upsertIdentity(id: number, labels: LabelSet): void {
    this.selectors.upsertIdentity(id, labels);
  }

  deleteIdentity(id: number): void {
    this.selectors.deleteIdentity(id);
  }

  /** The node's CIDR identities: prefix → identity. */
  setCidrIdentities(m: Iterable<[string, number]> | ReadonlyMap<string, number> | Record<string, number>): void {
    const entries = Symbol.iterator in Object(m) ? [...(m as Iterable<[string, number]>)] : Object.entries(m as Record<string, number>);
    this.cidrIds = [];
    for (const [text, id] of entries) {
      const prefix = parsePrefix4(text);
      if (prefix) this.cidrIds.push({ prefix, id });
    }
    this.cidrIds.sort((a, b) => a.prefix.base - b.prefix.base || a.prefix.len - b.prefix.len);
    this.cidrCache.clear();
  }

  /** Replaces the CiliumCIDRGroups; true when what policies may see of them changed. */
  setCidrGroups(groups: readonly CidrGroupInfo[]): boolean {
    const next = new Map(groups.map((g) => [g.name, {
      labels: { ...(g.labels ?? {}) },
      cidrs: g.cidrs.map((c) => parsePrefix4(c)).filter((c): c is Prefix4 => c !== undefined),
    }]));
    const text = (m: typeof next) => JSON.stringify([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([n, g]) => [n, g.labels, g.cidrs.map((c) => c.text)]));
    if (text(next) === text(this.cidrGroups)) return false;
    this.cidrGroups = next;
    return true;
  }

  /** Whether any policy in force refers to CiliumCIDRGroups. */
  usesCidrGroups(): boolean {
    for (const p of this.policies.values()) if (p.usesCidrGroups) return true;
    return false;
  }

  setServices(services: readonly ServiceInfo[]): void {
    this.services = [...services];
  }

  /** Named ports of peer identities (union over their pods), for egress named ports. */
  setPeerNamedPorts(m: Iterable<[number, NamedPort[]]> | ReadonlyMap<number, NamedPort[]>): void {
    this.peerPorts = new Map(m);
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
    const idx = indexLabels(ep.labels);
    const selecting: CompiledRule[] = [];
    for (const p of this.policies.values()) for (const r of p.rules) if (r.subject && selectorMatches(r.subject, ep.identity, idx)) selecting.push(r);
    const selectedBy = {
      ingress: normaliseOrigins(selecting.filter((r) => r.ingress).map((r) => r.origin)),
      egress: normaliseOrigins(selecting.filter((r) => r.egress).map((r) => r.origin)),
    };
    const errors: PolicyProblem[] = [];
    const acc = new EntryBuilder();
    const enforced = { ingress: false, egress: false };
    const defaultDeny = { ingress: false, egress: false };
    if (this.enforcement !== 'never') {
      for (const dir of ['ingress', 'egress'] as const) {
        const rules = selecting.filter((r) => r[dir]);
        const enforcers = rules.filter((r) => r[dir]!.enforce).map((r) => r.origin);
        if (this.enforcement === 'always') enforcers.push(ENFORCEMENT_ALWAYS);
        if (rules.length === 0 && enforcers.length === 0) continue;
        // Rules in this direction make it enforced; only a rule that keeps default deny on makes it default deny.
        enforced[dir] = true;
        defaultDeny[dir] = enforcers.length > 0;
        if (defaultDeny[dir]) for (const o of enforcers) acc.add(dir, 0, ANY_PORT, 'defaultDeny', o);
        else acc.add(dir, 0, ANY_PORT, 'allow', DEFAULT_ALLOW);
        if (dir === 'ingress' && this.allowLocalhost) acc.add(dir, ReservedIdentity.host, ANY_PORT, 'allow', ALLOW_LOCALHOST);
        for (const r of rules) {
          for (const s of r[dir]!.allow) this.addSection(acc, dir, s, 'allow', r.origin, ep, errors);
          for (const s of r[dir]!.deny) this.addSection(acc, dir, s, 'deny', r.origin, ep, errors);
        }
      }
    }
    return {
      ingressEnforced: enforced.ingress, egressEnforced: enforced.egress, ingressDefaultDeny: defaultDeny.ingress, egressDefaultDeny: defaultDeny.egress,
      entries: this.finish(acc), selectedBy, errors: dedupeProblems(errors),
    };
  }

  private addSection(acc: EntryBuilder, dir: Direction, s: Section, verdict: 'allow' | 'deny', origin: Origin, ep: EndpointInfo, errors: PolicyProblem[]): void {
    const ids = new Set<number>();
    for (const peer of s.peers) for (const id of this.resolvePeer(peer)) ids.add(id);
    if (ids.size === 0) return;
    const policy = originText(origin);
    for (const spec of s.ports) {
      if (spec.t === 'named' && dir === 'egress') {
        // Egress named ports resolve against each peer identity's own ports.
        const targets = ids.has(0) ? [...this.peerPorts.keys()] : [...ids];
        let found = false;
        for (const id of targets) {
          for (const np of this.peerPorts.get(id) ?? []) {
            const proto = protoNumber(np.protocol);
            if (np.name.toLowerCase() !== spec.name || !namedProtocolOk(spec, proto)) continue;
            acc.add(dir, id, { protocol: proto, port: np.port, portPrefixLen: 16 }, verdict, origin);
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
      for (const id of ids) for (const k of keys) acc.add(dir, id, k, verdict, origin);
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
      case 'service': {
        const out: number[] = [];
        for (const svc of this.servicesOf(peer)) {
          if (hasSelector(svc)) {
            const reqs = selectorRequirements({ matchLabels: svc.selector! }, { defaultSource: 'k8s' });
            reqs.push(namespaceRequirement(svc.namespace));
            out.push(...this.selectors.select(makeSelector(reqs, true)));
          } else {
            for (const a of svc.addresses ?? []) {
              const x = parsePrefix4(a);
              const hit = x && this.cidrIds.find((c) => c.prefix.text === x.text);
              if (hit) out.push(hit.id);
            }
          }
        }
        return out;
      }
    }
  }

  /** The CiliumCIDRGroups a cidrGroupRef or cidrGroupSelector names (none yet: selects nothing, as in Cilium). */
  private groupsOf(peer: Extract<Peer, { t: 'cidrGroup' }>): { labels: Record<string, string>; cidrs: Prefix4[] }[] {
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
  private cidrSelect(cidr: Prefix4, except: Prefix4[]): number[] {
    const key = `${cidr.text}|${except.map((e) => e.text).join(',')}`;
    let ids = this.cidrCache.get(key);
    if (!ids) {
      const set = new Set<number>();
      if (cidr.len === 0) { set.add(ReservedIdentity.world); set.add(ReservedIdentity['world-ipv4']); }
      // Only the run of identities whose base lies in [cidr.base, cidr.base + size): a scan of every
      // CIDR identity per peer made 10k prefixes cost 10k × 10k checks (17 s) on the first computation.
      const end = cidr.base + 2 ** (32 - cidr.len);
      for (let i = lowerBound(this.cidrIds, cidr.base); i < this.cidrIds.length && this.cidrIds[i]!.prefix.base < end; i++) {
        const c = this.cidrIds[i]!;
        if (c.prefix.len >= cidr.len && !except.some((e) => prefixInside(c.prefix, e))) set.add(c.id);
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
      for (const [identity, m] of acc.byDir[direction]) {
        let denies: Acc[] | undefined;
        for (const a of m.values()) if (a.deny) (denies ??= []).push(a);
        for (const a of m.values()) {
          let verdict: PolicyMapEntry['verdict'];
          let origins: Origin[];
          if (a.deny) { verdict = 'deny'; origins = a.deny; }
          else if (a.allow) {
            const covering = denies?.filter((d) => covers(d, a));
            if (covering?.length) { verdict = 'deny'; origins = covering.flatMap((d) => d.deny!); }
            else { verdict = 'allow'; origins = a.allow; }
          } else { verdict = 'default-deny'; origins = a.defaultDeny ?? []; }
          out.push({ direction, identity, protocol: a.protocol, port: a.port, portPrefixLen: a.portPrefixLen, verdict, cookie: memo.cookie(origins) });
        }
      }
    }
    return out.sort(compareEntries);
  }
}

/** The first index of `sorted` (by base address) whose base is >= `base`. */
function lowerBound(sorted: readonly { prefix: Prefix4 }[], base: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.prefix.base < base) lo = mid + 1;
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
