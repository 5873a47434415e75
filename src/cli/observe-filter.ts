/**
 * `beeline observe`'s filter flags → the GetFlowsRequest's whitelist and
 * blacklist, built the way `hubble observe` builds them
 * (hubble/cmd/observe/flows_filter.go):
 *
 * - `--from-X` sets a source field and `--to-X` a destination field on every
 *   filter; a non-directional flag (`--pod`, `--ip`, `--label`, `--port`,
 *   `--fqdn`, `--service`, `--identity`, `--workload`) sets the source field
 *   of a "left" filter and the destination field of a "right" one, so the
 *   flow matches when either side does. Equal left and right collapse to one.
 * - `-n/--namespace` qualifies the pod and Service names of the left filter's
 *   source and the right filter's destination (`ns/`, or `ns/pod` with a
 *   bare `--pod pod`); `--from-namespace` / `--to-namespace` every filter's
 *   source / destination.
 * - `--not` sends the next filter flag (only that one) to the blacklist.
 * - Repeating a flag ORs its values; different flags AND.
 *
 * Values the client can judge (addresses, ports, verdicts, types, regular
 * expressions, …) are checked here, with a usage error naming the flag.
 */
import { ReservedIdentity } from '../identity/reserved.js';
import { isIP } from 'node:net';
import { protoRoot } from '../api/proto.js';
import { UsageError } from '../common/errors.js';
import type { FlowFilter } from '../observer/types.js';

/**
 * A FlowFilter as this builder makes it: every repeated field an array,
 * enums by name. http_url and drop_reason_desc are Hubble's FlowFilter
 * fields 31 and 33 (see contractHasField).
 */
export type BuiltFlowFilter = FlowFilter & { http_url?: string[]; drop_reason_desc?: string[] };

/** Hubble's L4/L7 protocol names the server's protocol filter knows. */
export const PROTOCOLS = ['icmp', 'icmpv4', 'icmpv6', 'sctp', 'tcp', 'udp', 'vrrp', 'igmp', 'dns', 'http', 'kafka'];
/** Verdicts `--verdict` takes (Hubble's list). */
export const VERDICTS = ['FORWARDED', 'DROPPED', 'AUDIT', 'REDIRECTED', 'ERROR', 'TRACED', 'TRANSLATED'];

/** Cilium's monitor message type names (pkg/monitor/api MessageTypeNames). */
export const EVENT_TYPES: Readonly<Record<string, number>> = {
  drop: 1,
  debug: 2,
  capture: 3,
  trace: 4,
  'policy-verdict': 5,
  'trace-sock': 7,
  l7: 129,
  agent: 130,
};

/** Trace observation points by name (Cilium's TraceObservationPoints): the trace sub-types. */
export const TRACE_SUBTYPES: Readonly<Record<string, number>> = {
  'to-endpoint': 0,
  'to-proxy': 1,
  'to-host': 2,
  'to-stack': 3,
  'to-overlay': 4,
  'from-endpoint': 5,
  'from-proxy': 6,
  'from-host': 7,
  'from-stack': 8,
  'from-overlay': 9,
  'from-network': 10,
  'to-network': 11,
  'from-crypto': 12,
  'to-crypto': 13,
};

/** Agent event sub-types by name (hubble's agentEventSubtypes). */
const AGENT_SUBTYPES: Readonly<Record<string, number>> = {
  unspecified: 0,
  message: 1,
  'agent-started': 2,
  'policy-updated': 3,
  'policy-deleted': 4,
  'endpoint-regenerate-success': 5,
  'endpoint-regenerate-failure': 6,
  'endpoint-created': 7,
  'endpoint-deleted': 8,
  'ipcache-upserted': 9,
  'ipcache-deleted': 10,
};

/** Reserved identity names `--identity` takes besides numbers (Cilium's reservedIdentities). */
export const RESERVED_IDENTITY_NAMES: Readonly<Record<string, number>> = ReservedIdentity;

/** Every filter flag the builder takes (long names, as Hubble spells them). */
export const FILTER_FLAGS = [
  'uuid',
  'fqdn',
  'from-fqdn',
  'to-fqdn',
  'pod',
  'from-pod',
  'to-pod',
  'ip',
  'from-ip',
  'to-ip',
  'ipv4',
  'ipv6',
  'ip-version',
  'label',
  'from-label',
  'to-label',
  'namespace',
  'from-namespace',
  'to-namespace',
  'all-namespaces',
  'from-all-namespaces',
  'to-all-namespaces',
  'service',
  'from-service',
  'to-service',
  'port',
  'from-port',
  'to-port',
  'trace-id',
  'verdict',
  'drop-reason-desc',
  'http-status',
  'http-method',
  'http-path',
  'http-url',
  'type',
  'protocol',
  'workload',
  'from-workload',
  'to-workload',
  'identity',
  'from-identity',
  'to-identity',
  'node-name',
  'tcp-flags',
  'traffic-direction',
] as const;
export type FilterFlag = (typeof FILTER_FLAGS)[number];

/** Flags that may not be combined (in one list) — hubble's conflict groups, for the flags we have. */
const CONFLICTS: readonly (readonly string[])[] = [
  ['from-fqdn', 'from-ip', 'ip', 'fqdn', 'from-namespace', 'namespace', 'from-all-namespaces', 'all-namespaces'],
  ['from-fqdn', 'from-ip', 'ip', 'fqdn', 'from-pod', 'pod'],
  ['to-fqdn', 'to-ip', 'ip', 'fqdn', 'to-namespace', 'namespace', 'to-all-namespaces', 'all-namespaces'],
  ['to-fqdn', 'to-ip', 'ip', 'fqdn', 'to-pod', 'pod'],
  ['to-pod', 'namespace', 'all-namespaces'],
  ['from-pod', 'namespace', 'all-namespaces'],
  ['to-service', 'namespace', 'all-namespaces'],
  ['from-service', 'namespace', 'all-namespaces'],
  ['label', 'from-label'],
  ['label', 'to-label'],
  ['service', 'from-service'],
  ['service', 'to-service'],
  ['port', 'to-port'],
  ['port', 'from-port'],
  ['identity', 'to-identity'],
  ['identity', 'from-identity'],
  ['workload', 'to-workload'],
  ['workload', 'from-workload'],
];

type Update = (f: BuiltFlowFilter) => void;

const push =
  <K extends keyof BuiltFlowFilter>(key: K, value: NonNullable<BuiltFlowFilter[K]> extends (infer E)[] ? E : never): Update =>
  (f) => {
    const arr = ((f[key] as unknown[] | undefined) ?? []) as unknown[];
    arr.push(value);
    (f as Record<string, unknown>)[key as string] = arr;
  };

function namespaceOf(name: string): string {
  const parts = name.split('/');
  return parts.length > 1 ? parts[0]! : '';
}

/** `name` → `ns/name` for each namespace, names that have a namespace kept as they are. */
function addNamespaces(names: string[] | undefined, ns: string[]): string[] | undefined {
  if (!ns.length || !names?.length) return names;
  const out: string[] = [];
  for (const n of names) {
    if (n.includes('/')) out.push(n);
    else for (const x of ns) out.push(`${x}/${n}`);
  }
  return out;
}

/** Deep equality of two filters, ignoring key order and empty lists (as proto.Equal). */
function sameFilter(a: BuiltFlowFilter, b: BuiltFlowFilter): boolean {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v)
          .filter(([, x]) => x !== undefined && !(Array.isArray(x) && x.length === 0))
          .sort(([x], [y]) => (x < y ? -1 : 1))
          .map(([k, x]) => [k, norm(x)]),
      );
    }
    return v;
  };
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

/** One list (whitelist or blacklist) under construction: hubble's filterTracker. */
class FilterTracker {
  left: BuiltFlowFilter | undefined;
  right: BuiltFlowFilter | undefined;
  ns: string[] = [];
  srcNs: string[] = [];
  dstNs: string[] = [];
  changed: string[] = [];

  apply(u: Update): void {
    this.applyLeft(u);
    this.applyRight(u);
  }
  applyLeft(u: Update): void {
    u((this.left ??= {}));
  }
  applyRight(u: Update): void {
    u((this.right ??= {}));
  }

  private nsConflicts(ns: string[], names: string[] | undefined): void {
    for (const n of ns) {
      for (const name of names ?? []) {
        const nn = namespaceOf(name);
        if (nn !== '' && nn !== n) throw new UsageError(`namespace conflict: "${n}" does not contain "${name}"`, 'give the pod or Service without a namespace, or drop -n/--namespace');
      }
    }
  }

  private podServiceConflicts(pods: string[] | undefined, services: string[] | undefined): void {
    for (const pod of pods ?? []) {
      const podNs = namespaceOf(pod);
      if (!podNs) continue;
      for (const svc of services ?? []) {
        if (namespaceOf(svc) !== podNs) throw new UsageError(`namespace of service "${svc}" conflicts with pod "${pod}"`, 'a pod and a Service on the same side must be in one namespace');
      }
    }
  }

  checkNamespaces(): void {
    for (const f of [this.left, this.right]) {
      if (!f) continue;
      this.nsConflicts(this.ns, f.source_pod);
      this.nsConflicts(this.ns, f.source_service);
      this.nsConflicts(this.ns, f.destination_pod);
      this.nsConflicts(this.ns, f.destination_service);
      this.nsConflicts(this.srcNs, f.source_pod);
      this.nsConflicts(this.srcNs, f.source_service);
      this.nsConflicts(this.dstNs, f.destination_pod);
      this.nsConflicts(this.dstNs, f.destination_service);
      this.podServiceConflicts(f.source_pod, f.source_service);
      this.podServiceConflicts(f.destination_pod, f.destination_service);
    }
  }

  private static applySrc(ns: string[], f: BuiltFlowFilter): void {
    if (!f.source_pod?.length && !f.source_service?.length) f.source_pod = [''];
    f.source_pod = addNamespaces(f.source_pod, ns);
    f.source_service = addNamespaces(f.source_service, ns);
    if (!f.source_pod?.length) delete f.source_pod;
    if (!f.source_service?.length) delete f.source_service;
  }

  private static applyDest(ns: string[], f: BuiltFlowFilter): void {
    if (!f.destination_pod?.length && !f.destination_service?.length) f.destination_pod = [''];
    f.destination_pod = addNamespaces(f.destination_pod, ns);
    f.destination_service = addNamespaces(f.destination_service, ns);
    if (!f.destination_pod?.length) delete f.destination_pod;
    if (!f.destination_service?.length) delete f.destination_service;
  }

  /** The filters this list ends up with (hubble's flowFilters()): none, one, or left and right. */
  filters(): BuiltFlowFilter[] {
    if (!this.left && !this.right && !this.ns.length && !this.srcNs.length && !this.dstNs.length) return [];
    const left = (this.left ??= {});
    const right = (this.right ??= {});
    if (this.dstNs.length) {
      FilterTracker.applyDest(this.dstNs, left);
      FilterTracker.applyDest(this.dstNs, right);
    }
    if (this.srcNs.length) {
      FilterTracker.applySrc(this.srcNs, left);
      FilterTracker.applySrc(this.srcNs, right);
    }
    if (this.ns.length) {
      FilterTracker.applySrc(this.ns, left);
      FilterTracker.applyDest(this.ns, right);
    }
    return sameFilter(left, right) ? [left] : [left, right];
  }
}

/** Whether the loaded contract's FlowFilter has a field (http_url and drop_reason_desc are not in api/flow/flow.proto yet). */
export function contractHasField(field: string): boolean {
  return protoRoot().lookupType('flow.FlowFilter').fields[field] !== undefined;
}

function needField(flag: string, field: string): void {
  if (!contractHasField(field)) {
    throw new UsageError(`--${flag}: the Observer API has no ${field} filter yet (api/flow/flow.proto FlowFilter lacks Hubble's field ${field === 'http_url' ? 31 : 33})`, 'filter on another field, or add the field to the contract');
  }
}

/** An address or a CIDR (`10.0.0.1`, `10.0.0.0/24`, `fd00::/64`). */
function checkIpOrCidr(flag: string, v: string): void {
  const [ip, bits, extra] = v.split('/');
  const family = isIP(ip ?? '');
  const max = family === 4 ? 32 : 128;
  const ok = family !== 0 && extra === undefined && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max));
  if (!ok) throw new UsageError(`--${flag} ${v}: not an IP address or CIDR`, 'e.g. 10.0.1.5 or 10.0.1.0/24');
}

function checkPort(flag: string, v: string): void {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError(`--${flag} ${v}: not a port`, 'a number from 0 to 65535');
}

function checkRegex(flag: string, v: string): void {
  try {
    new RegExp(v);
  } catch (e) {
    throw new UsageError(`--${flag} ${v}: not a regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
}

function parseIdentityValue(flag: string, v: string): number {
  const reserved = RESERVED_IDENTITY_NAMES[v];
  if (reserved !== undefined) return reserved;
  if (/^\d+$/.test(v) && Number(v) <= 0xffffffff) return Number(v);
  throw new UsageError(`--${flag} ${v}: not a security identity`, `one of ${Object.keys(RESERVED_IDENTITY_NAMES).join(', ')} or a number`);
}

/** `Deployment/web`, `web` (any kind), `Deployment/` (any name). */
export function parseWorkload(v: string): { name: string; kind: string } {
  if (v === '') return { name: '', kind: '' };
  const i = v.indexOf('/');
  return i < 0 ? { name: v, kind: '' } : { kind: v.slice(0, i), name: v.slice(i + 1) };
}

const TCP_FLAG_NAMES = ['SYN', 'FIN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'];

/** `syn,ack` → { SYN: true, ACK: true }: a flow matches when it has every flag listed. */
export function parseTcpFlags(v: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const f of v.split(',')) {
    const u = f.toUpperCase();
    if (!TCP_FLAG_NAMES.includes(u)) throw new UsageError(`--tcp-flags ${v}: unknown tcp flag: ${f}`, `comma-separated, of: ${TCP_FLAG_NAMES.join(', ')}`);
    out[u] = true;
  }
  return out;
}

/** `TYPE[:SUBTYPE]` → an EventTypeFilter, as hubble's --type. */
export function parseEventType(v: string): { type: number; match_sub_type?: boolean; sub_type?: number } {
  const i = v.indexOf(':');
  const [t, s] = i < 0 ? [v, undefined] : [v.slice(0, i), v.slice(i + 1)];
  const hint = `one of ${Object.keys(EVENT_TYPES).join(', ')} (or a number), with trace:SUBTYPE of ${Object.keys(TRACE_SUBTYPES).join(', ')}`;
  let type = EVENT_TYPES[t];
  if (type === undefined) {
    if (!/^\d+$/.test(t) || Number(t) > 0xffffffff) throw new UsageError(`--type ${v}: unknown event type '${t}'`, hint);
    type = Number(t);
  }
  if (s === undefined) return { type };
  let sub: number | undefined;
  if (type === EVENT_TYPES.trace) sub = TRACE_SUBTYPES[s];
  else if (type === EVENT_TYPES.agent) sub = AGENT_SUBTYPES[s];
  if (sub === undefined) {
    if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) throw new UsageError(`--type ${v}: unknown event sub-type '${s}'`, hint);
    sub = Number(s);
  }
  return { type, match_sub_type: true, sub_type: sub };
}

function ipVersion(v: string): string {
  switch (v.toLowerCase()) {
    case '4':
    case 'v4':
    case 'ipv4':
    case 'ip4':
      return 'IPv4';
    case '6':
    case 'v6':
    case 'ipv6':
    case 'ip6':
      return 'IPv6';
  }
  return 'IP_NOT_USED';
}

/**
 * Hubble's flowFilter: takes filter flags in command-line order (`--not`
 * included) and yields the whitelist and blacklist.
 */
export class FlowFilterBuilder {
  private whitelist: FilterTracker | undefined;
  private blacklist: FilterTracker | undefined;
  private blacklisting = false;

  /** One flag occurrence; `not` takes no value. Throws a UsageError naming the flag. */
  set(name: FilterFlag | 'not', value = ''): void {
    if (name === 'not') {
      if (this.blacklisting) throw new UsageError('--not --not: consecutive --not statements', '--not negates the one filter flag after it');
      this.blacklisting = true;
      return;
    }
    let t: FilterTracker;
    if (this.blacklisting) {
      // --not applies to one filter flag only.
      this.blacklisting = false;
      t = this.blacklist ??= new FilterTracker();
    } else t = this.whitelist ??= new FilterTracker();
    this.apply(t, name, value);
  }

  /** The lists; throws when a `--not` is left without a filter after it. */
  build(): { whitelist: BuiltFlowFilter[]; blacklist: BuiltFlowFilter[] } {
    if (this.blacklisting) throw new UsageError('--not: trailing --not found in the arguments', 'put the filter flag to negate right after --not');
    return { whitelist: this.whitelist?.filters() ?? [], blacklist: this.blacklist?.filters() ?? [] };
  }

  private apply(t: FilterTracker, name: FilterFlag, v: string): void {
    const first = !t.changed.includes(name);
    if (first) t.changed.push(name);
    for (const group of CONFLICTS) {
      if (!group.includes(name)) continue;
      const other = group.find((g) => g !== name && t.changed.includes(g));
      if (other) throw new UsageError(`filters --${name} and --${other} cannot be combined`, '--not puts a filter in the other list, where it may be combined');
    }
    const both = (srcKey: keyof BuiltFlowFilter, dstKey: keyof BuiltFlowFilter, val: unknown) => {
      t.applyLeft(push(srcKey, val as never));
      t.applyRight(push(dstKey, val as never));
    };
    switch (name) {
      case 'uuid':
        t.apply(push('uuid', v));
        break;
      case 'fqdn':
        both('source_fqdn', 'destination_fqdn', v);
        break;
      case 'from-fqdn':
        t.apply(push('source_fqdn', v));
        break;
      case 'to-fqdn':
        t.apply(push('destination_fqdn', v));
        break;
      case 'pod':
        both('source_pod', 'destination_pod', v);
        break;
      case 'from-pod':
        t.apply(push('source_pod', v));
        break;
      case 'to-pod':
        t.apply(push('destination_pod', v));
        break;
      case 'ip':
        checkIpOrCidr(name, v);
        both('source_ip', 'destination_ip', v);
        break;
      case 'from-ip':
        checkIpOrCidr(name, v);
        t.apply(push('source_ip', v));
        break;
      case 'to-ip':
        checkIpOrCidr(name, v);
        t.apply(push('destination_ip', v));
        break;
      case 'ipv4':
        t.apply(push('ip_version', 'IPv4'));
        break;
      case 'ipv6':
        t.apply(push('ip_version', 'IPv6'));
        break;
      case 'ip-version':
        t.apply(push('ip_version', ipVersion(v) as never));
        break;
      case 'label':
        both('source_label', 'destination_label', v);
        break;
      case 'from-label':
        t.apply(push('source_label', v));
        break;
      case 'to-label':
        t.apply(push('destination_label', v));
        break;
      case 'namespace':
        t.ns.push(v);
        break;
      case 'from-namespace':
        t.srcNs.push(v);
        break;
      case 'to-namespace':
        t.dstNs.push(v);
        break;
      case 'all-namespaces':
        t.ns.push('');
        break;
      case 'from-all-namespaces':
        t.srcNs.push('');
        break;
      case 'to-all-namespaces':
        t.dstNs.push('');
        break;
      case 'service':
        both('source_service', 'destination_service', v);
        break;
      case 'from-service':
        t.apply(push('source_service', v));
        break;
      case 'to-service':
        t.apply(push('destination_service', v));
        break;
      case 'port':
        checkPort(name, v);
        both('source_port', 'destination_port', v);
        break;
      case 'from-port':
        checkPort(name, v);
        t.apply(push('source_port', v));
        break;
      case 'to-port':
        checkPort(name, v);
        t.apply(push('destination_port', v));
        break;
      case 'trace-id':
        t.apply(push('trace_id', v));
        break;
      case 'verdict': {
        const u = v.toUpperCase();
        if (!VERDICTS.includes(u)) throw new UsageError(`--verdict ${v}: invalid verdict`, `one of ${VERDICTS.join(', ')}`);
        t.apply(push('verdict', u as never));
        break;
      }
      case 'drop-reason-desc': {
        if (!v) throw new UsageError('--drop-reason-desc: empty value', 'a drop reason name, e.g. POLICY_DENIED');
        const e = protoRoot().lookupEnum('flow.DropReason');
        const u = v.toUpperCase();
        if (e.values[u] === undefined) throw new UsageError(`--drop-reason-desc ${v}: invalid drop reason`, 'a flow.DropReason name, e.g. POLICY_DENIED, UNSUPPORTED_L3_PROTOCOL');
        needField(name, 'drop_reason_desc');
        t.apply(push('drop_reason_desc', u));
        break;
      }
      case 'http-status':
        if (!/^\d{3}$/.test(v) && !/^\d{1,2}\+$/.test(v)) throw new UsageError(`--http-status ${v}: not an HTTP status code or class`, 'e.g. 404, or 5+ for every 5xx');
        t.apply(push('http_status_code', v));
        break;
      case 'http-method':
        t.apply(push('http_method', v));
        break;
      case 'http-path':
        checkRegex(name, v);
        t.apply(push('http_path', v));
        break;
      case 'http-url':
        checkRegex(name, v);
        needField(name, 'http_url');
        t.apply(push('http_url', v));
        break;
      case 'type':
        t.apply(push('event_type', parseEventType(v)));
        break;
      case 'protocol': {
        const p = v.toLowerCase();
        if (!PROTOCOLS.includes(p)) throw new UsageError(`--protocol ${v}: unknown protocol`, `one of ${PROTOCOLS.join(', ')}`);
        t.apply(push('protocol', p));
        break;
      }
      case 'workload':
        both('source_workload', 'destination_workload', parseWorkload(v));
        break;
      case 'from-workload':
        t.apply(push('source_workload', parseWorkload(v)));
        break;
      case 'to-workload':
        t.apply(push('destination_workload', parseWorkload(v)));
        break;
      case 'identity':
        both('source_identity', 'destination_identity', parseIdentityValue(name, v));
        break;
      case 'from-identity':
        t.apply(push('source_identity', parseIdentityValue(name, v)));
        break;
      case 'to-identity':
        t.apply(push('destination_identity', parseIdentityValue(name, v)));
        break;
      case 'node-name':
        t.apply(push('node_name', v));
        break;
      case 'tcp-flags':
        t.apply(push('tcp_flags', parseTcpFlags(v)));
        break;
      case 'traffic-direction': {
        const d = v.toLowerCase();
        if (d !== 'ingress' && d !== 'egress') throw new UsageError(`--traffic-direction ${v}: invalid traffic direction`, 'ingress or egress');
        t.apply(push('traffic_direction', d.toUpperCase() as never));
        break;
      }
    }
    t.checkNamespaces();
  }
}
