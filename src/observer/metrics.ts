/**
 * Prometheus metrics of a node agent: Hubble's flow metric families (same
 * names, labels, label values and options as Hubble's `--hubble-metrics`),
 * Hubble's lost-events counter, and the agent's own health gauges
 * (`beeline_*`). docs/metrics.md lists everything served.
 *
 * `FlowMetrics.process(flow)` runs for every flow the node sees, so the hot
 * path does no label hashing and almost no string building: each family keeps
 * its series in a tree of Maps keyed by label value (constant strings for most
 * labels), counts into plain numbers, and hands the counts to prom-client only
 * when Prometheus scrapes (the counters' `collect`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { lstatSync, unlinkSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { MetricsConfigError, MetricsListenError } from '../common/errors.js';
import { protoRoot } from '../api/proto.js';
import type { Flow, FlowEndpoint } from './types.js';

// ---------------------------------------------------------------------------
// Configuration: Hubble's `--hubble-metrics` syntax
// ---------------------------------------------------------------------------

/** The Hubble metric families beeline serves (Hubble's names for them). */
export const METRIC_FAMILIES = ['dns', 'drop', 'flow', 'flows-to-world', 'http', 'httpV2', 'icmp', 'policy', 'port-distribution', 'tcp'] as const;
export type MetricFamily = (typeof METRIC_FAMILIES)[number];

/**
 * The families we recommend for the lab: every L3/L4 family plus the L7
 * ones (they count nothing until the proxy produces L7 flows), with the
 * namespace as context where it keeps cardinality low and the workload for
 * HTTP, as Cilium's own examples do.
 */
export const DEFAULT_METRICS: readonly string[] = [
  'dns',
  'drop:sourceContext=namespace;destinationContext=namespace',
  'tcp',
  'flow:sourceContext=namespace;destinationContext=namespace',
  'port-distribution',
  'icmp',
  'policy:sourceContext=app|workload-name|pod|reserved-identity;destinationContext=app|workload-name|pod|dns|reserved-identity',
  'httpV2:exemplars=true;labelsContext=source_ip,source_namespace,source_workload,destination_ip,destination_namespace,destination_workload,traffic_direction',
  'flows-to-world',
];

/** Hubble's port for its metrics server. */
export const HUBBLE_METRICS_PORT = 9965;

/** How a `source`/`destination` label is filled (Hubble's context identifiers). */
export const CONTEXT_IDENTIFIERS = ['identity', 'namespace', 'pod', 'pod-short', 'pod-name', 'dns', 'ip', 'reserved-identity', 'workload', 'workload-name', 'app'] as const;
export type ContextIdentifier = (typeof CONTEXT_IDENTIFIERS)[number];

/** Labels `labelsContext` may add, in the order Hubble puts them on a metric. */
export const CONTEXT_LABELS = [
  'source_ip',
  'source_pod',
  'source_namespace',
  'source_workload',
  'source_workload_kind',
  'source_app',
  'destination_ip',
  'destination_pod',
  'destination_namespace',
  'destination_workload',
  'destination_workload_kind',
  'destination_app',
  'traffic_direction',
] as const;
export type ContextLabel = (typeof CONTEXT_LABELS)[number];

/** Context options of one metric family (Hubble's ContextOptions). */
export interface ContextOptions {
  source?: ContextIdentifier[];
  sourceIngress?: ContextIdentifier[];
  sourceEgress?: ContextIdentifier[];
  destination?: ContextIdentifier[];
  destinationIngress?: ContextIdentifier[];
  destinationEgress?: ContextIdentifier[];
  /** labelsContext, in CONTEXT_LABELS order. */
  labels: ContextLabel[];
}

/** One enabled family with its parsed options. */
export interface MetricSpec {
  name: MetricFamily;
  /** The option text as given (`flow:sourceContext=pod`), for messages and status. */
  text: string;
  context: ContextOptions;
  /** Family options other than the context ones (dns `query`, `ignoreAAAA`; flows-to-world `any-drop`, `port`, `syn-only`; http `exemplars`). */
  flags: ReadonlySet<string>;
}

const CONTEXT_KEYS: Readonly<Record<string, keyof Omit<ContextOptions, 'labels'> | 'labels'>> = {
  sourcecontext: 'source',
  sourceingresscontext: 'sourceIngress',
  sourceegresscontext: 'sourceEgress',
  destinationcontext: 'destination',
  destinationingresscontext: 'destinationIngress',
  destinationegresscontext: 'destinationEgress',
  labelscontext: 'labels',
};

/** Options each family takes besides the context ones (lower case; Hubble matches them case-insensitively). */
const FAMILY_FLAGS: Readonly<Record<MetricFamily, readonly string[]>> = {
  dns: ['query', 'ignoreaaaa'],
  drop: [],
  flow: [],
  'flows-to-world': ['any-drop', 'port', 'syn-only'],
  http: ['exemplars'],
  httpV2: ['exemplars'],
  icmp: [],
  policy: [],
  'port-distribution': [],
  tcp: [],
};

const HUBBLE_ONLY = new Set(['kafka', 'sctp', 'flows-per-pod', 'nld']);

/**
 * Parses Hubble's metrics option list: one entry per family, `name` or
 * `name:key=value;key=value`; a single string is split on whitespace as
 * Hubble's `--hubble-metrics` is. Stricter than Hubble on purpose: an unknown
 * option key is an error instead of being ignored.
 * @throws MetricsConfigError naming the entry and what is allowed.
 */
export function parseMetricsConfig(list: readonly string[] | string): MetricSpec[] {
  const entries = typeof list === 'string' ? list.split(/\s+/).filter(Boolean) : list;
  const specs: MetricSpec[] = [];
  const seen = new Set<string>();
  for (const text of entries) {
    const colon = text.indexOf(':');
    const name = (colon < 0 ? text : text.slice(0, colon)).trim();
    const where = `hubble metrics "${text}"`;
    if (!(METRIC_FAMILIES as readonly string[]).includes(name)) {
      const hint = `known metrics: ${METRIC_FAMILIES.join(', ')}`;
      if (HUBBLE_ONLY.has(name)) throw new MetricsConfigError(`${where}: metric '${name}' is Hubble's but beeline does not serve it yet`, hint);
      throw new MetricsConfigError(`${where}: metric '${name}' does not exist`, hint);
    }
    const family = name as MetricFamily;
    if (seen.has(family)) throw new MetricsConfigError(`${where}: metric '${family}' is given twice`, 'give each metric once, with all its options after one colon, separated by ;');
    seen.add(family);
    const context: ContextOptions = { labels: [] };
    const flags = new Set<string>();
    for (const option of colon < 0 ? [] : text.slice(colon + 1).split(';')) {
      if (option === '') continue;
      const eq = option.indexOf('=');
      const key = (eq < 0 ? option : option.slice(0, eq)).trim();
      const value = eq < 0 ? '' : option.slice(eq + 1).trim();
      const lower = key.toLowerCase();
      const ctxKey = CONTEXT_KEYS[lower];
      if (ctxKey === 'labels') {
        context.labels = parseContextLabels(where, value);
      } else if (ctxKey !== undefined) {
        context[ctxKey] = parseContextIdentifiers(where, key, value);
      } else if (FAMILY_FLAGS[family].includes(lower)) {
        if (lower === 'exemplars') {
          if (value !== 'true' && value !== 'false') throw new MetricsConfigError(`${where}: option exemplars must be true or false, not '${value}'`);
          if (value === 'true') flags.add(lower);
        } else {
          flags.add(lower);
        }
      } else {
        const allowed = [...Object.keys(CONTEXT_KEYS).map((k) => CONTEXT_KEY_NAMES[k]), ...FAMILY_FLAGS[family].map((f) => FLAG_NAMES[f] ?? f)];
        throw new MetricsConfigError(`${where}: metric '${family}' has no option '${key}'`, `options of ${family}: ${allowed.join(', ')}`);
      }
    }
    specs.push({ name: family, text, context, flags });
  }
  if (seen.has('http') && seen.has('httpV2')) throw new MetricsConfigError('hubble metrics: plugin httpV2 conflicts with plugin http', 'enable one of them (httpV2 is the current one)');
  return specs;
}

const CONTEXT_KEY_NAMES: Readonly<Record<string, string>> = {
  sourcecontext: 'sourceContext',
  sourceingresscontext: 'sourceIngressContext',
  sourceegresscontext: 'sourceEgressContext',
  destinationcontext: 'destinationContext',
  destinationingresscontext: 'destinationIngressContext',
  destinationegresscontext: 'destinationEgressContext',
  labelscontext: 'labelsContext',
};
const FLAG_NAMES: Readonly<Record<string, string>> = { ignoreaaaa: 'ignoreAAAA', exemplars: 'exemplars=true|false' };

function parseContextIdentifiers(where: string, key: string, value: string): ContextIdentifier[] {
  return value.split('|').map((raw) => {
    const id = raw.trim().toLowerCase();
    if (!(CONTEXT_IDENTIFIERS as readonly string[]).includes(id)) {
      throw new MetricsConfigError(`${where}: ${key}: unknown context '${raw}'`, `context identifiers, first non-empty wins when joined with |: ${CONTEXT_IDENTIFIERS.join(', ')}`);
    }
    return id as ContextIdentifier;
  });
}

function parseContextLabels(where: string, value: string): ContextLabel[] {
  const wanted = new Set<string>();
  for (const raw of value.split(',')) {
    const label = raw.trim();
    if (!(CONTEXT_LABELS as readonly string[]).includes(label)) {
      throw new MetricsConfigError(`${where}: invalid labelsContext value '${raw}'`, `labelsContext labels, comma-separated: ${CONTEXT_LABELS.join(', ')}`);
    }
    wanted.add(label);
  }
  return CONTEXT_LABELS.filter((l) => wanted.has(l));
}

// ---------------------------------------------------------------------------
// Flow field readers (enums arrive as names, or numbers from hand-made flows)
// ---------------------------------------------------------------------------

const VERDICTS = ['VERDICT_UNKNOWN', 'FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED'];
const DIRECTIONS = ['TRAFFIC_DIRECTION_UNKNOWN', 'INGRESS', 'EGRESS'];
const IP_VERSIONS = ['IP_NOT_USED', 'IPv4', 'IPv6'];
const L7_TYPES = ['UNKNOWN_L7_TYPE', 'REQUEST', 'RESPONSE', 'SAMPLE'];
const FLOW_TYPES = ['UNKNOWN_TYPE', 'L3_L4', 'L7', 'SOCK'];
/** What strings.ToLower(direction.String()) gives in Hubble. */
const DIRECTIONS_LOWER = DIRECTIONS.map((d) => d.toLowerCase());

function enumName(names: readonly string[], v: string | number | null | undefined): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return names[0];
  return names[v] ?? String(v);
}

let dropReasonNames: Map<number, string> | undefined;
/** DropReason enum name of a flow (Hubble prints flow.GetDropReasonDesc().String()). */
function dropReasonName(v: string | number | null | undefined): string {
  if (typeof v === 'string') return v;
  if (!dropReasonNames) {
    dropReasonNames = new Map(Object.entries(protoRoot().lookupEnum('flow.DropReason').values).map(([name, n]) => [n, name]));
  }
  const n = v ?? 0;
  return dropReasonNames.get(n) ?? String(n);
}

/** Cilium monitor message types (pkg/monitor/api/types.go). */
const MSG_DROP = 1;
const MSG_CAPTURE = 3;
const MSG_TRACE = 4;
const MSG_POLICY_VERDICT = 5;
const MSG_ACCESS_LOG = 129;

function eventTypeOf(f: Flow): number {
  const t = f.event_type?.type;
  if (t !== undefined && t !== null && t !== 0) return t;
  // A hand-made L7 flow without event_type is still the proxy's access log.
  return enumName(FLOW_TYPES, f.Type) === 'L7' ? MSG_ACCESS_LOG : (t ?? 0);
}

/** Hubble's observation point names by trace sub_type (monitorAPI.TraceObservationPoints). */
const TRACE_POINTS: readonly string[] = ['to-endpoint', 'to-proxy', 'to-host', 'to-stack', 'to-overlay', 'from-endpoint', 'from-proxy', 'from-host', 'from-stack', 'from-overlay', 'from-network', 'to-network', 'from-crypto', 'to-crypto'];

/** Hubble's v1.FlowProtocol: the L7 protocol if any, else the L4 one. */
function flowProtocol(f: Flow, eventType: number): string {
  switch (eventType) {
    case MSG_ACCESS_LOG: {
      const l7 = f.l7;
      if (l7?.dns) return 'DNS';
      if (l7?.http) return 'HTTP';
      return 'Unknown L7';
    }
    case MSG_DROP:
    case MSG_TRACE:
    case MSG_POLICY_VERDICT:
    case MSG_CAPTURE: {
      const l4 = f.l4;
      if (l4) {
        if (l4.TCP) return 'TCP';
        if (l4.UDP) return 'UDP';
        if (l4.ICMPv4) return 'ICMPv4';
        if (l4.ICMPv6) return 'ICMPv6';
        if (l4.SCTP) return 'SCTP';
      }
      return 'Unknown L4';
    }
    default:
      return 'Unknown flow';
  }
}

function isReplyKnown(f: Flow): boolean | undefined {
  const r = f.is_reply;
  if (r === undefined || r === null) return undefined;
  return r.value === true;
}

// ICMP type/code names as gopacket prints them (Hubble's icmp metric uses them).
const ICMP4_CODES: Readonly<Record<number, [string, Record<number, string> | undefined]>> = {
  0: ['EchoReply', undefined],
  3: ['DestinationUnreachable', { 0: 'Net', 1: 'Host', 2: 'Protocol', 3: 'Port', 4: 'FragmentationNeeded', 5: 'SourceRoutingFailed', 6: 'NetUnknown', 7: 'HostUnknown', 8: 'SourceIsolated', 9: 'NetAdminProhibited', 10: 'HostAdminProhibited', 11: 'NetTOS', 12: 'HostTOS', 13: 'CommAdminProhibited', 14: 'HostPrecedence', 15: 'PrecedenceCutoff' }],
  4: ['SourceQuench', undefined],
  5: ['Redirect', { 0: 'Net', 1: 'Host', 2: 'TOS+Net', 3: 'TOS+Host' }],
  8: ['EchoRequest', undefined],
  9: ['RouterAdvertisement', undefined],
  10: ['RouterSolicitation', undefined],
  11: ['TimeExceeded', { 0: 'TTLExceeded', 1: 'FragmentReassemblyTimeExceeded' }],
  12: ['ParameterProblem', { 0: 'PointerIndicatesError', 1: 'MissingOption', 2: 'BadLength' }],
  13: ['TimestampRequest', undefined],
  14: ['TimestampReply', undefined],
  15: ['InfoRequest', undefined],
  16: ['InfoReply', undefined],
  17: ['AddressMaskRequest', undefined],
  18: ['AddressMaskReply', undefined],
};
const ICMP6_CODES: Readonly<Record<number, [string, Record<number, string> | undefined]>> = {
  1: ['DestinationUnreachable', { 0: 'NoRouteToDst', 1: 'AdminProhibited', 2: 'BeyondScopeOfSrc', 3: 'AddressUnreachable', 4: 'PortUnreachable', 5: 'SrcAddressFailedPolicy', 6: 'RejectRouteToDst' }],
  2: ['PacketTooBig', undefined],
  3: ['TimeExceeded', { 0: 'HopLimitExceeded', 1: 'FragmentReassemblyTimeExceeded' }],
  4: ['ParameterProblem', { 0: 'ErroneousHeaderField', 1: 'UnrecognizedNextHeader', 2: 'UnrecognizedNextHeader' }],
  128: ['EchoRequest', undefined],
  129: ['EchoReply', undefined],
  133: ['RouterSolicitation', undefined],
  134: ['RouterAdvertisement', undefined],
  135: ['NeighborSolicitation', undefined],
  136: ['NeighborAdvertisement', undefined],
  137: ['Redirect', undefined],
};

/** `EchoRequest`, `DestinationUnreachable(Port)`, `EchoReply(Code: 3)`, `200(0)`: gopacket's ICMPv4TypeCode/ICMPv6TypeCode.String(). */
export function icmpTypeName(v6: boolean, type: number, code: number): string {
  const info = (v6 ? ICMP6_CODES : ICMP4_CODES)[type];
  if (!info) return `${type}(${code})`;
  const [typeName, codes] = info;
  if (!codes) return code === 0 ? typeName : `${typeName}(Code: ${code})`;
  const codeName = codes[code];
  return codeName === undefined ? `${typeName}(Code: ${code})` : `${typeName}(${codeName})`;
}
// Precomputed for the common (type, code) pairs so the hot path builds no string.
const icmpNameCache = new Map<number, string>();
function icmpTypeNameCached(v6: boolean, type: number, code: number): string {
  const key = (v6 ? 0x10000 : 0) | ((type & 0xff) << 8) | (code & 0xff);
  let s = icmpNameCache.get(key);
  if (s === undefined) {
    s = icmpTypeName(v6, type & 0xff, code & 0xff);
    icmpNameCache.set(key, s);
  }
  return s;
}

/** Hubble's DNS rcode words (pkg/hubble/metrics/dns/rcode.go). */
const DNS_RCODES: Readonly<Record<number, string>> = {
  0: 'No Error',
  1: 'Format Error',
  2: 'Server Failure',
  3: 'Non-Existent Domain',
  4: 'Not Implemented',
  5: 'Query Refused',
  6: 'Name Exists when it should not',
  7: 'RR Set Exists when it should not',
  8: 'RR Set that should exist does not',
  9: 'Not Authorized',
  10: 'Name not contained in zone',
  11: 'DSO-TYPE Not Implemented',
  16: 'Bad OPT Version',
  17: 'Key not recognized',
  18: 'Signature out of time window',
  19: 'Bad TKEY Mode',
  20: 'Duplicate key name',
  21: 'Algorithm not supported',
  22: 'Bad Truncation',
  23: 'Bad/missing Server Cookie',
};

/** Port numbers as label values without building a string per flow. */
const PORT_STRINGS: string[] = [];
function portString(p: number | null | undefined): string {
  const n = p ?? 0;
  let s = PORT_STRINGS[n];
  if (s === undefined) {
    s = String(n);
    if (n >= 0 && n < 65536) PORT_STRINGS[n] = s;
  }
  return s;
}

// ---------------------------------------------------------------------------
// Context labels: compiled once per family
// ---------------------------------------------------------------------------

type Endpoint = FlowEndpoint | null | undefined;
type Getter = (f: Flow, ep: Endpoint, source: boolean) => string;

const SHORT_POD = /^(.+?)(-[a-z0-9]+){1,2}$/;
const APP_LABEL_PREFIXES = ['k8s:app.kubernetes.io/name=', 'k8s:k8s-app=', 'k8s:app='];
const KUBE_APISERVER = 'reserved:kube-apiserver';

/**
 * Derived label values, kept so that the same inputs give the same string
 * object: a fresh string (a slice, a concatenation) would be hashed again by
 * every Map lookup of the series tree, a kept one carries its hash. Bounded:
 * emptied when it grows past MEMO_MAX (pods churn).
 */
const MEMO_MAX = 50_000;
const appMemo = new Map<string, string>();
const joinMemo = new Map<string, Map<string, string>>();
let joinMemoSize = 0;

/** The app label's value if `label` is one (`k8s:app=web` → `web`), else ''. */
function appValue(label: string): string {
  let v = appMemo.get(label);
  if (v === undefined) {
    v = '';
    for (const p of APP_LABEL_PREFIXES) {
      if (label.length > p.length && label.startsWith(p)) {
        v = label.slice(p.length);
        break;
      }
    }
    if (appMemo.size >= MEMO_MAX) appMemo.clear();
    appMemo.set(label, v);
  }
  return v;
}

/** `${a}/${b}`, the same string object each time. */
function slashJoin(a: string, b: string): string {
  let inner = joinMemo.get(a);
  if (inner === undefined) {
    inner = new Map();
    joinMemo.set(a, inner);
  }
  let v = inner.get(b);
  if (v === undefined) {
    if (joinMemoSize >= MEMO_MAX) {
      joinMemo.clear();
      joinMemoSize = 0;
      inner = new Map();
      joinMemo.set(a, inner);
    }
    v = `${a}/${b}`;
    inner.set(b, v);
    joinMemoSize++;
  }
  return v;
}

function appOf(ep: Endpoint): string {
  const labels = ep?.labels;
  if (!labels) return '';
  // Hubble's order: the first label (in the endpoint's order) that is an app label.
  for (const l of labels) {
    const v = appValue(l);
    if (v !== '') return v;
  }
  return '';
}

function reservedIdentityOf(ep: Endpoint): string {
  const labels = ep?.labels;
  if (!labels) return '';
  if (labels.includes(KUBE_APISERVER)) return KUBE_APISERVER;
  for (const l of labels) if (l.startsWith('reserved:')) return l;
  return '';
}

function withNamespace(ep: Endpoint, name: string): string {
  const ns = ep?.namespace;
  return ns ? slashJoin(ns, name) : name;
}

const GETTERS: Readonly<Record<ContextIdentifier, Getter>> = {
  identity: (_f, ep) => (ep?.labels?.length ? ep.labels.join(',') : ''),
  namespace: (_f, ep) => ep?.namespace ?? '',
  pod: (_f, ep) => withNamespace(ep, ep?.pod_name ?? ''),
  'pod-short': (_f, ep) => withNamespace(ep, (ep?.pod_name ?? '').replace(SHORT_POD, '$1')),
  'pod-name': (_f, ep) => ep?.pod_name ?? '',
  dns: (f, _ep, source) => {
    const names = source ? f.source_names : f.destination_names;
    return names?.length ? names.join(',') : '';
  },
  ip: (f, _ep, source) => (source ? f.IP?.source : f.IP?.destination) ?? '',
  'reserved-identity': (_f, ep) => reservedIdentityOf(ep),
  workload: (_f, ep) => {
    const w = ep?.workloads?.[0]?.name;
    return w ? withNamespace(ep, w) : '';
  },
  'workload-name': (_f, ep) => ep?.workloads?.[0]?.name ?? '',
  app: (_f, ep) => appOf(ep),
};

const LABEL_GETTERS: Readonly<Record<ContextLabel, (f: Flow, src: Endpoint, dst: Endpoint, srcIp: string, dstIp: string) => string>> = {
  source_ip: (_f, _s, _d, srcIp) => srcIp,
  source_pod: (_f, s) => s?.pod_name ?? '',
  source_namespace: (_f, s) => s?.namespace ?? '',
  source_workload: (_f, s) => s?.workloads?.[0]?.name ?? '',
  source_workload_kind: (_f, s) => s?.workloads?.[0]?.kind ?? '',
  source_app: (_f, s) => appOf(s),
  destination_ip: (_f, _s, _d, _srcIp, dstIp) => dstIp,
  destination_pod: (_f, _s, d) => d?.pod_name ?? '',
  destination_namespace: (_f, _s, d) => d?.namespace ?? '',
  destination_workload: (_f, _s, d) => d?.workloads?.[0]?.name ?? '',
  destination_workload_kind: (_f, _s, d) => d?.workloads?.[0]?.kind ?? '',
  destination_app: (_f, _s, d) => appOf(d),
  traffic_direction: (f) => {
    const d = enumName(DIRECTIONS, f.traffic_direction);
    return d === 'INGRESS' ? 'ingress' : d === 'EGRESS' ? 'egress' : 'unknown';
  },
};

/**
 * A family's context labels, compiled: `names` to append to the family's own
 * labels, and `fill` writing their values into a scratch array.
 */
interface CompiledContext {
  readonly names: readonly string[];
  /** Writes the context values at out[at…]; invert swaps source and destination (httpV2 counts response flows from the request's side). */
  fill(f: Flow, out: string[], at: number, invert: boolean): void;
  /** Which series name the pod, by the rules Hubble deletes them with; undefined when no label can. */
  podMatcher(namespace: string, pod: string): ((labels: Record<string, string>) => boolean) | undefined;
}

function compileContext(o: ContextOptions): CompiledContext {
  const names: string[] = [...o.labels];
  // Beeline adds `source` when any source option is given (Hubble only looks
  // at sourceContext, so sourceIngressContext alone would add nothing).
  const hasSource = !!(o.source || o.sourceIngress || o.sourceEgress);
  const hasDest = !!(o.destination || o.destinationIngress || o.destinationEgress);
  if (hasSource) names.push('source');
  if (hasDest) names.push('destination');
  const labelGetters = o.labels.map((l) => LABEL_GETTERS[l]);
  const g = (ids: ContextIdentifier[] | undefined) => (ids ? ids.map((id) => GETTERS[id]) : undefined);
  const src = { all: g(o.source), ingress: g(o.sourceIngress), egress: g(o.sourceEgress) };
  const dst = { all: g(o.destination), ingress: g(o.destinationIngress), egress: g(o.destinationEgress) };
  /** The first non-empty value of a side's identifiers, read on the flow's source (`source`) or destination endpoint. */
  const resolve = (f: Flow, side: typeof src, source: boolean): string => {
    let getters = side.all;
    if (side.ingress || side.egress) {
      const d = enumName(DIRECTIONS, f.traffic_direction);
      if (d === 'INGRESS' && side.ingress) getters = side.ingress;
      else if (d === 'EGRESS' && side.egress) getters = side.egress;
    }
    if (!getters) return '';
    const ep = source ? f.source : f.destination;
    for (const get of getters) {
      const v = get(f, ep, source);
      // First non-empty identifier wins (`pod|reserved-identity`).
      if (v !== '') return v;
    }
    return '';
  };
  const anyPod = (...lists: (ContextIdentifier[] | undefined)[]) => lists.some((l) => l?.includes('pod'));
  const sourcePod = anyPod(o.source, o.sourceIngress, o.sourceEgress);
  const destPod = anyPod(o.destination, o.destinationIngress, o.destinationEgress);
  const sourceLabels = o.labels.includes('source_namespace') && o.labels.includes('source_pod');
  const destLabels = o.labels.includes('destination_namespace') && o.labels.includes('destination_pod');
  return {
    names,
    podMatcher(namespace, pod) {
      if (!sourcePod && !destPod && !sourceLabels && !destLabels) return undefined;
      const full = `${namespace}/${pod}`;
      return (l) =>
        (sourcePod && l.source === full) ||
        (destPod && l.destination === full) ||
        (sourceLabels && l.source_namespace === namespace && l.source_pod === pod) ||
        (destLabels && l.destination_namespace === namespace && l.destination_pod === pod);
    },
    fill(f, out, at, invert) {
      if (labelGetters.length) {
        let s = f.source;
        let d = f.destination;
        let sIp = f.IP?.source ?? '';
        let dIp = f.IP?.destination ?? '';
        if (invert) [s, d, sIp, dIp] = [d, s, dIp, sIp];
        for (const get of labelGetters) out[at++] = get(f, s, d, sIp, dIp);
      }
      // Inverted, the source identifiers read the flow's destination (the
      // request's source) and the other way round. Hubble swaps the two
      // finished values instead, which mixes identifiers when the source and
      // destination contexts differ (or leaves source empty when only
      // sourceContext is given).
      if (hasSource) out[at++] = resolve(f, src, !invert);
      if (hasDest) out[at] = resolve(f, dst, invert);
    },
  };
}

// ---------------------------------------------------------------------------
// Series storage: counts in plain numbers, handed to prom-client at scrape
// ---------------------------------------------------------------------------

interface Series {
  readonly labels: Record<string, string>;
  /** Counted since the last scrape. */
  pending: number;
  /** Trace id of the last flow counted (httpV2 exemplars). */
  traceId: string;
}

/**
 * The series of one metric, found by walking one Map per label with the
 * values in `values` (a scratch array the family fills): no hashing, no key
 * string, no allocation once a series exists.
 */
class SeriesTable {
  readonly values: string[];
  readonly all: Series[] = [];
  private readonly root = new Map<string, unknown>();

  constructor(readonly labelNames: readonly string[]) {
    this.values = labelNames.map(() => '');
  }

  get(): Series {
    const v = this.values;
    const last = v.length - 1;
    let node = this.root;
    for (let i = 0; i < last; i++) {
      let next = node.get(v[i]) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(v[i], next);
      }
      node = next;
    }
    let s = node.get(v[last]) as Series | undefined;
    if (s === undefined) {
      const labels: Record<string, string> = {};
      for (let i = 0; i <= last; i++) labels[this.labelNames[i]] = v[i];
      s = { labels, pending: 0, traceId: '' };
      node.set(v[last], s);
      this.all.push(s);
    }
    return s;
  }

  /** Drops the series whose labels match (rare: a pod went away), rebuilding the tree; returns them. */
  removeWhere(match: (labels: Record<string, string>) => boolean): Series[] {
    const removed = this.all.filter((s) => match(s.labels));
    if (removed.length === 0) return removed;
    const kept = this.all.filter((s) => !match(s.labels));
    this.all.length = 0;
    this.root.clear();
    for (const s of kept) {
      for (let i = 0; i < this.labelNames.length; i++) this.values[i] = s.labels[this.labelNames[i]];
      const fresh = this.get();
      fresh.pending = s.pending;
      fresh.traceId = s.traceId;
    }
    return removed;
  }
}

/** A table and the prom-client metric that serves it, for removing series. */
interface TrackedTable {
  table: SeriesTable;
  metric: { remove(labels: Record<string, string>): void };
  ctx: CompiledContext;
}

/** A prom-client counter fed from a SeriesTable when scraped. */
function tableCounter(registry: Registry<RegistryContentType>, name: string, help: string, labelNames: readonly string[], exemplars: boolean, track?: (t: SeriesTable, metric: TrackedTable['metric']) => void): SeriesTable {
  const table = new SeriesTable(labelNames);
  const counter: Counter<string> = new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    enableExemplars: exemplars,
    collect() {
      for (const s of table.all) {
        if (s.pending === 0) continue;
        const n = s.pending;
        s.pending = 0;
        if (exemplars) {
          // The exemplar stands for one request (Hubble: AddWithExemplar(1, traceID)).
          if (s.traceId) {
            if (n > 1) counter.inc({ labels: s.labels, value: n - 1 } as never);
            counter.inc({ labels: s.labels, value: 1, exemplarLabels: { traceID: s.traceId } } as never);
          } else {
            counter.inc({ labels: s.labels, value: n } as never);
          }
        } else {
          counter.inc(s.labels, n);
        }
      }
    },
  });
  track?.(table, counter);
  return table;
}

// ---------------------------------------------------------------------------
// The families
// ---------------------------------------------------------------------------

type Processor = (f: Flow) => void;

interface FamilyBuild {
  registry: Registry<RegistryContentType>;
  spec: MetricSpec;
  ctx: CompiledContext;
  exemplars: boolean;
  /** Registers a family's table so deletePodSeries can reach it. */
  track(table: SeriesTable, metric: TrackedTable['metric']): void;
}

function buildFlow({ registry, ctx, track }: FamilyBuild): Processor {
  const t = tableCounter(registry, 'hubble_flows_processed_total', 'Total number of flows processed', ['protocol', 'type', 'subtype', 'verdict', ...ctx.names], false, track);
  const v = t.values;
  return (f) => {
    const et = eventTypeOf(f);
    let type: string;
    let subtype = '';
    switch (et) {
      case MSG_ACCESS_LOG: {
        type = 'L7';
        const l7 = f.l7;
        if (l7?.dns) subtype = 'DNS';
        else if (l7?.http) subtype = 'HTTP';
        else if (l7?.kafka) subtype = 'Kafka';
        break;
      }
      case MSG_DROP:
        type = 'Drop';
        break;
      case MSG_CAPTURE:
        type = 'Capture';
        break;
      case MSG_TRACE:
        type = 'Trace';
        subtype = TRACE_POINTS[f.event_type?.sub_type ?? 0] ?? '';
        break;
      case MSG_POLICY_VERDICT:
        type = 'PolicyVerdict';
        break;
      default:
        type = 'Unknown';
        subtype = String(et);
    }
    v[0] = flowProtocol(f, et);
    v[1] = type;
    v[2] = subtype;
    v[3] = enumName(VERDICTS, f.verdict);
    ctx.fill(f, v, 4, false);
    t.get().pending++;
  };
}

function buildDrop({ registry, ctx, track }: FamilyBuild): Processor {
  const n = ctx.names.length;
  const t = tableCounter(registry, 'hubble_drop_total', 'Number of drops', [...ctx.names, 'reason', 'protocol'], false, track);
  const v = t.values;
  return (f) => {
    if (enumName(VERDICTS, f.verdict) !== 'DROPPED') return;
    ctx.fill(f, v, 0, false);
    v[n] = dropReasonName(f.drop_reason_desc);
    v[n + 1] = flowProtocol(f, eventTypeOf(f));
    t.get().pending++;
  };
}

function forwardedOrRedirected(f: Flow): boolean {
  const verdict = enumName(VERDICTS, f.verdict);
  return verdict === 'FORWARDED' || verdict === 'REDIRECTED';
}

function buildTcp({ registry, ctx, track }: FamilyBuild): Processor {
  const t = tableCounter(registry, 'hubble_tcp_flags_total', 'TCP flag occurrences', ['flag', 'family', ...ctx.names], false, track);
  const v = t.values;
  return (f) => {
    if (!forwardedOrRedirected(f)) return;
    const flags = f.l4?.TCP?.flags;
    if (!f.IP || !flags) return;
    v[1] = enumName(IP_VERSIONS, f.IP.ipVersion);
    ctx.fill(f, v, 2, false);
    if (flags.FIN) {
      v[0] = 'FIN';
      t.get().pending++;
    }
    if (flags.SYN) {
      v[0] = flags.ACK ? 'SYN-ACK' : 'SYN';
      t.get().pending++;
    }
    if (flags.RST) {
      v[0] = 'RST';
      t.get().pending++;
    }
  };
}

function buildIcmp({ registry, ctx, track }: FamilyBuild): Processor {
  const t = tableCounter(registry, 'hubble_icmp_total', 'Number of ICMP messages', ['family', 'type', ...ctx.names], false, track);
  const v = t.values;
  return (f) => {
    const l4 = f.l4;
    if (!l4) return;
    const i4 = l4.ICMPv4;
    const i6 = l4.ICMPv6;
    if (!i4 && !i6) return;
    ctx.fill(f, v, 2, false);
    if (i4) {
      v[0] = 'IPv4';
      v[1] = icmpTypeNameCached(false, i4.type ?? 0, i4.code ?? 0);
      t.get().pending++;
    }
    if (i6) {
      // Hubble labels ICMPv6 family "IPv4" (a slip in its handler); we say IPv6.
      v[0] = 'IPv6';
      v[1] = icmpTypeNameCached(true, i6.type ?? 0, i6.code ?? 0);
      t.get().pending++;
    }
  };
}

function buildPortDistribution({ registry, ctx, track }: FamilyBuild): Processor {
  const t = tableCounter(registry, 'hubble_port_distribution_total', 'Numbers of packets distributed by destination port', ['protocol', 'port', ...ctx.names], false, track);
  const v = t.values;
  return (f) => {
    // A flow not known to be a request says nothing about the service port.
    if (isReplyKnown(f) !== false || !forwardedOrRedirected(f)) return;
    const l4 = f.l4;
    if (!l4) return;
    ctx.fill(f, v, 2, false);
    if (l4.TCP) {
      v[0] = 'TCP';
      v[1] = portString(l4.TCP.destination_port);
      t.get().pending++;
    }
    if (l4.UDP) {
      v[0] = 'UDP';
      v[1] = portString(l4.UDP.destination_port);
      t.get().pending++;
    }
    if (l4.SCTP) {
      v[0] = 'SCTP';
      v[1] = portString(l4.SCTP.destination_port);
      t.get().pending++;
    }
    if (l4.ICMPv4) {
      v[0] = 'ICMPv4';
      v[1] = '0';
      t.get().pending++;
    }
    if (l4.ICMPv6) {
      v[0] = 'ICMPv6';
      v[1] = '0';
      t.get().pending++;
    }
  };
}

/** Cilium's PolicyMatchType words, lower-cased as the policy metric prints them. */
const POLICY_MATCH = ['none', 'l3-only', 'l3-l4', 'l4-only', 'all'];
const VERDICTS_LOWER = VERDICTS.map((x) => x.toLowerCase());
const RESERVED_HOST_IDENTITY = 1;

function buildPolicy({ registry, ctx, track }: FamilyBuild): Processor {
  const t = tableCounter(registry, 'hubble_policy_verdicts_total', 'Total number of Cilium network policy verdicts', ['direction', 'match', 'action', ...ctx.names], false, track);
  const v = t.values;
  const lowerVerdict = (f: Flow) => {
    const name = enumName(VERDICTS, f.verdict);
    const i = VERDICTS.indexOf(name);
    return i >= 0 ? VERDICTS_LOWER[i] : name.toLowerCase();
  };
  const lowerDirection = (f: Flow) => {
    const name = enumName(DIRECTIONS, f.traffic_direction);
    const i = DIRECTIONS.indexOf(name);
    return i >= 0 ? DIRECTIONS_LOWER[i] : name.toLowerCase();
  };
  return (f) => {
    const et = eventTypeOf(f);
    if (et === MSG_POLICY_VERDICT) {
      // The host may reach any local endpoint: its verdicts are not policy's.
      if (f.source?.identity === RESERVED_HOST_IDENTITY) return;
      v[1] = POLICY_MATCH[f.policy_match_type ?? 0] ?? 'unknown';
    } else if (et === MSG_ACCESS_LOG) {
      const l7 = f.l7;
      v[1] = l7?.dns ? 'l7/dns' : l7?.http ? 'l7/http' : l7?.kafka ? 'l7/kafka' : 'l7/';
    } else {
      return;
    }
    v[0] = lowerDirection(f);
    v[2] = lowerVerdict(f);
    ctx.fill(f, v, 3, false);
    t.get().pending++;
  };
}

function buildDns({ registry, spec, ctx, track }: FamilyBuild): Processor {
  const includeQuery = spec.flags.has('query');
  const ignoreAAAA = spec.flags.has('ignoreaaaa');
  const n = ctx.names.length;
  const common = [...ctx.names, 'rcode', 'qtypes', 'ips_returned', ...(includeQuery ? ['query'] : [])];
  const queries = tableCounter(registry, 'hubble_dns_queries_total', 'Number of DNS queries observed', common, false, track);
  const responses = tableCounter(registry, 'hubble_dns_responses_total', 'Number of DNS responses observed', common, false, track);
  const types = tableCounter(registry, 'hubble_dns_response_types_total', 'Number of DNS response types', [...ctx.names, 'type', 'qtypes', ...(includeQuery ? ['query'] : [])], false, track);
  return (f) => {
    const dns = f.l7?.dns;
    if (!dns) return;
    const qtypes = dns.qtypes ?? [];
    if (ignoreAAAA && qtypes.length === 1 && qtypes[0] === 'AAAA') return;
    const qtypesText = qtypes.length === 1 ? qtypes[0] : qtypes.join(',');
    const ips = portString(dns.ips?.length ?? 0);
    const dropped = enumName(VERDICTS, f.verdict) === 'DROPPED';
    const reply = f.is_reply?.value === true;
    const table = dropped || !reply ? queries : responses;
    const v = table.values;
    ctx.fill(f, v, 0, false);
    v[n] = dropped ? 'Policy denied' : reply ? (DNS_RCODES[dns.rcode ?? 0] ?? '') : '';
    v[n + 1] = qtypesText;
    v[n + 2] = ips;
    if (includeQuery) v[n + 3] = dns.query ?? '';
    table.get().pending++;
    if (dropped || !reply || !dns.rrtypes?.length) return;
    const tv = types.values;
    for (let i = 0; i < n; i++) tv[i] = v[i];
    tv[n + 1] = qtypesText;
    if (includeQuery) tv[n + 2] = dns.query ?? '';
    for (const rr of dns.rrtypes) {
      tv[n] = rr;
      types.get().pending++;
    }
  };
}

/** Prometheus' default buckets, which Hubble's HTTP histogram uses. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function reporterOf(f: Flow): string {
  const d = enumName(DIRECTIONS, f.traffic_direction);
  return d === 'EGRESS' ? 'client' : d === 'INGRESS' ? 'server' : 'unknown';
}

function latencySeconds(f: Flow): number {
  const ns = f.l7?.latency_ns;
  if (ns === undefined || ns === null) return 0;
  return Number(typeof ns === 'object' ? ns.toString() : ns) / 1e9;
}

function buildHttp({ registry, spec, ctx, exemplars, track }: FamilyBuild): Processor {
  const v2 = spec.name === 'httpV2';
  const useExemplars = exemplars && spec.flags.has('exemplars');
  const n = ctx.names.length;
  const requests = tableCounter(registry, 'hubble_http_requests_total', 'Count of HTTP requests', v2 ? [...ctx.names, 'method', 'protocol', 'status', 'reporter'] : [...ctx.names, 'method', 'protocol', 'reporter'], useExemplars, track);
  const responses = v2 ? undefined : tableCounter(registry, 'hubble_http_responses_total', 'Count of HTTP responses', [...ctx.names, 'method', 'protocol', 'status', 'reporter'], useExemplars, track);
  const durationSeries = new SeriesTable([...ctx.names, 'method', 'reporter']);
  const duration = new Histogram({
    name: 'hubble_http_request_duration_seconds',
    help: 'Quantiles of HTTP request duration in seconds',
    labelNames: durationSeries.labelNames,
    buckets: HTTP_BUCKETS,
    registers: [registry],
    enableExemplars: useExemplars,
  });
  track(durationSeries, duration);
  const statusText = (code: number | undefined | null) => portString(code ?? 0);
  const observe = (f: Flow, method: string, reporter: string, traceId: string) => {
    const dv = durationSeries.values;
    ctx.fill(f, dv, 0, v2);
    dv[n] = method;
    dv[n + 1] = reporter;
    const labels = durationSeries.get().labels;
    if (useExemplars && traceId) duration.observe({ labels, value: latencySeconds(f), exemplarLabels: { traceID: traceId } } as never);
    else if (useExemplars) duration.observe({ labels, value: latencySeconds(f) } as never);
    else duration.observe(labels, latencySeconds(f));
  };
  return (f) => {
    const l7 = f.l7;
    const http = l7?.http;
    if (!http) return;
    const l7type = enumName(L7_TYPES, l7.type);
    const traceId = useExemplars ? (f.trace_context?.parent?.trace_id ?? '') : '';
    const method = http.method ?? '';
    const protocol = http.protocol ?? '';
    const reporter = reporterOf(f);
    if (v2) {
      if (l7type !== 'RESPONSE') return;
      const v = requests.values;
      ctx.fill(f, v, 0, true);
      v[n] = method;
      v[n + 1] = protocol;
      v[n + 2] = statusText(http.code);
      v[n + 3] = reporter;
      const s = requests.get();
      s.pending++;
      if (traceId) s.traceId = traceId;
      observe(f, method, reporter, traceId);
      return;
    }
    if (l7type === 'REQUEST') {
      const v = requests.values;
      ctx.fill(f, v, 0, false);
      v[n] = method;
      v[n + 1] = protocol;
      v[n + 2] = reporter;
      const s = requests.get();
      s.pending++;
      if (traceId) s.traceId = traceId;
    } else if (l7type === 'RESPONSE' && responses) {
      const v = responses.values;
      ctx.fill(f, v, 0, false);
      v[n] = method;
      v[n + 1] = protocol;
      v[n + 2] = statusText(http.code);
      v[n + 3] = reporter;
      const s = responses.get();
      s.pending++;
      if (traceId) s.traceId = traceId;
      observe(f, method, reporter, traceId);
    }
  };
}

function buildFlowsToWorld({ registry, spec, ctx, track }: FamilyBuild): Processor {
  const anyDrop = spec.flags.has('any-drop');
  const port = spec.flags.has('port');
  const synOnly = spec.flags.has('syn-only');
  const at = port ? 3 : 2;
  const t = tableCounter(registry, 'hubble_flows_to_world_total', 'Total number of flows to reserved:world', ['protocol', 'verdict', ...(port ? ['port'] : []), ...ctx.names], false, track);
  const v = t.values;
  return (f) => {
    const l4 = f.l4;
    const labels = f.destination?.labels;
    if (!l4 || !labels || !f.event_type || !labels.includes('reserved:world')) return;
    const verdict = enumName(VERDICTS, f.verdict);
    if (verdict === 'DROPPED' && !anyDrop && dropReasonName(f.drop_reason_desc) !== 'POLICY_DENIED') return;
    // Forwarded replies would count ephemeral ports of the world's side.
    const reply = isReplyKnown(f) === true;
    if (verdict !== 'DROPPED' && reply) return;
    if (synOnly && (!l4.TCP?.flags?.SYN || reply)) return;
    v[0] = flowProtocol(f, eventTypeOf(f));
    v[1] = verdict;
    if (port) v[2] = l4.TCP ? portString(l4.TCP.destination_port) : l4.UDP ? portString(l4.UDP.destination_port) : l4.SCTP ? portString(l4.SCTP.destination_port) : '';
    ctx.fill(f, v, at, false);
    t.get().pending++;
  };
}

const BUILDERS: Readonly<Record<MetricFamily, (b: FamilyBuild) => Processor>> = {
  dns: buildDns,
  drop: buildDrop,
  flow: buildFlow,
  'flows-to-world': buildFlowsToWorld,
  http: buildHttp,
  httpV2: buildHttp,
  icmp: buildIcmp,
  policy: buildPolicy,
  'port-distribution': buildPortDistribution,
  tcp: buildTcp,
};

// ---------------------------------------------------------------------------
// FlowMetrics: the registry an agent serves
// ---------------------------------------------------------------------------

/** One BPF map's fill level, as the agent reads it. */
export interface MapFill {
  name: string;
  entries: number;
  maxEntries: number;
}

/**
 * The agent's live state, read when Prometheus scrapes (no timers); `maps`
 * at most once per scrape and per `mapsMaxAgeMs`. Each function is
 * optional; a value pushed with a setter is used where a function is absent.
 */
export interface AgentHealthSource {
  maps?(): readonly MapFill[];
  kvstoreUp?(): boolean;
  endpoints?(): number;
  /** Datapath entries the periodic resync found differing from the model and repaired, since start, per map. */
  datapathDrift?(): Readonly<Record<string, number>>;
}

/** Where lost events were lost: Hubble's `source` values of hubble_lost_events_total. */
export type LostEventSource = 'perf_event_ring_buffer' | 'observer_events_queue' | 'hubble_ring_buffer' | (string & {});

export interface FlowMetricsOptions {
  /** Serve OpenMetrics instead of the Prometheus text format (needed to see httpV2 exemplars; Hubble's --hubble-metrics-server-enable-openmetrics). */
  openMetrics?: boolean;
  /** Read at scrape time for the beeline_* gauges. */
  health?: AgentHealthSource;
  /**
   * How old `health.maps()`'s answer may be when a scrape reads it, in ms.
   * Counting a map's entries walks every key, so an agent bounds the walks
   * whatever the number of scrapers and their interval (the agent passes
   * MAP_ENTRIES_MAX_AGE_MS). Default 0: asked once per scrape.
   */
  mapsMaxAgeMs?: number;
  /** The clock the maps' age is measured with (ms); default Date.now. */
  now?: () => number;
}

/**
 * Hubble's flow metrics plus the agent's health, in one prom-client
 * Registry. Build it from Hubble's option list (`parseMetricsConfig` or the
 * strings directly), call `process` for every flow, serve `metrics()`.
 */
export class FlowMetrics {
  /** The prom-client registry everything is registered in. */
  readonly registry: Registry<RegistryContentType>;
  /** The families enabled, as parsed. */
  readonly specs: readonly MetricSpec[];
  private readonly processors: Processor[];
  private readonly tracked: TrackedTable[] = [];
  private flowsSeen = 0;
  private readonly lost: SeriesTable;
  private mapsState: readonly MapFill[] = [];
  private kvstoreState = false;
  private endpointsState = 0;
  private readonly health: AgentHealthSource;
  private readonly regeneration: Histogram<string>;
  private readonly fqdnLearn: Histogram<string>;
  private readonly mesh: { requests: Counter<string>; retries: Counter<string>; duration: Histogram<string> };

  /** @throws MetricsConfigError for a bad option (when given strings). */
  constructor(config: readonly string[] | string | readonly MetricSpec[] = DEFAULT_METRICS, options: FlowMetricsOptions = {}) {
    this.specs = isSpecList(config) ? config : parseMetricsConfig(config);
    this.health = options.health ?? {};
    const registry = new Registry<RegistryContentType>();
    registry.setContentType(options.openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE);
    this.registry = registry;
    this.processors = this.specs.map((spec) => {
      const ctx = compileContext(spec.context);
      const track = (table: SeriesTable, metric: TrackedTable['metric']) => this.tracked.push({ table, metric, ctx });
      return BUILDERS[spec.name]({ registry, spec, ctx, exemplars: !!options.openMetrics, track });
    });

    this.lost = tableCounter(registry, 'hubble_lost_events_total', 'Number of lost events', ['source'], false);
    const self = this;
    new Counter({
      name: 'beeline_flows_seen_total',
      help: 'Flows the agent handed to the metrics (every flow, whatever families are enabled)',
      registers: [registry],
      collect() {
        if (self.flowsSeen > 0) {
          this.inc(self.flowsSeen);
          self.flowsSeen = 0;
        }
      },
    });
    // Three gauges read the maps; the agent is asked at most once per scrape
    // (prom-client runs every collect in one synchronous pass, the microtask
    // comes after), and not again until its answer is mapsMaxAgeMs old.
    const maxAgeMs = options.mapsMaxAgeMs ?? 0;
    const now = options.now ?? Date.now;
    let mapsRead: readonly MapFill[] | undefined;
    let mapsReadAt = 0;
    let inScrape = false;
    const mapsNow = () => {
      const read = this.health.maps;
      if (!read) return this.mapsState;
      if (mapsRead === undefined || (!inScrape && now() - mapsReadAt >= maxAgeMs)) {
        mapsRead = read.call(this.health);
        mapsReadAt = now();
      }
      if (!inScrape) {
        inScrape = true;
        queueMicrotask(() => (inScrape = false));
      }
      return mapsRead;
    };
    const mapGauge = (name: string, help: string, value: (m: MapFill) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['map_name'],
        registers: [registry],
        collect() {
          // Maps come and go with endpoints: only the current ones are reported.
          this.reset();
          for (const m of mapsNow()) this.set({ map_name: m.name }, value(m));
        },
      });
    mapGauge('beeline_bpf_map_pressure', 'Fill level of a BPF map: entries / max entries (Cilium: cilium_bpf_map_pressure)', (m) => (m.maxEntries > 0 ? m.entries / m.maxEntries : 0));
    mapGauge('beeline_bpf_map_entries', 'Entries in a BPF map', (m) => m.entries);
    mapGauge('beeline_bpf_map_capacity', 'Max entries of a BPF map', (m) => m.maxEntries);
    // Mesh routes (issue 15): from the mesh listener's response flows, whatever families are enabled.
    this.mesh = {
      requests: new Counter({ name: 'beeline_mesh_requests_total', help: 'HTTP requests routed by an HTTPRoute (mesh), by route, rule, backend Service and status class', labelNames: ['route', 'rule', 'backend', 'code_class'], registers: [registry] }),
      retries: new Counter({ name: 'beeline_mesh_retries_total', help: 'Retries the node proxy made for requests routed by an HTTPRoute (mesh)', labelNames: ['route', 'rule', 'backend'], registers: [registry] }),
      duration: new Histogram({ name: 'beeline_mesh_request_duration_seconds', help: 'Latency of requests routed by an HTTPRoute (mesh), request to response headers, retries included', labelNames: ['route', 'rule'], buckets: HTTP_BUCKETS, registers: [registry] }),
    };
    this.regeneration = new Histogram({
      name: 'beeline_policy_regeneration_seconds',
      help: 'Time to compute and write one endpoint policy regeneration',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    // Fine buckets around the few milliseconds an answer may be held (issue 13's goal: 5 ms).
    this.fqdnLearn = new Histogram({
      name: 'beeline_fqdn_datapath_update_seconds',
      help: 'Time from an allowed DNS answer reaching the DNS proxy to its addresses being in the policy maps and the ipcache (the answer is held until then)',
      buckets: [0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    });
    new Gauge({
      name: 'beeline_kvstore_up',
      help: '1 when the agent reaches the cluster store (etcd or Kubernetes API), 0 when not',
      registers: [registry],
      collect() {
        this.set((self.health.kvstoreUp?.() ?? self.kvstoreState) ? 1 : 0);
      },
    });
    // A counter fed from the agent's running totals: each scrape adds what grew since the last.
    const driftReported = new Map<string, number>();
    new Counter({
      name: 'beeline_datapath_drift_repaired_total',
      help: 'Datapath map entries the periodic resync found differing from the model (missed or failed writes, changes from outside) and repaired',
      labelNames: ['map'],
      registers: [registry],
      collect() {
        for (const [map, n] of Object.entries(self.health.datapathDrift?.() ?? {})) {
          const before = driftReported.get(map);
          if (before === undefined) this.inc({ map }, 0);
          if (n > (before ?? 0)) this.inc({ map }, n - (before ?? 0));
          driftReported.set(map, n);
        }
      },
    });
    new Gauge({
      name: 'beeline_endpoints',
      help: 'Endpoints the agent manages on this node',
      registers: [registry],
      collect() {
        this.set(self.health.endpoints?.() ?? self.endpointsState);
      },
    });
  }

  /** Updates every enabled family with one flow. Never throws for odd flows: a field it needs that is absent counts as empty, as in Hubble. */
  process(flow: Flow): void {
    this.flowsSeen++;
    if (flow.mesh_route?.route) this.processMesh(flow);
    const ps = this.processors;
    for (let i = 0; i < ps.length; i++) ps[i](flow);
  }

  /** A mesh response flow (Flow.mesh_route): the per-route request, retry and latency metrics. */
  private processMesh(f: Flow): void {
    const http = f.l7?.http;
    if (!http || enumName(L7_TYPES, f.l7!.type) !== 'RESPONSE') return;
    const m = f.mesh_route!;
    const route = { route: m.route ?? '', rule: String(m.rule ?? 0) };
    const code = http.code ?? 0;
    this.mesh.requests.inc({ ...route, backend: m.backend ?? '', code_class: code >= 100 && code < 600 ? `${Math.floor(code / 100)}xx` : 'other' });
    if ((m.retries ?? 0) > 0) this.mesh.retries.inc({ ...route, backend: m.backend ?? '' }, m.retries!);
    this.mesh.duration.observe(route, latencySeconds(f));
  }

  /**
   * Forgets the series bound to a deleted pod, as Hubble does to keep
   * cardinality down: those whose `source`/`destination` is `namespace/pod`
   * under a `pod` context, or whose labelsContext pod and namespace labels
   * name it. Hubble does this one minute after the pod is deleted (so a last
   * scrape sees the final counts); the agent chooses when to call.
   * @returns how many series were removed.
   */
  deletePodSeries(namespace: string, pod: string): number {
    let n = 0;
    for (const { table, metric, ctx } of this.tracked) {
      const match = ctx.podMatcher(namespace, pod);
      if (!match) continue;
      for (const s of table.removeWhere(match)) {
        metric.remove(s.labels);
        n++;
      }
    }
    return n;
  }

  /** Counts events lost at `source` (Hubble: perf_event_ring_buffer, observer_events_queue, hubble_ring_buffer). */
  observeLost(source: LostEventSource, n: number): void {
    if (!(n > 0)) return;
    this.lost.values[0] = source;
    this.lost.get().pending += n;
  }

  /** The BPF maps' fill levels now (used when no `health.maps` function was given). */
  setMaps(rows: readonly MapFill[]): void {
    this.mapsState = rows.map((r) => ({ name: r.name, entries: r.entries, maxEntries: r.maxEntries }));
  }

  /** The DNS proxy made one answer's addresses known to the datapath in `seconds`. */
  observeFqdnDatapathUpdate(seconds: number): void {
    this.fqdnLearn.observe(seconds);
  }

  /** One policy regeneration took `seconds`. */
  observePolicyRegeneration(seconds: number): void {
    this.regeneration.observe(seconds);
  }

  setKvstoreUp(up: boolean): void {
    this.kvstoreState = up;
  }

  setEndpoints(n: number): void {
    this.endpointsState = n;
  }

  /** The Content-Type of `metrics()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text (Prometheus text 0.0.4, or OpenMetrics). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** One line per enabled family with its options, like Hubble's "Configured metrics plugin" log. */
  status(): string[] {
    return this.specs.map((s) => s.text);
  }
}

function isSpecList(c: readonly string[] | string | readonly MetricSpec[]): c is readonly MetricSpec[] {
  return Array.isArray(c) && c.length > 0 && typeof c[0] === 'object';
}

// ---------------------------------------------------------------------------
// The HTTP endpoint
// ---------------------------------------------------------------------------

export interface MetricsServerAddresses {
  /** E.g. the node namespace's address and HUBBLE_METRICS_PORT; port 0 picks a free one. */
  tcp?: { host: string; port: number };
  /** A unix socket path (a stale socket file there is replaced). */
  unix?: string;
}

export interface MetricsServerHandle {
  /** The TCP address bound, with the port actually chosen. */
  readonly tcp?: { host: string; port: number };
  readonly unix?: string;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (and HEAD) with the registry's exposition; 404 on
 * any other path. One node:http server per address.
 * @throws MetricsListenError when an address cannot be bound.
 */
export async function startMetricsServer(metrics: FlowMetrics, addresses: MetricsServerAddresses): Promise<MetricsServerHandle> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    metrics.metrics().then(
      (body) => {
        res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`collect metrics: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  };
  const servers: Server[] = [];
  const listen = (what: string, args: [number, string] | [string]) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer(handler);
      server.once('error', (err) => reject(new MetricsListenError(`metrics server listen on ${what}: ${err.message}`, { cause: err })));
      server.listen(...(args as [number, string]), () => resolve(server));
    });
  const closeAll = () =>
    Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    ).then(() => undefined);
  let tcp: { host: string; port: number } | undefined;
  try {
    if (addresses.tcp) {
      const { host, port } = addresses.tcp;
      const s = await listen(`${host}:${port}`, [port, host]);
      servers.push(s);
      const a = s.address();
      tcp = { host, port: typeof a === 'object' && a ? a.port : port };
    }
    if (addresses.unix) {
      removeStaleSocket(addresses.unix);
      servers.push(await listen(addresses.unix, [addresses.unix]));
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  return { tcp, unix: addresses.unix, close: closeAll };
}

/** A socket file left by a killed agent makes listen fail with EADDRINUSE; anything else at the path is left alone. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new MetricsListenError(`metrics server listen on ${path}: ${(e as Error).message}`, { cause: e });
  }
}
