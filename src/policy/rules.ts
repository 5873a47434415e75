/**
 * Translation of the three policy kinds into one internal rule form: a
 * subject selector, and per direction the allow and deny sections, each a
 * cross product of peers and ports. Everything that can be decided without
 * identities happens here, once per policy version; problems carry the
 * object's field paths. Admission (src/k8s/validate.ts) normally rejects bad
 * input first; these checks are the engine's own defence.
 */
import { checkSelector, SELECTOR_OPERATORS } from '../k8s/selector.js';
import {
  CILIUM_ENTITIES, type CiliumEntity, type CiliumRule, type CIDRRule, type CiliumPortRule, type ICMPRule, type LabelSelector,
  type FQDNSelector, type NetworkPolicy, type NetworkPolicyPeer, type PortRuleDNS, type PortRuleHTTP, type PortRuleKafka,
} from '../k8s/types.js';
import { compileFqdnSelectors, type FqdnSelectorMatcher } from '../l7/dns/rules.js';
import { tryParseMaskedCidr, type Cidr4 } from '../ipam/cidr.js';
import { originText } from './cookies.js';
import { icmpType, protocolNumbers } from './ports.js';
import { makeSelector, namespaceRequirement, namesNamespace, selectorRequirements, type CompiledSelector, type Requirement } from './selectors.js';
import { Proto, type Direction, type Origin, type PolicyProblem, type ProblemSeverity } from './types.js';
import { isRecord } from '../common/json.js';

/** Who a section applies to. */
export type Peer =
  | { t: 'any' }
  | { t: 'selector'; sel: CompiledSelector }
  | { t: 'cidr'; cidr: Cidr4; except: Cidr4[] }
  | { t: 'entity'; entity: CiliumEntity }
  /** toCIDRSet/fromCIDRSet by CiliumCIDRGroup: by name or by the groups' labels; each group CIDR minus except. */
  | { t: 'cidrGroup'; name?: string; selector?: LabelSelector; except: Cidr4[] }
  /** toServices; `namespace` defaults to the policy's (a CCNP without one matches Services of any namespace). */
  | { t: 'service'; name?: string; namespace?: string; selector?: LabelSelector }
  /** toFQDNs: the /32 CIDR identities of the addresses learned for the names it selects (PolicyRepository.setFqdnNames). */
  | { t: 'fqdn'; matcher: FqdnSelectorMatcher };

/**
 * The L7 rules of an allow port that the node proxy enforces (compiled with
 * that parser's proxy): the parser, the rules as written (non-empty) and
 * their field path (`spec.egress[0].toPorts[0].rules.dns`).
 */
export type L7Rules =
  | { parser: 'http'; rules: readonly PortRuleHTTP[]; path: string }
  | { parser: 'dns'; rules: readonly PortRuleDNS[]; path: string }
  | { parser: 'kafka'; rules: readonly PortRuleKafka[]; path: string };

/**
 * Which ports a section applies to. `l7`: the port rule's L7 rules when the
 * engine enforces them through the node proxy (compiled with that parser's
 * proxy, an allow section, no TLS/listener settings); HTTP and Kafka ports
 * are TCP, DNS ports UDP and/or TCP.
 */
export type PortSpec =
  | { t: 'all' }
  | { t: 'range'; protocols: number[]; from: number; to: number; l7?: L7Rules }
  | { t: 'named'; name: string; protocols: number[]; path: string; l7?: L7Rules }
  | { t: 'icmp'; type: number };

/** How compilePolicy treats what needs the node proxy. */
export interface CompileOptions {
  /** The node proxy enforces `rules.http` (PolicyOptions.proxyPorts ingress/egress): keep the rules on the ports, no note. */
  httpProxy?: boolean | { ingress: boolean; egress: boolean };
  /** The node proxy enforces `rules.dns` (PolicyOptions.proxyPorts.dns; DNS rules are egress only). */
  dnsProxy?: boolean;
  /** The node proxy enforces `rules.kafka` (PolicyOptions.proxyPorts.kafka), per direction. */
  kafkaProxy?: boolean | { ingress: boolean; egress: boolean };
}

/** One ingress/egress (or …Deny) item: every peer × every port. */
export interface Section {
  peers: Peer[];
  ports: PortSpec[];
  path: string;
  /** `authentication: {mode: required}` (an allow section): its entries carry authRequired (issue 15). */
  auth?: boolean;
}

export interface DirectionRules {
  allow: Section[];
  deny: Section[];
  /** False when enableDefaultDeny turns it off for this rule. */
  enforce: boolean;
}

/** One rule (a spec of a CNP/CCNP, or a whole NetworkPolicy). */
export interface CompiledRule {
  origin: Origin;
  path: string;
  /** undefined: selects no endpoint (e.g. a nodeSelector rule). */
  subject: CompiledSelector | undefined;
  ingress?: DirectionRules;
  egress?: DirectionRules;
}

/** One accepted (or rejected) version of a policy. */
export interface CompiledPolicy {
  key: string;
  origin: Origin;
  rules: CompiledRule[];
  /** Every IPv4 CIDR and except prefix the policy names (canonical text). */
  prefixes: string[];
  /** True when the policy has toServices peers (then Service addresses matter). */
  usesServices: boolean;
  /** True when the policy refers to CiliumCIDRGroups (then their CIDRs are prefixes it needs). */
  usesCidrGroups: boolean;
  /** True when the policy has toFQDNs peers (then learned DNS names matter). */
  usesFqdn: boolean;
  /** True when an allow section requires mutual authentication (Section.auth). */
  usesAuth?: boolean;
  problems: PolicyProblem[];
}

const arr = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const q = JSON.stringify;
const PORT_MSG = 'must be between 1 and 65535, inclusive';

/** The key of a policy object: its printable origin. */
export function policyKeyOf(o: Origin): string {
  return originText(o);
}

/** Collects problems of one policy. */
class Problems {
  readonly list: PolicyProblem[] = [];
  readonly prefixes = new Set<string>();
  usesServices = false;
  usesCidrGroups = false;
  usesFqdn = false;
  usesAuth = false;
  constructor(private readonly policy: string, readonly origin: Origin) {}
  add(severity: ProblemSeverity, path: string, message: string): void {
    this.list.push({ severity, policy: this.policy, path, message });
  }
  err(path: string, message: string): void { this.add('error', path, message); }
  warn(path: string, message: string): void { this.add('warning', path, message); }
  note(path: string, message: string): void { this.add('note', path, message); }
}

/** Selector checks the engine repeats in defence: syntax (checkSelector) and operators. */
function checkSel(sel: unknown, path: string, p: Problems, cilium: boolean): sel is LabelSelector {
  if (!isRecord(sel)) { p.err(path, 'Invalid value: must be a label selector object'); return false; }
  let ok = true;
  for (const e of checkSelector(sel, cilium)) { p.err(`${path}.${e.path}`, e.message); ok = false; }
  arr<unknown>(sel.matchExpressions).forEach((r, i) => {
    if (!isRecord(r) || typeof r.key !== 'string') { p.err(`${path}.matchExpressions[${i}]`, 'Invalid value: must have a key and an operator'); ok = false; return; }
    if (!SELECTOR_OPERATORS.includes(r.operator as never)) {
      p.err(`${path}.matchExpressions[${i}].operator`, `Unsupported value: ${q(r.operator)}: supported values: ${SELECTOR_OPERATORS.map((o) => q(o)).join(', ')}`);
      ok = false;
    }
  });
  if (sel.matchLabels !== undefined && !isRecord(sel.matchLabels)) { p.err(`${path}.matchLabels`, 'Invalid value: must be a map of strings'); ok = false; }
  return ok;
}

function cidrPrefix(text: unknown, path: string, p: Problems): Cidr4 | undefined {
  if (typeof text !== 'string') { p.err(path, `Invalid value: ${q(text)}: must be a CIDR`); return undefined; }
  const c = tryParseMaskedCidr(text);
  if (c) { p.prefixes.add(c.text); return c; }
  if (text.includes(':')) { p.warn(path, `Invalid value: ${q(text)}: IPv6 is not supported by the datapath; this prefix selects nothing`); return undefined; }
  p.err(path, `Invalid value: ${q(text)}: must be a valid CIDR or IP address (e.g. 10.9.8.0/24)`);
  return undefined;
}

// ---------------------------------------------------------------------------
// Cilium policies

const UNSUPPORTED_PEERS: Record<Direction, string[]> = {
  ingress: ['fromNodes', 'fromGroups'],
  egress: ['toNodes', 'toGroups'],
};

/** Per parser and direction: whether the node proxy enforces that parser's rules there. */
type ProxyDirs = Record<'http' | 'dns' | 'kafka', { ingress: boolean; egress: boolean }>;

function dirs(o: boolean | { ingress: boolean; egress: boolean } | undefined): { ingress: boolean; egress: boolean } {
  return typeof o === 'object' ? o : { ingress: o === true, egress: o === true };
}

function proxyDirs(o: CompileOptions): ProxyDirs {
  return { http: dirs(o.httpProxy), dns: { ingress: false, egress: o.dnsProxy === true }, kafka: dirs(o.kafkaProxy) };
}

/** The L7 rule kinds of a port rule's `rules` that are set and non-empty (`l7proto` and `l7` are one kind). */
function l7Kinds(rules: Record<string, unknown> | undefined): string[] {
  if (!rules) return [];
  const set = (k: string) => { const v = rules[k]; return v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0); };
  const out = ['http', 'kafka', 'dns'].filter(set);
  if (set('l7proto') || set('l7')) out.push('l7proto');
  return out;
}

/** Why a kind of L7 rules is enforced as its L4 part on this node (for the note). */
function asL4Why(kind: string, dir: Direction, proxy: ProxyDirs): string {
  const any = Object.values(proxy).some((d) => d.ingress || d.egress);
  if (!any) return 'this node has no L7 proxy';
  const name = kind === 'http' ? 'HTTP' : kind === 'dns' ? 'DNS' : 'Kafka';
  return `this node's proxy has no ${name} listener${kind === 'dns' ? '' : ` for ${dir}`}`;
}

/** A port rule's TLS and listener settings (Cilium's PortRule): none is enforced by beeline. */
const TLS_FIELDS = ['serverNames', 'terminatingTLS', 'originatingTLS', 'listener'] as const;

function ciliumPorts(toPorts: unknown, icmps: unknown, path: string, deny: boolean, ingress: boolean, p: Problems, proxy: ProxyDirs): { ports: PortSpec[]; given: boolean } {
  const ports: PortSpec[] = [];
  const tp = arr<CiliumPortRule>(toPorts);
  const ic = arr<ICMPRule>(icmps);
  tp.forEach((rule, i) => {
    const rp = `${path}.toPorts[${i}]`;
    if (!isRecord(rule)) { p.err(rp, 'Invalid value: must be an object'); return; }
    const rules = isRecord(rule.rules) ? rule.rules : undefined;
    const l7 = l7Kinds(rules);
    const dir: Direction = ingress ? 'ingress' : 'egress';
    // What no beeline proxy can enforce is refused, never widened to its L4 part (docs/policy.md, "No
    // silent widening"): TLS and listener settings (SNI matching, TLS termination and origination, a
    // CiliumEnvoyConfig listener) and generic L7 (l7proto) rules.
    const tlsFields = TLS_FIELDS.filter((f) => (f === 'serverNames' ? arr(rule.serverNames).length > 0 : !!rule[f]));
    for (const f of tlsFields) p.err(`${rp}.${f}`, `Forbidden: ${f} is not supported: beeline's proxies do not match SNI, terminate or originate TLS, or run listeners; this port rule cannot be enforced as written`);
    if (l7.includes('l7proto')) p.err(`${rp}.rules.${rules!.l7proto !== undefined && rules!.l7proto !== '' ? 'l7proto' : 'l7'}`, `Unsupported value: generic L7 rules (l7proto ${q(rules!.l7proto ?? '')}): beeline's proxies have HTTP, DNS and Kafka parsers only; this port rule cannot be enforced as written`);
    // As Cilium (L7Rules.sanitize): one kind of L7 rules per port rule, since one port has one parser.
    if (l7.length > 1) p.err(`${rp}.rules`, `Forbidden: multiple L7 protocol rule types (${l7.join(', ')}) in one port rule`);
    // The rules go to the node proxy when it has a listener of their parser for this direction; without
    // one (this node's configuration) the port stays L4, with a note.
    const kind = l7.length === 1 ? l7[0]! : undefined;
    const enforced: L7Rules | undefined = !deny && (kind === 'http' || kind === 'dns' || kind === 'kafka') && proxy[kind][dir]
      ? { parser: kind, rules: rules![kind] as never, path: `${rp}.rules.${kind}` }
      : undefined;
    const asL4 = (enforced ? l7.filter((k) => k !== enforced.parser) : l7).filter((k) => k !== 'l7proto');
    if (deny && l7.length) p.err(`${rp}.rules`, 'Forbidden: L7 rules are not allowed in deny rules');
    if (!deny && asL4.length) p.note(`${rp}.rules`, `L7 ${asL4.join(', ')} rules are enforced as their L4 part (${asL4Why(asL4[0]!, dir, proxy)})`);
    if (ingress && l7.includes('dns')) p.err(`${rp}.rules.dns`, 'Forbidden: DNS rules are only allowed on egress');
    arr<Record<string, unknown>>(rule.ports).forEach((pp, j) => {
      const pth = `${rp}.ports[${j}]`;
      if (!isRecord(pp)) { p.err(pth, 'Invalid value: must be an object'); return; }
      const proto = pp.protocol === undefined ? 'ANY' : pp.protocol;
      if (typeof proto !== 'string' || !['TCP', 'UDP', 'SCTP', 'ANY'].includes(proto)) {
        p.err(`${pth}.protocol`, `Unsupported value: ${q(proto)}: supported values: "TCP", "UDP", "SCTP", "ANY"`);
        return;
      }
      if (l7.length && pp.protocol === undefined) p.err(`${pth}.protocol`, 'Required value: L7 rules on a port without a protocol');
      else if (l7.length && !l7.includes('dns') && proto !== 'TCP') p.err(`${pth}.protocol`, `Unsupported value: ${q(proto)}: ${l7[0]} rules need protocol TCP`);
      let protocols = protocolNumbers(proto);
      if (enforced?.parser === 'dns' && protocols.includes(Proto.sctp)) {
        // The DNS proxy takes UDP and TCP; SCTP on the port would pass without its DNS rules (Cilium, SCTP off by default, has ANY = TCP, UDP).
        protocols = protocols.filter((x) => x !== Proto.sctp);
        p.note(`${pth}.protocol`, 'ANY with DNS rules means UDP and TCP through the DNS proxy; SCTP is not allowed on this port');
      }
      const raw = pp.port;
      const end = pp.endPort;
      if (raw === undefined || raw === 0 || raw === '0' || raw === '') {
        if (l7.length) p.err(`${pth}.port`, 'Forbidden: L7 rules can not be used when a port is 0');
        if (end !== undefined && end !== 0) p.err(`${pth}.endPort`, 'Forbidden: may not be specified when `port` is not a number');
        ports.push(proto === 'ANY' ? { t: 'all' } : { t: 'range', protocols, from: 0, to: 65535 });
        return;
      }
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
      if (n === undefined) {
        if (typeof raw !== 'string' || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i.test(raw) || raw.length > 15 || !/[a-z]/i.test(raw)) {
          p.err(`${pth}.port`, `Invalid value: ${q(raw)}: must be a port number (1-65535) or a port name`);
          return;
        }
        if (end !== undefined && end !== 0) p.err(`${pth}.endPort`, 'Forbidden: may not be specified when `port` is not a number');
        ports.push({ t: 'named', name: raw.toLowerCase(), protocols: pp.protocol === undefined || proto === 'ANY' ? (enforced?.parser === 'dns' ? [Proto.tcp, Proto.udp] : []) : protocols, path: `${pth}.port`, ...(enforced ? { l7: enforced } : {}) });
        return;
      }
      if (!Number.isInteger(n) || n < 1 || n > 65535) { p.err(`${pth}.port`, `Invalid value: ${q(raw)}: ${PORT_MSG}`); return; }
      let to = n;
      if (end !== undefined && end !== 0) {
        if (typeof end !== 'number' || !Number.isInteger(end) || end < 1 || end > 65535) { p.err(`${pth}.endPort`, `Invalid value: ${q(end)}: ${PORT_MSG}`); return; }
        if (end < n) { p.err(`${pth}.endPort`, `Invalid value: ${end}: must be greater than or equal to \`port\` (${n})`); return; }
        to = end;
      }
      if (l7.includes('dns') && to !== n) { p.err(`${pth}.endPort`, 'Forbidden: DNS rules can not be used on a port range'); return; }
      // An endPort range with HTTP or Kafka rules is redirected whole, as Cilium (1.17+) does for L7 rules other than DNS.
      ports.push({ t: 'range', protocols, from: n, to, ...(enforced ? { l7: enforced } : {}) });
    });
  });
  ic.forEach((rule, i) => {
    const rp = `${path}.icmps[${i}]`;
    arr<Record<string, unknown>>(isRecord(rule) ? rule.fields : undefined).forEach((f, j) => {
      const fp = `${rp}.fields[${j}]`;
      if (!isRecord(f)) { p.err(fp, 'Invalid value: must be an object'); return; }
      const fam = f.family === undefined ? 'IPv4' : f.family;
      if (fam !== 'IPv4' && fam !== 'IPv6') { p.err(`${fp}.family`, `Unsupported value: ${q(fam)}: supported values: "IPv4", "IPv6"`); return; }
      const t = icmpType(f.type, fam);
      if ('error' in t) { p.err(`${fp}.type`, t.error); return; }
      if (fam === 'IPv6') { p.warn(`${fp}.family`, 'ICMPv6 is not supported by the datapath (IPv4 only); this field selects nothing'); return; }
      ports.push({ t: 'icmp', type: t.type });
    });
  });
  return { ports, given: tp.length > 0 || ic.length > 0 };
}

function ciliumPeers(item: Record<string, unknown>, dir: Direction, path: string, deny: boolean, namespace: string | undefined, p: Problems): { peers: Peer[]; given: boolean } {
  const peers: Peer[] = [];
  let given = false;
  const pre = dir === 'ingress' ? 'from' : 'to';
  const endpoints = arr<unknown>(item[`${pre}Endpoints`]);
  if (endpoints.length) given = true;
  endpoints.forEach((sel, i) => {
    const sp = `${path}.${pre}Endpoints[${i}]`;
    if (!checkSel(sel, sp, p, true)) return;
    const reqs: Requirement[] = selectorRequirements(sel);
    const podOnly = reqs.length === 0;
    if (namespace !== undefined && !namesNamespace(sel)) reqs.push(namespaceRequirement(namespace));
    peers.push({ t: 'selector', sel: makeSelector(reqs, podOnly) });
  });
  const requires = arr<unknown>(item[`${pre}Requires`]);
  if (requires.length) p.err(`${path}.${pre}Requires`, `Forbidden: ${pre}Requires is not supported (deprecated in Cilium); write the requirement into each ${pre}Endpoints selector`);
  const cidrs = arr<unknown>(item[`${pre}CIDR`]);
  if (cidrs.length) given = true;
  cidrs.forEach((c, i) => {
    const cp = cidrPrefix(c, `${path}.${pre}CIDR[${i}]`, p);
    if (cp) peers.push({ t: 'cidr', cidr: cp, except: [] });
  });
  const sets = arr<CIDRRule>(item[`${pre}CIDRSet`]);
  if (sets.length) given = true;
  sets.forEach((s, i) => {
    const sp = `${path}.${pre}CIDRSet[${i}]`;
    if (!isRecord(s)) { p.err(sp, 'Invalid value: must be an object'); return; }
    const except: Cidr4[] = [];
    arr<unknown>(s.except).forEach((e, j) => {
      const ep = cidrPrefix(e, `${sp}.except[${j}]`, p);
      if (ep) except.push(ep);
    });
    if (s.cidr === undefined) {
      // A CiliumCIDRGroup by name or by labels: its CIDRs, resolved when identities are (the group may come later).
      if (typeof s.cidrGroupRef === 'string' && s.cidrGroupRef !== '') {
        p.usesCidrGroups = true;
        peers.push({ t: 'cidrGroup', name: s.cidrGroupRef, except });
      } else if (s.cidrGroupSelector !== undefined) {
        if (!checkSel(s.cidrGroupSelector, `${sp}.cidrGroupSelector`, p, false)) return;
        p.usesCidrGroups = true;
        peers.push({ t: 'cidrGroup', selector: s.cidrGroupSelector as LabelSelector, except });
      } else p.err(sp, 'Required value: one of cidr, cidrGroupRef, cidrGroupSelector');
      return;
    }
    const c = cidrPrefix(s.cidr, `${sp}.cidr`, p);
    if (c) peers.push({ t: 'cidr', cidr: c, except });
  });
  const ents = arr<unknown>(item[`${pre}Entities`]);
  if (ents.length) given = true;
  ents.forEach((e, i) => {
    if (typeof e !== 'string' || !CILIUM_ENTITIES.includes(e as CiliumEntity)) {
      p.err(`${path}.${pre}Entities[${i}]`, `Unsupported value: ${q(e)}: supported values: ${CILIUM_ENTITIES.map((x) => q(x)).join(', ')}`);
      return;
    }
    peers.push({ t: 'entity', entity: e as CiliumEntity });
  });
  if (dir === 'egress' && !deny) {
    const fq = arr<FQDNSelector>(item.toFQDNs);
    if (fq.length) {
      given = true;
      p.usesFqdn = true;
      try {
        peers.push({ t: 'fqdn', matcher: compileFqdnSelectors(fq, p.origin, `${path}.toFQDNs`) });
      } catch (e) {
        // The matcher's message starts with the policy's name, which the problem already carries.
        const m = e instanceof Error ? e.message : String(e);
        const pre = `${originText(p.origin)}: `;
        p.err(`${path}.toFQDNs`, `Invalid value: ${m.startsWith(pre) ? m.slice(pre.length) : m}`);
      }
    }
  } else if (dir === 'egress' && arr(item.toFQDNs).length) {
    given = true;
    p.err(`${path}.toFQDNs`, 'Forbidden: toFQDNs is not supported in deny rules');
  }
  if (dir === 'egress') {
    const svcs = arr<Record<string, unknown>>(item.toServices);
    if (svcs.length) { given = true; p.usesServices = true; }
    svcs.forEach((s, i) => {
      const sp = `${path}.toServices[${i}]`;
      if (!isRecord(s)) { p.err(sp, 'Invalid value: must be an object'); return; }
      if (isRecord(s.k8sService)) {
        const ks = s.k8sService;
        if (typeof ks.serviceName !== 'string' || ks.serviceName === '') { p.err(`${sp}.k8sService.serviceName`, 'Required value'); return; }
        peers.push({ t: 'service', name: ks.serviceName, namespace: typeof ks.namespace === 'string' && ks.namespace !== '' ? ks.namespace : namespace });
      } else if (isRecord(s.k8sServiceSelector)) {
        const ss = s.k8sServiceSelector;
        if (!checkSel(ss.selector, `${sp}.k8sServiceSelector.selector`, p, true)) return;
        peers.push({ t: 'service', selector: ss.selector as LabelSelector, namespace: typeof ss.namespace === 'string' && ss.namespace !== '' ? ss.namespace : namespace });
      } else p.err(sp, 'Required value: one of k8sService, k8sServiceSelector');
    });
  }
  for (const f of UNSUPPORTED_PEERS[dir]) {
    if (!arr(item[f]).length) continue;
    given = true;
    if (deny) p.err(`${path}.${f}`, `Forbidden: ${f} is not supported in deny rules`);
    else p.warn(`${path}.${f}`, `${f} is not supported yet; it selects nothing`);
  }
  return { peers, given };
}

/**
 * An item's `authentication.mode`: true for `required` (mutual
 * authentication through the node proxy's mTLS listeners, docs/mesh.md);
 * `disabled` or none: false. Cilium's `test-always-fail` and anything else
 * are refused, as is `required` in a deny rule (it allows nothing).
 */
function ciliumAuth(item: Record<string, unknown>, path: string, deny: boolean, p: Problems): boolean {
  if (item.authentication === undefined) return false;
  const fp = `${path}.authentication.mode`;
  const mode = isRecord(item.authentication) ? item.authentication.mode : undefined;
  if (mode === undefined) { p.err(fp, 'Required value'); return false; }
  if (mode === 'disabled') return false;
  if (mode !== 'required') { p.err(fp, `Unsupported value: ${q(mode)}: supported values: "disabled", "required"`); return false; }
  if (deny) { p.err(fp, 'Forbidden: authentication is not supported in deny rules'); return false; }
  p.usesAuth = true;
  return true;
}

function ciliumSections(items: unknown, dir: Direction, deny: boolean, path: string, namespace: string | undefined, p: Problems, proxy: ProxyDirs): Section[] {
  const out: Section[] = [];
  arr<unknown>(items).forEach((item, i) => {
    const ip = `${path}[${i}]`;
    if (!isRecord(item)) { p.err(ip, 'Invalid value: must be an object'); return; }
    const peers = ciliumPeers(item, dir, ip, deny, namespace, p);
    const ports = ciliumPorts(item.toPorts, item.icmps, ip, deny, dir === 'ingress', p, proxy);
    const auth = ciliumAuth(item, ip, deny, p);
    // Cilium: the empty rule `{}` selects nothing; peers alone = all ports; ports alone = any peer.
    if (!peers.given && !ports.given) return;
    out.push({ peers: peers.given ? peers.peers : [{ t: 'any' }], ports: ports.given ? ports.ports : [{ t: 'all' }], path: ip, ...(auth ? { auth } : {}) });
  });
  return out;
}

function ciliumRule(rule: unknown, path: string, origin: Origin, namespace: string | undefined, p: Problems, proxy: ProxyDirs): CompiledRule | undefined {
  if (!isRecord(rule)) { p.err(path, 'Invalid value: must be an object'); return undefined; }
  let subject: CompiledSelector | undefined;
  if (rule.endpointSelector !== undefined) {
    if (rule.nodeSelector !== undefined) p.err(path, 'Forbidden: endpointSelector and nodeSelector may not both be set');
    if (checkSel(rule.endpointSelector, `${path}.endpointSelector`, p, true)) {
      const reqs = selectorRequirements(rule.endpointSelector as LabelSelector);
      if (namespace !== undefined) reqs.push(namespaceRequirement(namespace));
      subject = makeSelector(reqs, false);
    }
  } else if (rule.nodeSelector !== undefined) {
    p.warn(`${path}.nodeSelector`, 'host policies (nodeSelector) are not supported yet; this rule is ignored');
  } else p.err(path, 'Required value: one of endpointSelector or nodeSelector');
  const edd = isRecord(rule.enableDefaultDeny) ? rule.enableDefaultDeny : {};
  const out: CompiledRule = { origin, path, subject };
  for (const dir of ['ingress', 'egress'] as const) {
    const allowItems = rule[dir];
    const denyItems = rule[`${dir}Deny`];
    if (allowItems === undefined && denyItems === undefined) continue;
    if (allowItems !== undefined && !Array.isArray(allowItems)) p.err(`${path}.${dir}`, 'Invalid value: must be a list');
    if (denyItems !== undefined && !Array.isArray(denyItems)) p.err(`${path}.${dir}Deny`, 'Invalid value: must be a list');
    out[dir] = {
      allow: ciliumSections(allowItems, dir, false, `${path}.${dir}`, namespace, p, proxy),
      deny: ciliumSections(denyItems, dir, true, `${path}.${dir}Deny`, namespace, p, proxy),
      enforce: edd[dir] !== false,
    };
  }
  return out;
}

// ---------------------------------------------------------------------------
// Kubernetes NetworkPolicy

function npPeers(list: unknown, path: string, namespace: string, p: Problems): Peer[] {
  const peers: Peer[] = [];
  arr<NetworkPolicyPeer>(list).forEach((peer, i) => {
    const pp = `${path}[${i}]`;
    if (!isRecord(peer)) { p.err(pp, 'Invalid value: must be an object'); return; }
    if (peer.ipBlock !== undefined) {
      if (peer.podSelector !== undefined || peer.namespaceSelector !== undefined) p.err(pp, 'Forbidden: may not specify both ipBlock and another peer');
      const b = peer.ipBlock as unknown;
      if (!isRecord(b)) { p.err(`${pp}.ipBlock`, 'Invalid value: must be an object'); return; }
      const c = cidrPrefix(b.cidr, `${pp}.ipBlock.cidr`, p);
      const except: Cidr4[] = [];
      arr<unknown>(b.except).forEach((e, j) => { const x = cidrPrefix(e, `${pp}.ipBlock.except[${j}]`, p); if (x) except.push(x); });
      if (c) peers.push({ t: 'cidr', cidr: c, except });
      return;
    }
    if (peer.podSelector === undefined && peer.namespaceSelector === undefined) { p.err(pp, 'Required value: must specify a peer'); return; }
    const reqs: Requirement[] = [];
    if (peer.podSelector !== undefined) {
      if (!checkSel(peer.podSelector, `${pp}.podSelector`, p, false)) return;
      reqs.push(...selectorRequirements(peer.podSelector, { defaultSource: 'k8s' }));
    }
    if (peer.namespaceSelector !== undefined) {
      if (!checkSel(peer.namespaceSelector, `${pp}.namespaceSelector`, p, false)) return;
      reqs.push(...selectorRequirements(peer.namespaceSelector, { defaultSource: 'k8s', keyPrefix: 'io.cilium.k8s.namespace.labels.' }));
    } else reqs.push(namespaceRequirement(namespace));
    peers.push({ t: 'selector', sel: makeSelector(reqs, true) });
  });
  return peers;
}

function npPorts(list: unknown, path: string, p: Problems): PortSpec[] {
  const out: PortSpec[] = [];
  arr<unknown>(list).forEach((port, i) => {
    const pp = `${path}[${i}]`;
    if (!isRecord(port)) { p.err(pp, 'Invalid value: must be an object'); return; }
    const proto = port.protocol ?? 'TCP';
    if (typeof proto !== 'string' || !['TCP', 'UDP', 'SCTP'].includes(proto)) { p.err(`${pp}.protocol`, `Unsupported value: ${q(proto)}: supported values: "TCP", "UDP", "SCTP"`); return; }
    const protocols = protocolNumbers(proto);
    const n: unknown = port.port;
    const e: unknown = port.endPort;
    if (n === undefined) {
      if (e !== undefined) p.err(`${pp}.endPort`, 'Forbidden: may not be specified when `port` is not specified');
      out.push({ t: 'range', protocols, from: 0, to: 65535 });
      return;
    }
    if (typeof n === 'string') {
      if (e !== undefined) p.err(`${pp}.endPort`, 'Forbidden: may not be specified when `port` is non-numeric');
      if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(n) || n.length > 15 || !/[a-z]/.test(n)) {
        p.err(`${pp}.port`, `Invalid value: ${q(n)}: must be a port number or an IANA_SVC_NAME`);
        return;
      }
      out.push({ t: 'named', name: n, protocols, path: `${pp}.port` });
      return;
    }
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) { p.err(`${pp}.port`, `Invalid value: ${q(n)}: ${PORT_MSG}`); return; }
    let to = n;
    if (e !== undefined) {
      if (typeof e !== 'number' || !Number.isInteger(e) || e < 1 || e > 65535) { p.err(`${pp}.endPort`, `Invalid value: ${q(e)}: ${PORT_MSG}`); return; }
      if (e < n) { p.err(`${pp}.endPort`, `Invalid value: ${e}: must be greater than or equal to \`port\` (${n})`); return; }
      to = e;
    }
    out.push({ t: 'range', protocols, from: n, to });
  });
  return out;
}

function networkPolicy(o: NetworkPolicy, origin: Origin, p: Problems): CompiledRule[] {
  const ns = origin.namespace ?? 'default';
  const spec = (isRecord(o.spec) ? o.spec : {}) as NetworkPolicy['spec'];
  let subject: CompiledSelector | undefined;
  if (spec.podSelector === undefined) p.err('spec.podSelector', 'Required value');
  else if (checkSel(spec.podSelector, 'spec.podSelector', p, false)) {
    subject = makeSelector([...selectorRequirements(spec.podSelector, { defaultSource: 'k8s' }), namespaceRequirement(ns)], false);
  }
  const types = Array.isArray(spec.policyTypes) && spec.policyTypes.length
    ? spec.policyTypes
    : (spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress']);
  for (const [i, t] of types.entries()) if (t !== 'Ingress' && t !== 'Egress') p.err(`spec.policyTypes[${i}]`, `Unsupported value: ${q(t)}: supported values: "Ingress", "Egress"`);
  const rule: CompiledRule = { origin, path: 'spec', subject };
  for (const [dir, type, peerField] of [['ingress', 'Ingress', 'from'], ['egress', 'Egress', 'to']] as const) {
    if (!types.includes(type)) continue;
    const allow: Section[] = [];
    arr<Record<string, unknown>>(spec[dir]).forEach((r, i) => {
      const rp = `spec.${dir}[${i}]`;
      if (!isRecord(r)) { p.err(rp, 'Invalid value: must be an object'); return; }
      const peerList = arr<unknown>(r[peerField]);
      const portList = arr<unknown>(r.ports);
      // Kubernetes: omitted or empty from/to = every peer; omitted or empty ports = every port and protocol.
      const peers = peerList.length ? npPeers(peerList, `${rp}.${peerField}`, ns, p) : [{ t: 'any' } as Peer];
      const ports = portList.length ? npPorts(portList, `${rp}.ports`, p) : [{ t: 'all' } as PortSpec];
      allow.push({ peers, ports, path: rp });
    });
    rule[dir] = { allow, deny: [], enforce: true };
  }
  return [rule];
}

// ---------------------------------------------------------------------------

/** The origin of a policy object, or undefined when it is not one of the three kinds. */
export function originOf(o: unknown): Origin | undefined {
  if (!isRecord(o) || !isRecord(o.metadata) || typeof o.metadata.name !== 'string') return undefined;
  const name = o.metadata.name;
  const ns = typeof o.metadata.namespace === 'string' && o.metadata.namespace !== '' ? o.metadata.namespace : 'default';
  switch (o.kind) {
    case 'CiliumNetworkPolicy': return { kind: 'CiliumNetworkPolicy', namespace: ns, name };
    case 'NetworkPolicy': return { kind: 'NetworkPolicy', namespace: ns, name };
    case 'CiliumClusterwideNetworkPolicy': return { kind: 'CiliumClusterwideNetworkPolicy', name };
    default: return undefined;
  }
}

/**
 * Translates one policy object. Never throws: problems with severity
 * 'error' mean the policy must be rejected whole.
 */
export function compilePolicy(o: unknown, opts: CompileOptions = {}): CompiledPolicy {
  const origin = originOf(o);
  if (!origin) {
    const kind = isRecord(o) ? o.kind : undefined;
    const prob: PolicyProblem = isRecord(o) && (kind === 'CiliumNetworkPolicy' || kind === 'NetworkPolicy' || kind === 'CiliumClusterwideNetworkPolicy')
      ? { severity: 'error', policy: String(kind), path: 'metadata.name', message: 'Required value: name is required' }
      : { severity: 'error', policy: '', path: 'kind', message: `Unsupported value: ${q(kind)}: supported values: "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy"` };
    return { key: '', origin: { kind: 'Builtin', name: '' }, rules: [], prefixes: [], usesServices: false, usesCidrGroups: false, usesFqdn: false, problems: [prob] };
  }
  const key = policyKeyOf(origin);
  const p = new Problems(key, origin);
  const rec = o as Record<string, unknown>;
  let rules: CompiledRule[] = [];
  if (origin.kind === 'NetworkPolicy') {
    rules = networkPolicy(o as NetworkPolicy, origin, p);
  } else {
    const namespace = origin.kind === 'CiliumNetworkPolicy' ? origin.namespace : undefined;
    const specs: [unknown, string][] = [];
    if (rec.spec !== undefined) specs.push([rec.spec, 'spec']);
    arr<CiliumRule>(rec.specs).forEach((s, i) => specs.push([s, `specs[${i}]`]));
    if (specs.length === 0) p.err('spec', 'Required value: spec or specs must be set');
    for (const [s, path] of specs) {
      const r = ciliumRule(s, path, origin, namespace, p, proxyDirs(opts));
      if (r) rules.push(r);
    }
  }
  return { key, origin, rules, prefixes: [...p.prefixes].sort(), usesServices: p.usesServices, usesCidrGroups: p.usesCidrGroups, usesFqdn: p.usesFqdn, ...(p.usesAuth ? { usesAuth: true } : {}), problems: p.list };
}

/** True when the protocol list of a named port spec accepts `protocol` ([] = any of TCP/UDP/SCTP). */
export function namedProtocolOk(spec: { protocols: number[] }, protocol: number): boolean {
  return spec.protocols.length === 0 ? protocol === Proto.tcp || protocol === Proto.udp || protocol === Proto.sctp : spec.protocols.includes(protocol);
}
