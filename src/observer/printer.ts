/**
 * Hubble's flow printers (hubble observe / hubble status / hubble list nodes),
 * reproduced line for line so scripts written against Hubble's output read
 * ours: compact (`Dec  6 08:10:41.123: default/a:1234 (ID:5678) -> …`), dict
 * (`KEY: value` blocks between `------------`), table (tab-aligned columns)
 * and json/jsonpb (one GetFlowsResponse per line in protobuf's JSON mapping).
 *
 * Pure: a printer writes through the two callbacks it is given and keeps no
 * other state than Hubble's (the line counter, the table's buffered rows), so
 * the relay and the UI can reuse it.
 */
import { protoRoot, toProtoJson } from '../api/proto.js';
import { endpointIdentity, enumText, flowHostNames, formatTimestamp, identityText, MSG_POLICY_VERDICT, setEnumNames, summaryText, verdictText, type Timestamp, type TimeFormat } from './flowtext.js';
import { dropReasonExtText, tracePointText } from './reasons.js';
import type { Flow, GetFlowsResponse, ObserverNode, ServerStatusResponse } from './types.js';

export * from './flowtext.js';

// Numeric enum values (flows built by hand) named from the loaded contracts.
setEnumNames((enumName, value) => protoRoot().lookupEnum(enumName).valuesById[value]);

/** Output formats of `observe` (json is Hubble's alias of jsonpb). */
export type FlowOutput = 'compact' | 'dict' | 'json' | 'jsonpb' | 'table';
export const FLOW_OUTPUTS: readonly FlowOutput[] = ['compact', 'dict', 'json', 'jsonpb', 'table'];

export interface FlowPrinterOptions {
  output: FlowOutput;
  /** Default StampMilli (`Dec  6 08:10:41.123`), always in UTC as Hubble prints protobuf times. */
  timeFormat?: TimeFormat;
  /** `--print-node-name`: ` [node]` in compact, a NODE column / key elsewhere. */
  nodeName?: boolean;
  /** `--print-policy-names`: ` BY name (Kind)` after a policy verdict's ALLOWED/DENIED. */
  policyNames?: boolean;
  /** Pod, Service or DNS names instead of addresses (Hubble's default; `--numeric` turns it off). */
  ipTranslation?: boolean;
  /** Print informational node status events too (Hubble's --debug); errors and unavailable nodes always. */
  debug?: boolean;
  /** Where flows go (stdout). */
  out: (text: string) => void;
  /** Where node status events go (stderr). */
  err: (text: string) => void;
}

const DICT_SEPARATOR = '------------';
const NODE_NAMES_CUT_OFF = 50;

// Cilium's monitor message types (pkg/monitor/api/types.go) as flows carry them in event_type.type.
const MSG_DROP = 1;
const MSG_CAPTURE = 3;
const MSG_TRACE = 4;
const MSG_TRACE_SOCK = 7;

/** Cilium's PolicyMatchType.String(). */
function policyMatchText(m: number): string {
  return ['none', 'L3-Only', 'L3-L4', 'L4-Only', 'all', 'L3-Proto', 'Proto-Only'][m] ?? 'unknown';
}

/**
 * The flow's type as Hubble's GetFlowType: `http-request`, `dns-response proxy`,
 * an observation point (`to-endpoint`), a drop reason (`Policy denied`),
 * `policy-verdict:L3-L4 INGRESS`, or UNKNOWN.
 */
export function flowType(f: Flow): string {
  const l7 = f.l7;
  if (l7) {
    let proto = 'l7';
    let type = enumText('flow.L7FlowType', l7.type).toLowerCase();
    if (l7.http) proto = 'http';
    else if (l7.dns) {
      proto = 'dns';
      type += ` ${l7.dns.observation_source ?? ''}`;
    } else if (l7.kafka) proto = 'kafka';
    return `${proto}-${type}`;
  }
  const t = Number(f.event_type?.type ?? 0);
  const sub = Number(f.event_type?.sub_type ?? 0) & 0xff;
  switch (t) {
    case MSG_TRACE:
      return tracePointText(sub);
    case MSG_DROP:
      return dropReasonExtText(sub, 0);
    case MSG_POLICY_VERDICT:
      return `policy-verdict:${policyMatchText(Number(f.policy_match_type ?? 0))} ${enumText('flow.TrafficDirection', f.traffic_direction)}`;
    case MSG_CAPTURE:
      return enumText('flow.DebugCapturePoint', f.debug_capture_point);
    case MSG_TRACE_SOCK: {
      const x = enumText('flow.SocketTranslationPoint', f.sock_xlate_point);
      const words: Record<string, string> = {
        SOCK_XLATE_POINT_POST_DIRECTION_FWD: 'post-xlate-fwd',
        SOCK_XLATE_POINT_POST_DIRECTION_REV: 'post-xlate-rev',
        SOCK_XLATE_POINT_PRE_DIRECTION_FWD: 'pre-xlate-fwd',
        SOCK_XLATE_POINT_PRE_DIRECTION_REV: 'pre-xlate-rev',
      };
      return words[x] ?? x;
    }
  }
  return 'UNKNOWN';
}

/** Go's strings.Join with Hubble's cut-off: ` (and N more)` past ~targetLen characters. */
export function joinWithCutOff(elems: string[], sep: string, targetLen: number): string {
  let len = 0;
  let end = elems.length;
  for (let i = 0; i < elems.length; i++) {
    len += elems[i]!.length + sep.length;
    if (len > targetLen && i > 0) {
      end = i;
      break;
    }
  }
  const joined = elems.slice(0, end).join(sep);
  const omitted = elems.length - end;
  return omitted ? `${joined} (and ${omitted} more)` : joined;
}

/**
 * Go's text/tabwriter as Hubble configures it (minwidth 2, padding 3, spaces):
 * every cell but a line's last is padded to its column's widest cell + 3.
 */
export function tabAlign(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.slice(0, -1).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(Math.max(widths[i]! + 3, 2)))).join('') + '\n').join('');
}

/** A Go-style %q of a string (enough for node status messages). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/**
 * beeline's mesh route of an L7 flow (Flow.mesh_route), as `route=ns/name
 * rule=0 backend=v2 server=10.0.2.5:8080 retries=1` (the backend without its
 * namespace when it is the route's); empty for other flows.
 */
export function meshText(f: Flow): string {
  const m = f.mesh_route;
  if (!m || !m.route) return '';
  const ns = m.route.split('/')[0];
  const backend = m.backend && ns && m.backend.startsWith(`${ns}/`) ? m.backend.slice(ns.length + 1) : m.backend;
  return [`route=${m.route}`, `rule=${m.rule ?? 0}`, ...(backend ? [`backend=${backend}`] : []), ...(m.server ? [`server=${m.server}`] : []), `retries=${m.retries ?? 0}`].join(' ');
}

/**
 * Prints GetFlowsResponses one after another in one of Hubble's formats.
 * Call close() at the end: the table format prints only then (Hubble's
 * tabwriter aligns every row, so it holds them until the stream ends).
 */
export class FlowPrinter {
  private line = 0;
  private readonly rows: string[][] = [];
  private readonly timeFormat: TimeFormat;

  constructor(private readonly opts: FlowPrinterOptions) {
    this.timeFormat = opts.timeFormat ?? 'StampMilli';
  }

  private ts(t: Timestamp): string {
    return formatTimestamp(t, this.timeFormat);
  }

  /** One response: a flow, a node status event (to err) or lost events. Other kinds are skipped. */
  write(res: GetFlowsResponse): void {
    const kind = res.response_types ?? (res.flow ? 'flow' : res.node_status ? 'node_status' : res.lost_events ? 'lost_events' : undefined);
    if (kind === 'flow' && res.flow) this.writeFlow(res);
    else if (kind === 'node_status' && res.node_status) this.writeNodeStatus(res);
    else if (kind === 'lost_events' && res.lost_events) this.writeLost(res);
  }

  private json(res: GetFlowsResponse): string {
    return JSON.stringify(toProtoJson('observer.GetFlowsResponse', res)) + '\n';
  }

  private tableHeader(): void {
    if (this.line !== 0) return;
    this.rows.push(['TIMESTAMP', ...(this.opts.nodeName ? ['NODE'] : []), 'SOURCE', 'DESTINATION', 'TYPE', 'VERDICT', 'SUMMARY']);
  }

  private writeFlow(res: GetFlowsResponse): void {
    const f = res.flow!;
    const o = this.opts;
    switch (o.output) {
      case 'json':
      case 'jsonpb':
        o.out(this.json(res));
        return; // Hubble's JSON encoder does not count lines
      case 'table': {
        const [src, dst] = flowHostNames(f, o.ipTranslation ?? true);
        this.tableHeader();
        const mesh = meshText(f);
        this.rows.push([this.ts(f.time), ...(o.nodeName ? [f.node_name ?? ''] : []), src, dst, flowType(f), verdictText(f, o.policyNames), `${summaryText(f)}${mesh ? ` ${mesh}` : ''}`]);
        break;
      }
      case 'dict': {
        const [src, dst] = flowHostNames(f, o.ipTranslation ?? true);
        let s = this.line !== 0 ? `${DICT_SEPARATOR}\n` : '';
        s += `  TIMESTAMP: ${this.ts(f.time)}\n`;
        if (o.nodeName) s += `       NODE: ${f.node_name ?? ''}\n`;
        s += `     SOURCE: ${src}\nDESTINATION: ${dst}\n       TYPE: ${flowType(f)}\n    VERDICT: ${verdictText(f, o.policyNames)}\n    SUMMARY: ${summaryText(f)}\n`;
        const mesh = meshText(f);
        if (mesh) s += `       MESH: ${mesh}\n`;
        o.out(s);
        break;
      }
      case 'compact': {
        let [src, dst] = flowHostNames(f, o.ipTranslation ?? true);
        let srcId = identityText(endpointIdentity(f.source));
        let dstId = identityText(endpointIdentity(f.destination));
        const node = o.nodeName ? ` [${f.node_name ?? ''}]` : '';
        let arrow = '->';
        if (!f.is_reply) arrow = '<>'; // direction unknown
        else if (f.is_reply.value) {
          // A reply: print it the way the connection goes, arrow reversed.
          [src, dst] = [dst, src];
          [srcId, dstId] = [dstId, srcId];
          arrow = '<-';
        }
          const mesh = meshText(f);
          // Mutual TLS between node proxies (beeline's mesh_tls): the peer's SPIFFE ID after the summary.
          const mtls = f.mesh_tls?.peer_spiffe_id ? ` mtls-peer=${f.mesh_tls.peer_spiffe_id}` : '';
          o.out(`${this.ts(f.time)}${node}: ${src} ${srcId} ${arrow} ${dst} ${dstId} ${flowType(f)} ${verdictText(f, o.policyNames)} (${summaryText(f)})${mesh ? ` ${mesh}` : ''}${mtls}\n`);
        break;
      }
    }
    this.line++;
  }

  private writeNodeStatus(res: GetFlowsResponse): void {
    const s = res.node_status!;
    const o = this.opts;
    const state = enumText('relay.NodeState', s.state_change);
    // Hubble shows only trouble unless debugging.
    if (!o.debug && state !== 'NODE_ERROR' && state !== 'NODE_UNAVAILABLE') return;
    const names = s.node_names ?? [];
    switch (o.output) {
      case 'json':
      case 'jsonpb':
        o.err(this.json(res));
        return;
      case 'dict': {
        let out = '';
        if (this.line !== 0) out += `${DICT_SEPARATOR}\n`;
        else this.line++;
        out += `  TIMESTAMP: ${this.ts(res.time)}\n      STATE: ${state}\n      NODES: ${joinWithCutOff(names, ', ', NODE_NAMES_CUT_OFF)}\n    MESSAGE: ${s.message ? goQuote(s.message) : 'N/A'}\n`;
        o.err(out);
        return;
      }
      case 'table':
      case 'compact': {
        const list = joinWithCutOff(names, ', ', NODE_NAMES_CUT_OFF);
        const prefix = `${this.ts(res.time)} [${res.node_name ?? ''}]`;
        let msg = `${prefix}: unknown node status event: ${JSON.stringify(toProtoJson('relay.NodeStatusEvent', s))}`;
        if (state === 'NODE_CONNECTED') msg = `${prefix}: Receiving flows from ${names.length} nodes: ${list}`;
        else if (state === 'NODE_UNAVAILABLE') msg = `${prefix}: ${names.length} nodes are unavailable: ${list}`;
        else if (state === 'NODE_GONE') msg = `${prefix}: ${names.length} nodes removed from cluster: ${list}`;
        else if (state === 'NODE_ERROR') msg = `${prefix}: Error ${goQuote(s.message ?? '')} on ${names.length} nodes: ${list}`;
        o.err(msg + '\n');
        return;
      }
    }
  }

  private writeLost(res: GetFlowsResponse): void {
    const l = res.lost_events!;
    const o = this.opts;
    const src = enumText('flow.LostEventSource', l.source);
    const cpu = Number(l.cpu?.value ?? 0);
    const n = String(l.num_events_lost ?? 0);
    switch (o.output) {
      case 'json':
      case 'jsonpb':
        o.out(this.json(res));
        return;
      case 'table':
        // Hubble (before LostEvent had first/last) leaves time, node, destination and verdict empty.
        this.tableHeader();
        this.rows.push(['', ...(o.nodeName ? [''] : []), src, '', 'EVENTS LOST', '', `CPU(${cpu}) - ${n}`]);
        break;
      case 'dict': {
        let s = this.line !== 0 ? `${DICT_SEPARATOR}\n` : '';
        s += '  TIMESTAMP: \n';
        if (o.nodeName) s += '       NODE: \n';
        s += `     SOURCE: ${src}\n       TYPE: EVENTS LOST\n    VERDICT: \n    SUMMARY: CPU(${cpu}) - ${n}\n`;
        o.out(s);
        break;
      }
      case 'compact':
        o.out(`EVENTS LOST: ${src} CPU(${cpu}) ${n}\n`);
        break;
    }
    this.line++;
  }

  /** Ends the output: prints the table's rows, aligned. */
  close(): void {
    if (this.rows.length) this.opts.out(tabAlign(this.rows));
    this.rows.length = 0;
  }
}

/** Go's %.2f. */
const f2 = (x: number) => x.toFixed(2);

/** `1,000,000`, as Hubble's uint64Grouping. */
export function groupDigits(n: number | string | bigint): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Go's time.Duration.String() for a whole number of nanoseconds: `1h2m3.5s`, `150ms`, `0s`. */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  const sign = neg ? '-' : '';
  const frac = (v: bigint, digits: number) => {
    const s = v.toString().padStart(digits, '0').replace(/0+$/, '');
    return s ? `.${s}` : '';
  };
  if (u < 1_000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return `${sign}${u / 1_000n}${frac(u % 1_000n, 3)}µs`;
  if (u < 1_000_000_000n) return `${sign}${u / 1_000_000n}${frac(u % 1_000_000n, 6)}ms`;
  const h = u / 3_600_000_000_000n;
  u -= h * 3_600_000_000_000n;
  const m = u / 60_000_000_000n;
  u -= m * 60_000_000_000n;
  const s = `${u / 1_000_000_000n}${frac(u % 1_000_000_000n, 9)}s`;
  if (h > 0n) return `${sign}${h}h${m}m${s}`;
  if (m > 0n) return `${sign}${m}m${s}`;
  return `${sign}${s}`;
}

/**
 * `hubble status`'s lines after the health check (Hubble's compact
 * WriteServerStatusResponse): flows in the ring(s) against capacity, the
 * rate since start, connected and unavailable nodes (the relay's).
 */
export function formatServerStatus(res: ServerStatusResponse): string {
  const num = BigInt(String(res.num_flows ?? 0));
  const max = BigInt(String(res.max_flows ?? 0));
  let out = `Current/Max Flows: ${groupDigits(num)}/${groupDigits(max)}${max > 0n ? ` (${f2((Number(num) / Number(max)) * 100)}%)` : ''}\n`;
  const uptimeS = Number(String(res.uptime_ns ?? 0)) / 1e9;
  out += `Flows/s: ${uptimeS > 0 ? f2(Number(String(res.seen_flows ?? 0)) / uptimeS) : 'N/A'}\n`;
  const connected = res.num_connected_nodes;
  const unavailable = res.num_unavailable_nodes;
  if (connected) {
    const total = unavailable ? `/${Number(unavailable.value ?? 0) + Number(connected.value ?? 0)}` : '';
    out += `Connected Nodes: ${connected.value ?? 0}${total}\n`;
  }
  const nUnavail = Number(unavailable?.value ?? 0);
  if (unavailable && nUnavail > 0) {
    const names = [...(res.unavailable_nodes ?? [])].sort();
    if (names.length) {
      if (nUnavail > names.length) names.push(`and ${nUnavail - names.length} more...`);
      out += `Unavailable Nodes: ${nUnavail}\n  - ${names.join('\n  - ')}\n`;
    } else out += `Unavailable Nodes: ${nUnavail}\n`;
  }
  return out;
}

/** `connected`, `unavailable`, … as `hubble list nodes` words a node's state (title-cased there). */
function nodeStateWord(state: unknown): string {
  switch (enumText('relay.NodeState', state)) {
    case 'NODE_CONNECTED':
      return 'Connected';
    case 'NODE_UNAVAILABLE':
      return 'Unavailable';
    case 'NODE_GONE':
      return 'Gone';
    case 'NODE_ERROR':
      return 'Error';
  }
  return 'Unknown';
}

/**
 * `hubble list nodes`'s table: NAME STATUS AGE FLOWS/S CURRENT/MAX-FLOWS
 * (wide: VERSION ADDRESS TLS too), nodes sorted by name.
 */
export function formatNodesTable(nodes: ObserverNode[], wide = false): string {
  const rows: string[][] = [['NAME', 'STATUS', 'AGE', 'FLOWS/S', 'CURRENT/MAX-FLOWS', ...(wide ? ['VERSION', 'ADDRESS', 'TLS'] : [])]];
  for (const n of [...nodes].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : 0))) {
    let age = 'N/A';
    let rate = 'N/A';
    // Go rounds the uptime to whole seconds before printing it and dividing by it.
    const uptimeNs = BigInt(String(n.uptime_ns ?? 0));
    const roundedS = (uptimeNs + 500_000_000n) / 1_000_000_000n;
    if (roundedS > 0n) {
      age = goDuration(roundedS * 1_000_000_000n);
      rate = f2(Number(String(n.seen_flows ?? 0)) / Number(roundedS));
    }
    const num = Number(String(n.num_flows ?? 0));
    const max = Number(String(n.max_flows ?? 0));
    const ratio = max > 0 ? `${num}/${max} (${f2((num / max) * 100).padStart(6, ' ')}%)` : 'N/A';
    const row = [n.name ?? '', nodeStateWord(n.state), age, rate, ratio];
    if (wide) row.push(n.version || 'N/A', n.address ?? '', n.tls ? (n.tls.enabled ? 'Enabled' : 'Disabled') : 'N/A');
    rows.push(row);
  }
  return tabAlign(rows);
}
