/**
 * kube-proxy's service rules, written the way kube-proxy (v1.30) writes them,
 * so the service load-balancing benchmark (issue 5) can load the very same
 * Services into a node namespace as iptables or nftables rules and compare them
 * with beeline's eBPF datapath.
 *
 * Pure text generators only: nothing here runs a command. The inputs are for
 * `iptables-restore` (table nat) and `nft -f` (table ip kube-proxy).
 *
 * Modelled (ClusterIP path, Cluster traffic policy, no session affinity):
 *  - iptables: KUBE-SERVICES (jumped from PREROUTING and OUTPUT) → KUBE-SVC-<hash>
 *    → `-m statistic --mode random --probability 1/n, 1/(n-1) …` → KUBE-SEP-<hash>
 *    → hairpin KUBE-MARK-MASQ + DNAT; KUBE-POSTROUTING / KUBE-MARK-MASQ as in
 *    kube-proxy; the KUBE-NODEPORTS tail rule; "large cluster mode" (over 1000
 *    endpoints kube-proxy drops the per-endpoint comments).
 *  - nftables: table ip kube-proxy with nat-prerouting / nat-output (dstnat) and
 *    nat-postrouting (srcnat) base chains, `services` dispatching through the
 *    `service-ips` verdict map (ipv4_addr . inet_proto . inet_service : goto
 *    service-…), per-service chains with `numgen random mod N vmap`, endpoint
 *    chains with `dnat to ip:port`, masquerading / mark-for-masquerade.
 * Not modelled: the filter-table side (no-endpoint REJECT, firewall, forward
 * conntrack rules), NodePorts/ExternalIPs/LoadBalancer IPs, session affinity,
 * Local traffic policy, IPv6.
 */
import { createHash } from 'node:crypto';
import { formatIPv4 } from '../ipam/cidr.js';

export interface KpBackend {
  ip: string;
  port: number;
}

export interface KpService {
  ns: string;
  name: string;
  /** The Service port's name; defaults to `p<port>` (kube-proxy's own test fixtures' convention). '' = unnamed port. */
  portName?: string;
  clusterIP: string;
  port: number;
  /** TCP, UDP or SCTP (any case); defaults to TCP. */
  protocol?: string;
  backends: KpBackend[];
}

export interface KpOptions {
  /** kube-proxy's masquerade mark (default bit 14: 0x4000). */
  masqueradeMark?: string;
  /** Pod CIDR for the local-traffic detector: adds kube-proxy's `! -s CIDR -j KUBE-MARK-MASQ` to each service chain. */
  clusterCIDR?: string;
  /** Endpoint count above which iptables drops per-endpoint comments (kube-proxy: 1000). */
  largeClusterThreshold?: number;
  /** Emit the KUBE-SERVICES → KUBE-NODEPORTS tail rule (kube-proxy default: yes). */
  nodePortsTail?: boolean;
}

const DEFAULT_MARK = '0x4000';
const LARGE_CLUSTER_ENDPOINTS = 1000;

/** RFC 4648 base32, standard alphabet (Go's base32.StdEncoding), without padding. */
export function base32(buf: Uint8Array): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += A[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += A[(value << (5 - bits)) & 31];
  return out;
}

function sha256b32(s: string): string {
  return base32(createHash('sha256').update(s).digest());
}

export function protocolOf(s: KpService): string {
  return (s.protocol ?? 'TCP').toLowerCase();
}

function portNameOf(s: KpService): string {
  return s.portName ?? `p${s.port}`;
}

/** proxy.ServicePortName.String(): "ns/name:portName" ("ns/name" for an unnamed port). */
export function servicePortName(s: KpService): string {
  const pn = portNameOf(s);
  return `${s.ns}/${s.name}${pn ? `:${pn}` : ''}`;
}

/** kube-proxy's portProtoHash: base32(sha256(servicePortName + protocol))[:16]. */
export function portProtoHash(svcPortName: string, protocol: string): string {
  return sha256b32(svcPortName + protocol).slice(0, 16);
}

/** KUBE-SVC-<portProtoHash(servicePortName, lower(protocol))>. */
export function iptablesServiceChain(s: KpService): string {
  return `KUBE-SVC-${portProtoHash(servicePortName(s), protocolOf(s))}`;
}

/** KUBE-SEP-<base32(sha256(servicePortName + protocol + "ip:port"))[:16]>. */
export function iptablesEndpointChain(s: KpService, b: KpBackend): string {
  return `KUBE-SEP-${sha256b32(servicePortName(s) + protocolOf(s) + endpointString(b)).slice(0, 16)}`;
}

function endpointString(b: KpBackend): string {
  return b.ip.includes(':') ? `[${b.ip}]:${b.port}` : `${b.ip}:${b.port}`;
}

/** kube-proxy's probability(n): fmt.Sprintf("%0.10f", 1.0/n). */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/** The `--probability` values of a service chain with n endpoints: 1/n, 1/(n-1), …, 1/2 (the last rule is unconditional). */
export function probabilities(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n - 1; i++) out.push(probability(n - i));
  return out;
}

const NODEPORTS_TAIL =
  '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS';

function totalEndpoints(services: readonly KpService[]): number {
  let n = 0;
  for (const s of services) n += s.backends.length;
  return n;
}

/** The KUBE-SERVICES rule capturing a service's cluster IP (kube-proxy writes one per service port with endpoints). */
function servicesRule(s: KpService): string {
  const p = protocolOf(s);
  return `-A KUBE-SERVICES -m comment --comment "${servicePortName(s)} cluster IP" -m ${p} -p ${p} -d ${s.clusterIP} --dport ${s.port} -j ${iptablesServiceChain(s)}`;
}

/** Chain lines and rules of one service's KUBE-SVC and KUBE-SEP chains. */
function serviceChains(s: KpService, o: KpOptions, large: boolean, chains: string[], rules: string[]): void {
  if (s.backends.length === 0) return; // kube-proxy: filter-table REJECT only, no nat chains
  const p = protocolOf(s);
  const spn = servicePortName(s);
  const svc = iptablesServiceChain(s);
  const mark = 'KUBE-MARK-MASQ';
  chains.push(`:${svc} - [0:0]`);
  if (o.clusterCIDR) {
    rules.push(`-A ${svc} -m comment --comment "${spn} cluster IP" -m ${p} -p ${p} -d ${s.clusterIP} --dport ${s.port} ! -s ${o.clusterCIDR} -j ${mark}`);
  }
  const n = s.backends.length;
  s.backends.forEach((b, i) => {
    const comment = large ? '' : ` -m comment --comment "${spn} -> ${endpointString(b)}"`;
    const stat = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
    rules.push(`-A ${svc}${comment}${stat} -j ${iptablesEndpointChain(s, b)}`);
  });
  for (const b of s.backends) {
    const sep = iptablesEndpointChain(s, b);
    const comment = large ? '' : ` -m comment --comment ${spn}`;
    chains.push(`:${sep} - [0:0]`);
    rules.push(`-A ${sep}${comment} -s ${b.ip} -j ${mark}`);
    rules.push(`-A ${sep}${comment} -m ${p} -p ${p} -j DNAT --to-destination ${endpointString(b)}`);
  }
}

/** The top-level chains kube-proxy rewrites on every sync, full or partial. */
function topLevel(services: readonly KpService[], o: KpOptions, chains: string[], rules: string[]): void {
  const mark = o.masqueradeMark ?? DEFAULT_MARK;
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) chains.push(`:${c} - [0:0]`);
  rules.push(`-A KUBE-POSTROUTING -m mark ! --mark ${mark}/${mark} -j RETURN`);
  rules.push(`-A KUBE-POSTROUTING -j MARK --xor-mark ${mark}`);
  rules.push('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');
  rules.push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${mark}`);
  for (const s of services) if (s.backends.length > 0) rules.push(servicesRule(s));
}

/**
 * A complete `iptables-restore` input (without --noflush: it replaces table
 * nat) holding the Services as kube-proxy's iptables mode writes them, plus the
 * PREROUTING/OUTPUT/POSTROUTING jumps kube-proxy installs with `iptables -I`.
 */
export function iptablesRestore(services: readonly KpService[], opts: KpOptions = {}): string {
  const large = totalEndpoints(services) > (opts.largeClusterThreshold ?? LARGE_CLUSTER_ENDPOINTS);
  const chains = [':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]'];
  const rules = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  ];
  const topRules: string[] = [];
  topLevel(services, opts, chains, topRules);
  // kube-proxy's order: all chain lines, then POSTROUTING/MARK-MASQ rules, then per service
  // its KUBE-SERVICES rule and its chains' rules; the nodeports tail rule last.
  const svcRules: string[] = [];
  for (const s of services) serviceChains(s, opts, large, chains, svcRules);
  const out = ['*nat', ...chains, ...rules, ...topRules, ...svcRules];
  if (opts.nodePortsTail ?? true) out.push(NODEPORTS_TAIL);
  out.push('COMMIT', '');
  return out.join('\n');
}

export interface KpChange {
  /** The service before the change (absent: the service is new). */
  before?: KpService;
  /** The service after the change (absent: the service was deleted). */
  after?: KpService;
}

/**
 * The `iptables-restore --noflush` input of kube-proxy's partial sync after one
 * Service (or its endpoints) changed. As in kube-proxy, a partial sync still
 * rewrites the top-level chains in full (KUBE-SERVICES has one rule per service
 * port, so this input grows with N), but only the changed service's KUBE-SVC /
 * KUBE-SEP chains. Stale KUBE-SEP chains are flushed and deleted (`-X`), which
 * kube-proxy skips in large-cluster mode (it cleans up on a later full sync).
 *
 * `services` is the whole set after the change.
 */
export function iptablesOneChange(services: readonly KpService[], change: KpChange, opts: KpOptions = {}): string {
  const large = totalEndpoints(services) > (opts.largeClusterThreshold ?? LARGE_CLUSTER_ENDPOINTS);
  const chains: string[] = [];
  const rules: string[] = [];
  topLevel(services, opts, chains, rules);
  if (change.after) serviceChains(change.after, opts, large, chains, rules);
  if (!large && change.before) {
    const active = new Set(chains.map((c) => c.slice(1, c.indexOf(' '))));
    const stale = [iptablesServiceChain(change.before), ...change.before.backends.map((b) => iptablesEndpointChain(change.before!, b))];
    for (const c of stale) {
      if (active.has(c)) continue;
      chains.push(`:${c} - [0:0]`);
      rules.push(`-X ${c}`);
    }
  }
  const out = ['*nat', ...chains, ...rules];
  if (opts.nodePortsTail ?? true) out.push(NODEPORTS_TAIL);
  out.push('COMMIT', '');
  return out.join('\n');
}

// ---------------------------------------------------------------- nftables

export const NFT_TABLE = 'kube-proxy';
const NFT_NAME_MAX = 256;
const NFT_PREFIX_MAX = 16;

/** kube-proxy nftables' hashAndTruncate: base32(sha256(name))[:8] + "-" + name, cut to fit a chain name. */
export function nftHashAndTruncate(name: string): string {
  const max = NFT_NAME_MAX - NFT_PREFIX_MAX;
  let out = `${sha256b32(name).slice(0, 8)}-${name}`;
  if (out.length > max) out = `${out.slice(0, max - 3)}...`;
  return out;
}

/** service-<hash>-ns/name/proto/portName */
export function nftServiceChain(s: KpService): string {
  return `service-${nftHashAndTruncate(`${s.ns}/${s.name}/${protocolOf(s)}/${portNameOf(s)}`)}`;
}

/** endpoint-<hash>-ns/name/proto/portName__ip/port */
export function nftEndpointChain(s: KpService, b: KpBackend): string {
  const ip = b.ip.replaceAll(':', '.');
  return `endpoint-${nftHashAndTruncate(`${s.ns}/${s.name}/${protocolOf(s)}/${portNameOf(s)}__${ip}/${b.port}`)}`;
}

const T = `ip ${NFT_TABLE}`;

function nftServiceElement(s: KpService): string {
  return `{ ${s.clusterIP} . ${protocolOf(s)} . ${s.port} : goto ${nftServiceChain(s)} }`;
}

/** Chain declarations (add + flush, as knftables' ensureChain) for one service's chains. */
function nftServiceChainsDecl(s: KpService, out: string[]): void {
  for (const b of s.backends) {
    const c = nftEndpointChain(s, b);
    out.push(`add chain ${T} ${c}`, `flush chain ${T} ${c}`);
  }
  const c = nftServiceChain(s);
  out.push(`add chain ${T} ${c}`, `flush chain ${T} ${c}`);
}

function nftServiceRules(s: KpService, o: KpOptions, out: string[]): void {
  const p = protocolOf(s);
  const svc = nftServiceChain(s);
  if (o.clusterCIDR) out.push(`add rule ${T} ${svc} ip daddr ${s.clusterIP} ${p} dport ${s.port} ip saddr != ${o.clusterCIDR} jump mark-for-masquerade`);
  const vmap = s.backends.map((b, i) => `${i} : goto ${nftEndpointChain(s, b)}`).join(' , ');
  out.push(`add rule ${T} ${svc} numgen random mod ${s.backends.length} vmap { ${vmap} }`);
  for (const b of s.backends) {
    const c = nftEndpointChain(s, b);
    out.push(`add rule ${T} ${c} ip saddr ${b.ip} jump mark-for-masquerade`);
    out.push(`add rule ${T} ${c} meta l4proto ${p} dnat to ${endpointString(b)}`);
  }
}

/**
 * A complete `nft -f` input holding the Services as kube-proxy's nftables mode
 * writes them: the transaction of a full sync (kube-proxy's knftables syntax),
 * starting from an empty table.
 */
export function nftRuleset(services: readonly KpService[], opts: KpOptions = {}): string {
  const mark = opts.masqueradeMark ?? DEFAULT_MARK;
  const out: string[] = [`add table ${T} { comment "rules for kube-proxy" ; }`];
  // kube-proxy asks for `dstnat` / `srcnat`; written as their values (-100 / 100)
  // because nft 1.0.6 (Debian 12) rejects `dstnat` on the output hook.
  const base: [string, string, string][] = [
    ['nat-prerouting', 'prerouting', '-100'],
    ['nat-output', 'output', '-100'],
    ['nat-postrouting', 'postrouting', '100'],
  ];
  for (const [name, hook, prio] of base) {
    out.push(`add chain ${T} ${name} { type nat hook ${hook} priority ${prio} ; }`, `flush chain ${T} ${name}`);
  }
  for (const c of ['services', 'masquerading', 'mark-for-masquerade']) out.push(`add chain ${T} ${c}`, `flush chain ${T} ${c}`);
  out.push(
    `add rule ${T} nat-output jump services`,
    `add rule ${T} nat-prerouting jump services`,
    `add rule ${T} nat-postrouting jump masquerading`,
    `add rule ${T} mark-for-masquerade mark set mark or ${mark}`,
    `add rule ${T} masquerading mark and ${mark} == 0 return`,
    `add rule ${T} masquerading mark set mark xor ${mark}`,
    `add rule ${T} masquerading masquerade fully-random`,
    `add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    `add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${T} services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports`,
    `flush map ${T} service-ips`,
    `flush map ${T} service-nodeports`,
  );
  for (const s of services) {
    if (s.backends.length === 0) continue;
    nftServiceChainsDecl(s, out);
    out.push(`add element ${T} service-ips ${nftServiceElement(s)}`);
    nftServiceRules(s, opts, out);
  }
  out.push('');
  return out.join('\n');
}

/**
 * The `nft -f` input of kube-proxy's partial sync after one Service (or its
 * endpoints) changed: add + flush and refill that service's chains, add or
 * delete its `service-ips` element, flush its stale endpoint chains. Unlike
 * iptables, its size does not depend on the number of other services.
 * kube-proxy deletes the flushed stale chains in a later transaction (they may
 * still be referenced for a moment): see nftStaleChainCleanup.
 */
export function nftOneChange(change: KpChange, opts: KpOptions = {}): string {
  const out: string[] = [];
  const { before, after } = change;
  const live = after && after.backends.length > 0 ? after : undefined;
  const was = before && before.backends.length > 0 ? before : undefined;
  if (live) nftServiceChainsDecl(live, out);
  if (was && (!live || nftServiceElement(was) !== nftServiceElement(live))) {
    out.push(`delete element ${T} service-ips { ${was.clusterIP} . ${protocolOf(was)} . ${was.port} }`);
  }
  if (live && (!was || nftServiceElement(was) !== nftServiceElement(live))) {
    out.push(`add element ${T} service-ips ${nftServiceElement(live)}`);
  }
  if (live) nftServiceRules(live, opts, out);
  for (const c of nftStaleChains(change)) out.push(`flush chain ${T} ${c}`);
  out.push('');
  return out.join('\n');
}

/** Chains of `before` that no longer exist after the change. */
export function nftStaleChains(change: KpChange): string[] {
  const { before, after } = change;
  if (!before || before.backends.length === 0) return [];
  const keep = new Set<string>();
  if (after && after.backends.length > 0) {
    keep.add(nftServiceChain(after));
    for (const b of after.backends) keep.add(nftEndpointChain(after, b));
  }
  const all = [nftServiceChain(before), ...before.backends.map((b) => nftEndpointChain(before, b))];
  return all.filter((c) => !keep.has(c));
}

/** The later transaction deleting the chains nftOneChange flushed ('' if none). */
export function nftStaleChainCleanup(change: KpChange): string {
  const stale = nftStaleChains(change);
  return stale.length ? `${stale.map((c) => `delete chain ${T} ${c}`).join('\n')}\n` : '';
}

/** N synthetic Services × B backends for benchmarks: cluster IPs from 10.96.0.0/12, backends from 10.244.0.0/16. */
export function syntheticServices(n: number, backendsPer: number, opts: { port?: number; targetPort?: number; ns?: string } = {}): KpService[] {
  const out: KpService[] = [];
  let be = 0;
  for (let i = 0; i < n; i++) {
    const vip = 0x0a600000 + 10 + i; // 10.96.0.10 + i
    const backends: KpBackend[] = [];
    for (let j = 0; j < backendsPer; j++, be++) {
      const ip = 0x0af40000 + 2 + be; // 10.244.0.2 + be
      backends.push({ ip: formatIPv4(ip), port: opts.targetPort ?? 8080 });
    }
    out.push({ ns: opts.ns ?? 'bench', name: `svc-${i}`, clusterIP: formatIPv4(vip), port: opts.port ?? 80, protocol: 'TCP', backends });
  }
  return out;
}
