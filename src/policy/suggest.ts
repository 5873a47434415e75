/**
 * A network policy suggested from observed flows (`beeline policy suggest`),
 * pure: flows and a choice of workloads in, policy objects out, each rule
 * with the flows that produced it and warnings for what the policy cannot
 * express. No I/O.
 *
 * What counts: allowed (FORWARDED) flows of type L3_L4 (trace and policy
 * verdict events) or L7, not replies (is_reply true, a SYN-ACK, or a TCP
 * packet of unknown direction that is no first SYN); socket translations
 * (SOCK), drops and replies never make a rule, nor does a connection dropped
 * anywhere (forwarded by its source's node, dropped at the destination). A flow to a
 * selected pod is an ingress observation of it, a flow from one an egress
 * observation. Peers: pods by their stable labels (the identity label filter
 * of src/identity/labels.ts, without the namespace's and the cluster's
 * labels) plus their namespace when it is another one; reserved identities
 * as entities (CNP); world addresses as /32 CIDRs, or, for egress to an
 * address the flow names (destination_names), toFQDNs matchName with the
 * DNS rule that lets the DNS proxy learn them (CNP only). With `l7`, HTTP
 * requests seen on a port become `rules.http` (method, path as an anchored
 * regex of the exact path).
 */
import type { Flow } from '../observer/types.js';
import { DEFAULT_LABEL_FILTER, K8sLabel, filterLabels, parseLabel, type Label } from '../identity/labels.js';
import { identityScope } from '../identity/reserved.js';

export type SuggestKind = 'cnp' | 'knp';

export interface SuggestOptions {
  namespace: string;
  /** Pods by name (in `namespace`); or */
  pods?: string[];
  /** a label selector: every observed pod of `namespace` with all these labels (`app=web`). */
  labels?: Record<string, string>;
  kind: SuggestKind;
  /** Observed HTTP requests become rules.http (CNP only). */
  l7?: boolean;
}

/** Why one rule exists: the flows behind it. */
export interface RuleExplanation {
  /** `ingress[0]` of policy `name`. */
  policy: string;
  direction: 'ingress' | 'egress';
  index: number;
  /** The peer as text: `pods {app=client}`, `entity host`, `cidr 1.2.3.4/32`, `fqdn example.com`. */
  peer: string;
  /** `80/TCP`, `53/ANY`, `icmp 8`. */
  ports: string[];
  /** How many flows produced it. */
  flows: number;
  /** One of them: `m/client → m/server:80/TCP`. */
  example: string;
}

export interface SuggestResult {
  /** CiliumNetworkPolicy or NetworkPolicy objects, one per selected workload (distinct stable label set). */
  policies: Record<string, unknown>[];
  explanations: RuleExplanation[];
  warnings: string[];
}

/** Cilium's entities by reserved label (kube-apiserver before remote-node: it carries both). */
const ENTITIES = ['kube-apiserver', 'host', 'remote-node', 'health', 'init', 'ingress', 'unmanaged'];
const SKIP_KEYS = new Set<string>([K8sLabel.podNamespace, K8sLabel.cluster]);
const DNS_SELECTOR = { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } };

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A pod's stable labels as `key → value`: its identity labels (Cilium's
 * default filter drops pod-template-hash, controller-revision-hash, the
 * statefulset pod name and similar), only of source k8s, without the
 * namespace, its labels and the cluster. The service account only when
 * nothing else is left.
 */
export function stableLabels(labels: readonly string[]): Record<string, string> {
  const parsed: Label[] = [];
  for (const t of labels) {
    try {
      parsed.push(parseLabel(t));
    } catch {
      /* a malformed label selects nothing */
    }
  }
  const { identity } = filterLabels(parsed.filter((l) => l.source === 'k8s'), DEFAULT_LABEL_FILTER);
  const kept = identity.filter((l) => !SKIP_KEYS.has(l.key) && !l.key.startsWith(`${K8sLabel.namespaceLabels}.`));
  const own = kept.filter((l) => l.key !== K8sLabel.serviceAccount);
  const out: Record<string, string> = {};
  for (const l of (own.length ? own : kept).sort((a, b) => cmp(a.key, b.key))) out[l.key] = l.value;
  return out;
}

const selText = (m: Record<string, string>) => `{${Object.entries(m).map(([k, v]) => `${k}=${v}`).join(',')}}`;

type FlowEp = NonNullable<Flow['source']>;

type Peer =
  | { kind: 'pod'; namespace: string; labels: Record<string, string> }
  | { kind: 'entity'; entity: string; ip: string }
  | { kind: 'cidr'; cidr: string }
  | { kind: 'fqdn'; names: string[]; cidr: string };

interface PortKey { port: number; protocol: string }

interface Observation {
  peer: Peer;
  peerKey: string;
  ports: Map<string, PortKey>;
  /** port key → `METHOD path` → {method, path} */
  http: Map<string, Map<string, { method: string; path: string }>>;
  flows: number;
  example: string;
}

interface Workload {
  name: string;
  labels: Record<string, string>;
  pods: Set<string>;
  ingress: Map<string, Observation>;
  egress: Map<string, Observation>;
  dnsFlows: number;
}

const isForwarded = (f: Flow) => f.verdict === 'FORWARDED' || (f.verdict as unknown) === 1;
const flowType = (f: Flow): string => {
  const t = f.Type as unknown;
  return t === 1 ? 'L3_L4' : t === 2 ? 'L7' : t === 3 ? 'SOCK' : String(t ?? '');
};

/** A reply, or possibly one: a TCP packet of unknown direction other than a connection's first SYN. */
function isReply(f: Flow): boolean {
  if (f.is_reply && f.is_reply.value === true) return true;
  if (f.reply === true) return true;
  const tcp = f.l4?.TCP;
  if (!tcp) return false;
  const fl = tcp.flags;
  if (fl?.SYN && fl.ACK) return true;
  // Unknown (no connection state at the observation point): only a SYN says who opened the connection.
  return f.is_reply == null && f.Type !== 'L7' && !(fl?.SYN && !fl.ACK);
}

function portOf(f: Flow): PortKey | undefined {
  const l4 = f.l4;
  if (!l4) return undefined;
  if (l4.TCP) return { port: l4.TCP.destination_port ?? 0, protocol: 'TCP' };
  if (l4.UDP) return { port: l4.UDP.destination_port ?? 0, protocol: 'UDP' };
  if (l4.SCTP) return { port: l4.SCTP.destination_port ?? 0, protocol: 'SCTP' };
  if (l4.ICMPv4) return { port: l4.ICMPv4.type ?? 0, protocol: 'ICMP' };
  if (l4.ICMPv6) return { port: l4.ICMPv6.type ?? 0, protocol: 'ICMPv6' };
  return undefined;
}

/** The connection a packet belongs to, in its direction. */
function connKey(f: Flow): string {
  const l4 = f.l4;
  const x = l4?.TCP ?? l4?.UDP ?? l4?.SCTP;
  return `${f.IP?.source}:${x?.source_port ?? ''}>${f.IP?.destination}:${x?.destination_port ?? (l4?.ICMPv4?.type ?? l4?.ICMPv6?.type ?? '')}`;
}

const portText = (p: PortKey) => (p.protocol.startsWith('ICMP') ? `${p.protocol.toLowerCase()} ${p.port}` : `${p.port}/${p.protocol}`);
const epText = (e: FlowEp | null | undefined, ip: string | undefined) => (e?.pod_name ? `${e.namespace}/${e.pod_name}` : ip || `identity ${e?.identity ?? 0}`);

/** The peer a flow endpoint is, or why it cannot be one. */
function peerOf(e: FlowEp | null | undefined, ip: string | undefined, names: readonly string[], egress: boolean): Peer | string {
  const labels = e?.labels ?? [];
  const reserved = new Set(labels.filter((l) => l.startsWith('reserved:')).map((l) => l.slice('reserved:'.length)));
  // A node-local identity is a CIDR identity (the world side), whatever labels the flow carries.
  const isWorld = reserved.has('world') || reserved.has('world-ipv4') || reserved.has('world-ipv6') || labels.some((l) => l.startsWith('cidr:'))
    || e?.identity === 2 || identityScope(e?.identity ?? 0) === 'local';
  if (isWorld) {
    if (!ip) return 'a world peer without an address';
    const cidr = ip.includes(':') ? `${ip}/128` : `${ip}/32`;
    const dns = [...new Set(names.map((n) => n.replace(/\.$/, '').toLowerCase()).filter(Boolean))].sort(cmp);
    return egress && dns.length ? { kind: 'fqdn', names: dns, cidr } : { kind: 'cidr', cidr };
  }
  const entity = ENTITIES.find((x) => reserved.has(x));
  if (entity) return { kind: 'entity', entity, ip: ip ?? '' };
  if (e?.namespace) return { kind: 'pod', namespace: e.namespace, labels: stableLabels(labels) };
  return `a peer of unknown identity ${e?.identity ?? 0}${ip ? ` (${ip})` : ''}`;
}

const peerKey = (p: Peer) => (p.kind === 'pod' ? `pod ${p.namespace} ${selText(p.labels)}` : p.kind === 'entity' ? `entity ${p.entity}` : p.kind === 'cidr' ? `cidr ${p.cidr}` : `fqdn ${p.names.join(',')}`);

function peerText(p: Peer, ns: string): string {
  if (p.kind === 'pod') return `pods ${selText(p.labels)}${p.namespace !== ns ? ` in namespace ${p.namespace}` : ''}`;
  return peerKey(p);
}

/** Cilium's HTTP path is a regular expression matched in full: the exact path, escaped and anchored. */
export function exactPathRegex(path: string): string {
  return `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

function pathOf(url: string): string {
  try {
    return new URL(url, 'http://x').pathname;
  } catch {
    return url.split('?')[0] || '/';
  }
}

/** A name a Kubernetes object may have, from a workload's name or labels. */
function objectName(w: string): string {
  const s = w.toLowerCase().replace(/[^a-z0-9-.]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  return `suggested-${s || 'workload'}`.slice(0, 253);
}

/** The policy objects that allow exactly the observed flows of the selected workloads. */
export function suggestPolicy(flows: readonly Flow[], o: SuggestOptions): SuggestResult {
  const warnings = new Set<string>();
  const ns = o.namespace;
  const wanted = (e: FlowEp | null | undefined): boolean => {
    if (!e?.pod_name || e.namespace !== ns) return false;
    if (o.pods?.length) return o.pods.includes(e.pod_name);
    if (o.labels) {
      const set = new Set(e.labels ?? []);
      return Object.entries(o.labels).every(([k, v]) => set.has(k.includes(':') ? `${k}=${v}` : `k8s:${k}=${v}`));
    }
    return false;
  };
  // Every observed pod of the namespace with its stable labels: to warn when a selector takes in more pods than chosen.
  const seenPods = new Map<string, string>();
  const workloads = new Map<string, Workload>();
  const workloadOf = (e: FlowEp): Workload => {
    const labels = stableLabels(e.labels ?? []);
    const key = selText(labels);
    let w = workloads.get(key);
    if (!w) {
      const name = e.workloads?.[0]?.name || labels['app.kubernetes.io/name'] || labels.app || labels['k8s-app'] || e.pod_name || 'workload';
      w = { name, labels, pods: new Set(), ingress: new Map(), egress: new Map(), dnsFlows: 0 };
      workloads.set(key, w);
    }
    w.pods.add(e.pod_name ?? '');
    return w;
  };

  // A connection dropped somewhere (e.g. at the destination's ingress) was not allowed, though its source's node forwarded it.
  const dropped = new Set(flows.filter((f) => f.verdict === 'DROPPED' || (f.verdict as unknown) === 2).map(connKey));
  for (const f of flows) {
    for (const e of [f.source, f.destination]) if (e?.pod_name && e.namespace === ns) seenPods.set(e.pod_name, selText(stableLabels(e.labels ?? [])));
    const type = flowType(f);
    if (!isForwarded(f) || isReply(f) || (type !== 'L3_L4' && type !== 'L7') || dropped.has(connKey(f))) continue;
    if (type === 'L7' && f.l7?.type !== 'REQUEST' && (f.l7?.type as unknown) !== 1) continue;
    const port = portOf(f);
    if (!port) continue;
    const srcIp = f.IP?.source;
    const dstIp = f.IP?.destination;
    const example = `${epText(f.source, srcIp)} → ${epText(f.destination, dstIp)}:${portText(port)}`;
    const sides: ['ingress' | 'egress', FlowEp, FlowEp | null | undefined, string | undefined, readonly string[]][] = [];
    if (wanted(f.destination)) sides.push(['ingress', f.destination!, f.source, srcIp, f.source_names ?? []]);
    if (wanted(f.source)) sides.push(['egress', f.source!, f.destination, dstIp, f.destination_names ?? []]);
    for (const [dir, self, other, ip, names] of sides) {
      const peer = peerOf(other, ip, names, dir === 'egress');
      if (typeof peer === 'string') {
        warnings.add(`${dir} of ${self.namespace}/${self.pod_name}: ${peer} (${example}) is left out: a policy cannot name it`);
        continue;
      }
      const w = workloadOf(self);
      const key = peerKey(peer);
      const obs = (dir === 'ingress' ? w.ingress : w.egress);
      let ob = obs.get(key);
      if (!ob) obs.set(key, (ob = { peer, peerKey: key, ports: new Map(), http: new Map(), flows: 0, example }));
      const pk = portText(port);
      ob.ports.set(pk, port);
      ob.flows++;
      const http = f.l7?.http;
      if (type === 'L7' && http && http.method) {
        let m = ob.http.get(pk);
        if (!m) ob.http.set(pk, (m = new Map()));
        const path = pathOf(http.url ?? '/');
        m.set(`${http.method} ${path}`, { method: http.method, path });
      }
      if (type === 'L7' && f.l7?.dns) w.dnsFlows++;
    }
  }

  if (!workloads.size) {
    const what = o.pods?.length ? `pod(s) ${o.pods.join(', ')}` : `pods with ${selText(o.labels ?? {})}`;
    warnings.add(`no allowed flow of ${what} in namespace ${ns} was observed: nothing to suggest`);
  }

  const policies: Record<string, unknown>[] = [];
  const explanations: RuleExplanation[] = [];
  const usedNames = new Set<string>();
  for (const w of [...workloads.values()].sort((a, b) => cmp(selText(a.labels), selText(b.labels)))) {
    let name = objectName(w.name);
    for (let i = 2; usedNames.has(name); i++) name = `${objectName(w.name)}-${i}`;
    usedNames.add(name);
    const subject = `${ns}/${[...w.pods].sort(cmp).join(',')}`;
    if (!Object.keys(w.labels).length) warnings.add(`${name}: ${subject} has no stable labels: the policy selects every pod of namespace ${ns}`);
    const others = [...seenPods].filter(([pod, sel]) => !w.pods.has(pod) && selectorCovers(w.labels, sel)).map(([pod]) => pod).sort(cmp);
    if (others.length) warnings.add(`${name}: its selector ${selText(w.labels)} also selects ${others.map((p) => `${ns}/${p}`).join(', ')}, which were not chosen`);
    const build = o.kind === 'cnp' ? cnpOf : knpOf;
    const { policy, explained } = build(name, ns, w, o, warnings);
    policies.push(policy);
    explanations.push(...explained);
  }
  return { policies, explanations, warnings: [...warnings].sort(cmp) };
}

/** Whether matchLabels `sel` selects a pod whose stable labels are the text `podSel` (`{k=v,…}`). */
function selectorCovers(sel: Record<string, string>, podSel: string): boolean {
  const have = new Set(podSel.slice(1, -1).split(',').filter(Boolean));
  return Object.entries(sel).every(([k, v]) => have.has(`${k}=${v}`));
}

const sortedObs = (m: Map<string, Observation>) => [...m.values()].sort((a, b) => cmp(a.peerKey, b.peerKey));
const sortedPorts = (ob: Observation) => [...ob.ports.entries()].sort((a, b) => cmp(a[1].protocol, b[1].protocol) || a[1].port - b[1].port);

function cnpPeer(p: Peer, ns: string, dir: 'ingress' | 'egress'): Record<string, unknown> {
  const from = dir === 'ingress' ? 'from' : 'to';
  if (p.kind === 'pod') return { [`${from}Endpoints`]: [{ matchLabels: { ...p.labels, ...(p.namespace !== ns ? { 'k8s:io.kubernetes.pod.namespace': p.namespace } : {}) } }] };
  if (p.kind === 'entity') return { [`${from}Entities`]: [p.entity] };
  if (p.kind === 'cidr') return { [`${from}CIDR`]: [p.cidr] };
  return { toFQDNs: p.names.map((n) => ({ matchName: n })) };
}

function cnpOf(name: string, ns: string, w: Workload, o: SuggestOptions, warnings: Set<string>): { policy: Record<string, unknown>; explained: RuleExplanation[] } {
  const explained: RuleExplanation[] = [];
  const spec: Record<string, unknown> = { endpointSelector: { matchLabels: { ...w.labels } } };
  let needsDns = false;
  const dnsIsPeer = (ob: Observation) => ob.peer.kind === 'pod' && ob.peer.namespace === 'kube-system' && ob.peer.labels['k8s-app'] === 'kube-dns';
  for (const dir of ['ingress', 'egress'] as const) {
    const obs = sortedObs(dir === 'ingress' ? w.ingress : w.egress);
    if (obs.some((ob) => ob.peer.kind === 'fqdn')) needsDns = true;
    const rules: Record<string, unknown>[] = [];
    let dnsFlows = 0;
    let dnsExample = '';
    for (const ob of obs) {
      const ports = sortedPorts(ob);
      if (dir === 'egress' && needsDns && dnsIsPeer(ob) && ports.every(([, p]) => p.port === 53)) {
        // The DNS rule below allows these (with the DNS proxy in between).
        dnsFlows += ob.flows;
        dnsExample ||= ob.example;
        continue;
      }
      const toPorts: Record<string, unknown>[] = [];
      const icmps: number[] = [];
      for (const [pk, p] of ports) {
        if (p.protocol.startsWith('ICMP')) {
          icmps.push(p.port);
          continue;
        }
        const entry: Record<string, unknown> = { ports: [{ port: String(p.port), protocol: p.protocol }] };
        const http = ob.http.get(pk);
        if (o.l7 && http?.size) {
          entry.rules = { http: [...http.values()].sort((a, b) => cmp(a.path, b.path) || cmp(a.method, b.method)).map((r) => ({ method: r.method, path: exactPathRegex(r.path) })) };
        } else if (o.l7 && p.protocol === 'TCP') {
          warnings.add(`${name}: ${dir} ${peerText(ob.peer, ns)} on ${pk}: no HTTP request was observed there, so the rule is L4 only (HTTP requests are flows only where an L7 policy or the proxy-visibility annotation sends them through the proxy)`);
        }
        toPorts.push(entry);
      }
      const rule: Record<string, unknown> = { ...cnpPeer(ob.peer, ns, dir) };
      if (icmps.length) {
        const fam = ports.some(([, p]) => p.protocol === 'ICMPv6') ? 'IPv6' : 'IPv4';
        rule.icmps = [{ fields: [...new Set(icmps)].sort((a, b) => a - b).map((t) => ({ type: t, family: fam })) }];
      }
      if (toPorts.length && icmps.length) {
        // One rule cannot hold toPorts and icmps (Cilium's sanitize): split them.
        const { icmps: ic, ...l4 } = rule;
        rules.push({ ...l4, toPorts });
        explained.push({ policy: name, direction: dir, index: rules.length - 1, peer: peerText(ob.peer, ns), ports: ports.filter(([, p]) => !p.protocol.startsWith('ICMP')).map(([k]) => k), flows: ob.flows, example: ob.example });
        rules.push({ ...cnpPeer(ob.peer, ns, dir), icmps: ic });
        explained.push({ policy: name, direction: dir, index: rules.length - 1, peer: peerText(ob.peer, ns), ports: ports.filter(([, p]) => p.protocol.startsWith('ICMP')).map(([k]) => k), flows: ob.flows, example: ob.example });
        continue;
      }
      if (toPorts.length) rule.toPorts = toPorts;
      rules.push(rule);
      explained.push({ policy: name, direction: dir, index: rules.length - 1, peer: peerText(ob.peer, ns), ports: ports.map(([k]) => k), flows: ob.flows, example: ob.example });
    }
    if (dir === 'egress' && needsDns) {
      rules.push({ toEndpoints: [DNS_SELECTOR], toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchPattern: '*' }] } }] });
      explained.push({ policy: name, direction: dir, index: rules.length - 1, peer: 'pods {k8s-app=kube-dns} in namespace kube-system', ports: ['53/ANY'], flows: dnsFlows, example: dnsExample || 'added: toFQDNs learns addresses only from DNS answers that pass the DNS proxy' });
    }
    if (!rules.length) {
      warnings.add(`${name}: no ${dir} was observed: the policy allows no ${dir} (${dir === 'ingress' ? 'ingress: [{}]' : 'egress: [{}]'})`);
      rules.push({});
    }
    spec[dir] = rules;
  }
  return { policy: { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name, namespace: ns }, spec }, explained };
}

function knpOf(name: string, ns: string, w: Workload, o: SuggestOptions, warnings: Set<string>): { policy: Record<string, unknown>; explained: RuleExplanation[] } {
  const explained: RuleExplanation[] = [];
  const spec: Record<string, unknown> = { podSelector: { matchLabels: { ...w.labels } }, policyTypes: ['Ingress', 'Egress'] };
  if (o.l7) warnings.add(`${name}: --l7: a NetworkPolicy has no L7 rules; HTTP requests are not restricted`);
  for (const dir of ['ingress', 'egress'] as const) {
    const rules: Record<string, unknown>[] = [];
    for (const ob of sortedObs(dir === 'ingress' ? w.ingress : w.egress)) {
      const p = ob.peer;
      let peer: Record<string, unknown>;
      if (p.kind === 'pod') {
        peer = p.namespace === ns ? { podSelector: { matchLabels: p.labels } } : { namespaceSelector: { matchLabels: { [K8sLabel.metadataName]: p.namespace } }, podSelector: { matchLabels: p.labels } };
      } else if (p.kind === 'cidr') {
        peer = { ipBlock: { cidr: p.cidr } };
      } else if (p.kind === 'fqdn') {
        warnings.add(`${name}: a NetworkPolicy cannot name DNS names: egress to ${p.names.join(', ')} is allowed as ipBlock ${p.cidr} (the address observed; it may change)`);
        peer = { ipBlock: { cidr: p.cidr } };
      } else {
        warnings.add(`${name}: a NetworkPolicy cannot select the ${p.entity} entity: ${dir} ${dir === 'ingress' ? 'from' : 'to'} it (${ob.example}) is left out; use --kind cnp`);
        continue;
      }
      const ports = sortedPorts(ob);
      const icmp = ports.filter(([, x]) => x.protocol.startsWith('ICMP'));
      if (icmp.length) warnings.add(`${name}: a NetworkPolicy cannot allow ICMP: ${dir} ${icmp.map(([k]) => k).join(', ')} ${dir === 'ingress' ? 'from' : 'to'} ${peerText(p, ns)} is left out`);
      const l4 = ports.filter(([, x]) => !x.protocol.startsWith('ICMP'));
      if (!l4.length) continue;
      rules.push({ [dir === 'ingress' ? 'from' : 'to']: [peer], ports: l4.map(([, x]) => ({ port: x.port, protocol: x.protocol })) });
      explained.push({ policy: name, direction: dir, index: rules.length - 1, peer: peerText(p, ns), ports: l4.map(([k]) => k), flows: ob.flows, example: ob.example });
    }
    if (!rules.length) warnings.add(`${name}: no ${dir} was observed: the policy allows no ${dir}`);
    spec[dir] = rules;
  }
  return { policy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec }, explained };
}
