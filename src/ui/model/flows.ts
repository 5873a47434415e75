/**
 * The flow table's data: each received flow as a row (its cells' text from
 * the CLI printer's own functions, its map ids), a buffer of the newest
 * 100,000, sorting by any column, and the client-side view (namespace,
 * map selection).
 */
import type { Flow__Output } from '../../api/generated/flow/Flow.js';
import type { GetFlowsResponse__Output } from '../../api/generated/observer/GetFlowsResponse.js';
import { endpointIdentity, enumText, flowHostNames, formatTimestamp, identityText, summaryText, verdictText, type Timestamp } from '../../observer/flowtext.js';
import { l4Of } from '../../observer/mapnodes.js';
import { flowMapIds, selectionMatcher, type FlowMapIds, type Selection, type ServiceIndex } from './selection.js';

/** The table's columns, in Hubble UI's order. */
export const COLUMNS = ['time', 'source', 'destination', 'port', 'l7', 'verdict', 'policies', 'node'] as const;
export type Column = (typeof COLUMNS)[number];

export const COLUMN_TITLES: Readonly<Record<Column, string>> = {
  time: 'Time',
  source: 'Source',
  destination: 'Destination',
  port: 'Port',
  l7: 'L7 info',
  verdict: 'Verdict',
  policies: 'Policies',
  node: 'Node',
};

/** Flows held at most; the oldest go first. */
export const MAX_FLOWS = 100_000;

/** Shown for a missing value. */
export const DASH = '–';

/** A policy that decided a flow, and how. */
export interface DecidingPolicy {
  namespace: string;
  name: string;
  kind: string;
  direction: 'egress' | 'ingress';
  effect: 'allowed' | 'denied';
}

/** One flow as the table holds it. */
export interface FlowRow {
  /** Arrival order, unique: the row's React key and the tie-break of sorts. */
  seq: number;
  response: GetFlowsResponse__Output;
  flow: Flow__Output;
  /** Nanoseconds since the epoch (0 when the flow has no time). */
  timeNs: bigint;
  /** The destination port (0: none), for sorting by port. */
  port: number;
  cells: Record<Column, string>;
  /** The verdict's enum name (FORWARDED, DROPPED…). */
  verdict: string;
  /** Namespaces of its endpoints and Service. */
  namespaces: string[];
  ids: FlowMapIds;
}

function timeNs(t: Timestamp): bigint {
  if (!t) return 0n;
  try {
    return BigInt(String(t.seconds ?? 0)) * 1_000_000_000n + BigInt(Number(t.nanos ?? 0));
  } catch {
    return 0n;
  }
}

/** The policies behind a flow's verdict (egress/ingress, allowed/denied). */
export function decidingPolicies(f: Flow__Output): DecidingPolicy[] {
  const out: DecidingPolicy[] = [];
  const add = (list: Flow__Output['egress_allowed_by'] | undefined, direction: DecidingPolicy['direction'], effect: DecidingPolicy['effect']) => {
    for (const p of list ?? []) out.push({ namespace: p.namespace ?? '', name: p.name ?? '', kind: p.kind ?? '', direction, effect });
  };
  add(f.egress_allowed_by, 'egress', 'allowed');
  add(f.ingress_allowed_by, 'ingress', 'allowed');
  add(f.egress_denied_by, 'egress', 'denied');
  add(f.ingress_denied_by, 'ingress', 'denied');
  return out;
}

/** `namespace/name` of a policy (cluster-wide ones: the name). */
export function policyRef(p: { namespace: string; name: string }): string {
  return p.namespace ? `${p.namespace}/${p.name}` : p.name || DASH;
}

/** One side of a flow: its name (pod, Service, DNS name or address), with its identity when it has no pod. */
function sideText(host: string, ep: Flow__Output['source'] | undefined): string {
  if (!host) return ep?.identity ? identityText(endpointIdentity(ep)).slice(1, -1) : DASH;
  if (ep?.pod_name) return host;
  return `${host} ${identityText(endpointIdentity(ep))}`;
}

/** The destination port and protocol: `80/TCP`, `ICMPv4`, or a dash. */
export function portText(f: Flow__Output): string {
  const l4 = l4Of(f);
  if (l4.proto === 'ip') return DASH;
  if (l4.proto === 'icmp') return f.l4?.ICMPv6 ? 'ICMPv6' : 'ICMPv4';
  return `${l4.dport}/${l4.proto.toUpperCase()}`;
}

/** `/v1/x?y` of `http://host/v1/x?y`; anything else as it is. */
function urlPath(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(url);
  return m ? m[1] || '/' : url;
}

/** An L7 record in a few words: `200 GET /y (3 ms)`, `DNS A deathstar.… → 10.0.0.1`, `Kafka produce topic`. */
export function l7Text(f: Flow__Output): string {
  const l7 = f.l7;
  if (!l7) return DASH;
  const type = enumText('flow.L7FlowType', l7.type);
  const ms = Number(String(l7.latency_ns ?? 0)) / 1e6;
  const latency = type === 'RESPONSE' && ms > 0 ? ` (${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms)` : '';
  if (l7.http) {
    // The status first and the path without scheme and host, so a narrow column shows what matters; the URL is in the details.
    const h = l7.http;
    const code = type === 'RESPONSE' && h.code ? `${h.code} ` : '';
    return `${code}${h.method || 'HTTP'} ${urlPath(h.url ?? '')}${latency}`.trim();
  }
  if (l7.dns) {
    const d = l7.dns;
    const q = `DNS ${(d.qtypes ?? []).join(',')} ${d.query ?? ''}`.replace(/\s+/g, ' ').trim();
    if (type !== 'RESPONSE') return q;
    return d.rcode ? `${q} → rcode ${d.rcode}` : `${q} → ${(d.ips ?? []).join(', ') || 'no address'}`;
  }
  if (l7.kafka) return `Kafka ${l7.kafka.api_key ?? ''} ${l7.kafka.topic ?? ''}`.trim();
  return summaryText(f) || DASH;
}

/** A received flow as a table row (null for node status and lost-event lines). */
export function flowRow(res: GetFlowsResponse__Output, seq: number): FlowRow | null {
  const f = res.flow;
  if (!f) return null;
  const [src, dst] = flowHostNames(f, true, false);
  const policies = [...new Set(decidingPolicies(f).map(policyRef))];
  const namespaces = [...new Set([f.source?.namespace, f.destination?.namespace, f.destination_service?.namespace, f.source_service?.namespace].filter((n): n is string => !!n))];
  return {
    seq,
    response: res,
    flow: f,
    timeNs: timeNs(f.time),
    port: l4Of(f).dport,
    verdict: f.verdict ? enumText('flow.Verdict', f.verdict) : 'VERDICT_UNKNOWN',
    cells: {
      time: formatTimestamp(f.time),
      source: sideText(src, f.source),
      destination: sideText(dst, f.destination),
      port: portText(f),
      l7: l7Text(f),
      verdict: f.verdict ? verdictText(f) : DASH,
      policies: policies.length ? policies.join(', ') : DASH,
      node: f.node_name || res.node_name || DASH,
    },
    namespaces,
    ids: flowMapIds(f),
  };
}

/**
 * Appends rows to the held ones (arrival order), keeping the newest
 * MAX_FLOWS (or `max`); returns a new array and how many were dropped.
 */
export function appendRows(held: readonly FlowRow[], add: readonly FlowRow[], max = MAX_FLOWS): { rows: FlowRow[]; dropped: number } {
  const total = held.length + add.length;
  const drop = Math.max(0, total - max);
  if (drop === 0) return { rows: held.concat(add), dropped: 0 };
  if (drop >= held.length) return { rows: add.slice(drop - held.length), dropped: drop };
  return { rows: held.slice(drop).concat(add), dropped: drop };
}

export type SortDir = 'asc' | 'desc';
export interface Sort {
  column: Column;
  dir: SortDir;
}

/** Newest first, as Hubble UI shows flows. */
export const DEFAULT_SORT: Sort = { column: 'time', dir: 'desc' };

/** The next sort when a column's header is clicked: the other direction, or this column (time: newest first). */
export function toggleSort(s: Sort, column: Column): Sort {
  if (s.column === column) return { column, dir: s.dir === 'asc' ? 'desc' : 'asc' };
  return { column, dir: column === 'time' ? 'desc' : 'asc' };
}

/**
 * The rows in a sort's order (a new array). Time sorts by the flow's time,
 * port by number, other columns by their text; ties keep arrival order, so a sort is stable
 * as flows arrive.
 */
export function sortRows(rows: readonly FlowRow[], s: Sort): FlowRow[] {
  const sign = s.dir === 'asc' ? 1 : -1;
  const out = rows.slice();
  if (s.column === 'time') {
    out.sort((a, b) => (a.timeNs < b.timeNs ? -sign : a.timeNs > b.timeNs ? sign : (a.seq - b.seq) * sign));
  } else if (s.column === 'port') {
    out.sort((a, b) => (a.port - b.port || (a.cells.port < b.cells.port ? -1 : a.cells.port > b.cells.port ? 1 : a.seq - b.seq)) * sign);
  } else {
    const c = s.column;
    out.sort((a, b) => {
      const x = a.cells[c];
      const y = b.cells[c];
      return x < y ? -sign : x > y ? sign : (a.seq - b.seq) * sign;
    });
  }
  return out;
}

/** What the table shows of the held rows: a namespace (its endpoints' or Service's) and the map's selection. */
export function visibleRows(rows: readonly FlowRow[], namespace: string, sel: Selection | null, services?: ServiceIndex): FlowRow[] {
  const inNs = namespace ? (r: FlowRow) => r.namespaces.includes(namespace) : null;
  const inSel = sel ? selectionMatcher(sel, services) : null;
  if (!inNs && !inSel) return rows.slice();
  return rows.filter((r) => (!inNs || inNs(r)) && (!inSel || inSel(r.ids)));
}

/** Where a resumed GetFlows starts: `since` the newest flow held, skipping the flows of that instant already held. */
export interface ResumePoint {
  since: { seconds: string; nanos: number } | null;
  /** Whether a received row is one already held (or older). */
  held(row: FlowRow): boolean;
}

/** The resume point of the held rows (no `since` when none has a time). */
export function resumePoint(rows: readonly FlowRow[]): ResumePoint {
  let max = 0n;
  for (const r of rows) if (r.timeNs > max) max = r.timeNs;
  if (max === 0n) return { since: null, held: () => false };
  const atMax = new Set(rows.filter((r) => r.timeNs === max).map((r) => r.flow.uuid || `${r.cells.source}|${r.cells.destination}|${r.cells.port}|${r.verdict}`));
  return {
    since: { seconds: String(max / 1_000_000_000n), nanos: Number(max % 1_000_000_000n) },
    held: (r) => r.timeNs < max || (r.timeNs === max && atMax.has(r.flow.uuid || `${r.cells.source}|${r.cells.destination}|${r.cells.port}|${r.verdict}`)),
  };
}

/** `1,234 flows`, plus ` of 5,678` when some are hidden. */
export function flowCountText(shown: number, total: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return `${n(shown)} flows${shown !== total ? ` of ${n(total)}` : ''}`;
}

/** Rows of a virtualized list in view: [first, last) with `overscan` rows either side. */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 8): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return [first, Math.max(first, last)];
}
