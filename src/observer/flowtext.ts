/**
 * The words of a flow as Hubble prints them (times, hosts, ports, identities,
 * verdicts, policy names, summary): the pure part of printer.ts, with no
 * Node or protobuf dependency, so the web UI's table (ui/) shows exactly
 * what `observe` prints. printer.ts re-exports everything here.
 */
import { ReservedIdentity } from '../identity/reserved.js';
import type { Flow, FlowEndpoint, FlowPolicy } from './types.js';

/** Hubble's `--time-format` names (hubble/pkg/time), in its help's order. */
export const TIME_FORMATS = ['StampMilli', 'YearMonthDay', 'YearMonthDayHour', 'YearMonthDayHourMinute', 'RFC3339', 'RFC3339Milli', 'RFC3339Micro', 'RFC3339Nano', 'RFC1123Z'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Cilium's monitor message type of a policy verdict (pkg/monitor/api/types.go), as flows carry it in event_type.type. */
export const MSG_POLICY_VERDICT = 5;

/** A protobuf Timestamp in any of the forms flows carry it. */
export type Timestamp = { seconds?: number | string | bigint | { toString(): string } | null; nanos?: number | null } | null | undefined;

/** Names of numeric enum values, by the proto enum's full name (`flow.Verdict`). */
export type EnumNames = (enumName: string, value: number) => string | undefined;

// Flows decoded from JSON or gRPC carry enum names; only a flow built by hand
// carries numbers, and naming those needs the contracts (protobufjs, Node
// only): printer.ts installs them, the browser has none.
let numericEnumNames: EnumNames = () => undefined;

/** Where enumText finds the names of numeric enum values (printer.ts: the loaded contracts). */
export function setEnumNames(names: EnumNames): void {
  numericEnumNames = names;
}

/** An enum value as its proto name, whether it came decoded (a string) or built by hand (a number). */
export function enumText(enumName: string, v: unknown): string {
  if (typeof v === 'string') return v;
  const n = Number(v ?? 0);
  return numericEnumNames(enumName, n) ?? String(n);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * A protobuf Timestamp in one of Hubble's time formats (UTC), or `N/A` for
 * none, as Hubble's fmtTimestamp.
 */
export function formatTimestamp(ts: Timestamp, format: TimeFormat = 'StampMilli'): string {
  if (!ts) return 'N/A';
  const seconds = Number(String(ts.seconds ?? 0));
  const nanos = Number(ts.nanos ?? 0);
  if (!Number.isFinite(seconds) || nanos < 0 || nanos > 999_999_999) return 'N/A';
  const d = new Date(seconds * 1000);
  const Y = d.getUTCFullYear();
  const M = d.getUTCMonth();
  const D = d.getUTCDate();
  const hms = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  const date = `${Y}-${pad2(M + 1)}-${pad2(D)}`;
  const frac = String(nanos).padStart(9, '0');
  switch (format) {
    case 'StampMilli':
      return `${MONTHS[M]} ${String(D).padStart(2, ' ')} ${hms}.${frac.slice(0, 3)}`;
    case 'YearMonthDay':
      return date;
    case 'YearMonthDayHour':
      return `${date}T${pad2(d.getUTCHours())}Z`;
    case 'YearMonthDayHourMinute':
      return `${date}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}Z`;
    case 'RFC3339':
      return `${date}T${hms}Z`;
    case 'RFC3339Milli':
      return `${date}T${hms}.${frac.slice(0, 3)}Z`;
    case 'RFC3339Micro':
      return `${date}T${hms}.${frac.slice(0, 6)}Z`;
    case 'RFC3339Nano': {
      // Go's .999999999 drops trailing zeros, and the dot with them.
      const f = frac.replace(/0+$/, '');
      return `${date}T${hms}${f ? `.${f}` : ''}Z`;
    }
    case 'RFC1123Z':
      return `${DAYS[d.getUTCDay()]}, ${pad2(D)} ${MONTHS[M]} ${Y} ${hms} +0000`;
  }
}

/** Source and destination port of a TCP, UDP or SCTP flow ('' for others), as Hubble's GetPorts. */
export function flowPorts(f: Flow): [string, string] {
  const l4 = f.l4;
  const p = l4?.TCP ?? l4?.UDP ?? l4?.SCTP;
  if (!p) return ['', ''];
  return [String(p.source_port ?? 0), String(p.destination_port ?? 0)];
}

/** Go's net.JoinHostPort: IPv6 hosts in brackets. */
function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's path.Join for the two parts Hubble joins (an empty namespace leaves the name alone). */
function joinName(ns: string, name: string): string {
  return ns ? `${ns}/${name}` : name;
}

/**
 * One side of a flow as Hubble names it: `namespace/pod`, else
 * `namespace/service`, else the DNS names, else the address; with `:port`
 * unless the port is empty or 0.
 */
export function hostname(ip: string, port: string, ns: string, pod: string, svc: string, names: string[], ipTranslation = true): string {
  let host = ip;
  if (ipTranslation) {
    if (pod) host = joinName(ns, pod);
    else if (svc) host = joinName(ns, svc);
    else if (names.length) host = names.join(',');
  }
  return port !== '' && port !== '0' ? joinHostPort(host, port) : host;
}

/** Source and destination as Hubble's GetHostNames prints them (without their ports for a table with a port column). */
export function flowHostNames(f: Flow, ipTranslation = true, withPorts = true): [string, string] {
  if (!f.IP) {
    if (f.ethernet) return [f.ethernet.source ?? '', f.ethernet.destination ?? ''];
    return ['', ''];
  }
  let srcNs = f.source?.namespace ?? '';
  let dstNs = f.destination?.namespace ?? '';
  const srcPod = f.source?.pod_name ?? '';
  const dstPod = f.destination?.pod_name ?? '';
  let srcSvc = '';
  let dstSvc = '';
  if (f.source_service) {
    srcNs = f.source_service.namespace ?? '';
    srcSvc = f.source_service.name ?? '';
  }
  if (f.destination_service) {
    dstNs = f.destination_service.namespace ?? '';
    dstSvc = f.destination_service.name ?? '';
  }
  const [srcPort, dstPort] = withPorts ? flowPorts(f) : ['', ''];
  return [
    hostname(f.IP.source ?? '', srcPort, srcNs, srcPod, srcSvc, f.source_names ?? [], ipTranslation),
    hostname(f.IP.destination ?? '', dstPort, dstNs, dstPod, dstSvc, f.destination_names ?? [], ipTranslation),
  ];
}

/** `(ID:5678)`, or the reserved identity's name: `(world)`, `(host)`, `(unknown)` for 0. */
export function identityText(id: number): string {
  if (id === 0) return '(unknown)';
  const name = Object.entries(RESERVED_NAMES).find(([, n]) => n === id)?.[0];
  return name ? `(${name})` : `(ID:${id})`;
}

// Names in Cilium's NumericIdentity.String() (reservedIdentityNames), world-ipv4/-ipv6 included.
const RESERVED_NAMES: Readonly<Record<string, number>> = ReservedIdentity;

/** A flow endpoint's numeric identity (0 when absent). */
export function endpointIdentity(e: FlowEndpoint | null | undefined): number {
  return Number(e?.identity ?? 0);
}

/** ` BY name (Kind), name2 (Kind)` for the policies that have both a name and a kind. */
export function policyNamesText(policies: FlowPolicy[] | null | undefined): string {
  const named = (policies ?? []).filter((p) => p.kind && p.name);
  return named.length ? ` BY ${named.map((p) => `${p.name} (${p.kind})`).join(', ')}` : '';
}

/** The verdict word: the enum's name, or for policy verdicts ALLOWED / DENIED / AUDITED. */
export function verdictText(f: Flow, policyNames = false): string {
  const v = enumText('flow.Verdict', f.verdict);
  const isPolicyVerdict = Number(f.event_type?.type ?? 0) === MSG_POLICY_VERDICT;
  if (!isPolicyVerdict) {
    // Beyond Hubble (which names policies on policy verdicts only): a policy
    // drop names the policies behind it too; a default deny (reason 133)
    // says so and names the policies that made the endpoint default-deny.
    if (!policyNames || v !== 'DROPPED') return v;
    const names = policyNamesText([...(f.ingress_denied_by ?? []), ...(f.egress_denied_by ?? [])]);
    if (!names) return v;
    return enumText('flow.DropReason', f.drop_reason_desc) === 'POLICY_DENIED' ? `${v}${names.replace(/^ BY /, ' BY default deny of ')}` : `${v}${names}`;
  }
  const dir = enumText('flow.TrafficDirection', f.traffic_direction);
  switch (v) {
    case 'FORWARDED':
    case 'REDIRECTED': {
      let msg = 'ALLOWED';
      if (policyNames) msg += policyNamesText(dir === 'EGRESS' ? f.egress_allowed_by : dir === 'INGRESS' ? f.ingress_allowed_by : []);
      return msg;
    }
    case 'DROPPED':
    case 'ERROR': {
      let msg = 'DENIED';
      if (policyNames) msg += policyNamesText(dir === 'EGRESS' ? f.egress_denied_by : dir === 'INGRESS' ? f.ingress_denied_by : []);
      return msg;
    }
    case 'AUDIT':
      return 'AUDITED';
  }
  return v;
}

/** The flow's summary, with `; Auth: SPIRE` when authentication was asked for. */
export function summaryText(f: Flow): string {
  // An absent auth_type (JSON without defaults) is the zero value: DISABLED.
  const auth = f.auth_type === undefined || f.auth_type === null ? 'DISABLED' : enumText('flow.AuthType', f.auth_type);
  const s = f.Summary ?? '';
  return auth === 'DISABLED' ? s : `${s}; Auth: ${auth}`;
}
