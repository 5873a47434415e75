/**
 * Datapath events → Hubble flows: one decoded bl_events record (event.ts)
 * becomes one flow.Flow, filled the way Hubble's L3/L4 parser fills it for
 * Cilium's trace, drop and policy-verdict notifications
 * (pkg/hubble/parser/threefour), with the agent's caches (FlowEnricher) for
 * endpoints, identities, Services, policies and DNS names.
 *
 * Where our events differ from Cilium's, and what we do:
 *   - trace orig_ip4 is the original *destination* before Service translation
 *     (Cilium's orig_ip is the original source before SNAT): it names the
 *     Service (destination_service); IP.destination stays the address on the
 *     wire, as Hubble shows translated traffic.
 *   - policy verdicts carry both identities in the header; the remote one
 *     falls back to remote_identity. Their verdict comes from `action`
 *     (allow → FORWARDED, deny → DROPPED, audit → AUDIT), since our datapath
 *     reports an audited packet with its would-be drop reason.
 *   - policy names: Hubble only names policies for policy verdicts it can
 *     correlate; we name them from the entry's cookie for policy verdicts and
 *     for policy drops (default deny: the policies that made the endpoint
 *     default-deny). An audited verdict names the policies that would have
 *     denied it, in *_denied_by.
 *   - traffic_direction (Hubble's rules): a policy verdict says it (dir); a
 *     drop is EGRESS when the endpoint that reported it (hdr.source) is the
 *     packet's source endpoint, else INGRESS (our drop record carries no
 *     direction; a dropped packet is taken not to be a reply); a trace with a
 *     known connection state likewise, turned around for replies; a trace
 *     without one, or an event from no endpoint (source 0), is unknown.
 *
 * Speed: this runs once per datapath event (goal ≥ 200k events/s with decode
 * and enrichment on one core). No JSON, no regular expressions; the TCP flag
 * objects and summaries, the event types, the is_reply values and the
 * reserved identities' labels are built once and shared between flows, and
 * label and workload arrays come straight from the enricher. Flows are
 * therefore read-only by convention. The enricher must answer from memory and
 * should return the same (sorted) label array for an identity every time.
 */
import { randomUUID } from 'node:crypto';
import type { Flow } from '../api/generated/flow/Flow.js';
import type { Endpoint } from '../api/generated/flow/Endpoint.js';
import type { Layer4 } from '../api/generated/flow/Layer4.js';
import type { Policy } from '../api/generated/flow/Policy.js';
import type { TCPFlags } from '../api/generated/flow/TCPFlags.js';
import type { CiliumEventType } from '../api/generated/flow/CiliumEventType.js';
import type { DropReason } from '../api/generated/flow/DropReason.js';
import type { TraceObservationPoint } from '../api/generated/flow/TraceObservationPoint.js';
import type { TraceReason } from '../api/generated/flow/TraceReason.js';
import type { TrafficDirection } from '../api/generated/flow/TrafficDirection.js';
import type { Verdict } from '../api/generated/flow/Verdict.js';
import { protoRoot } from '../api/proto.js';
import { BlDirection, BlDropReason, BlEventType, BlPolicyAction, BlTracePoint, BlTraceReason } from '../datapath/generated/abi.js';
import { reservedIdentity } from '../identity/reserved.js';
import { formatLabelSet } from '../identity/labels.js';
import type { MonitorEvent, TraceSockEvent } from './event.js';
import { formatIpv4Number, type DecodedPacket } from './packet.js';
import type { DecidingPolicy, EndpointInfo, FlowEnricher } from './types.js';

/** A wall-clock time: seconds since the epoch and nanoseconds within it. */
export interface FlowTime {
  seconds: number;
  nanos: number;
}

export interface FlowOptions {
  /** The flow's time (default wallClockNow: the time of decoding, as Hubble stamps records it reads). */
  now?: () => FlowTime;
  /** The flow's uuid (default flowUuid). */
  uuid?: () => string;
}

/**
 * The wall clock now, with sub-millisecond resolution. The kernel record has
 * only a monotonic time (ktime_ns), so a flow's time is when it was decoded.
 */
/**
 * CLOCK_REALTIME - CLOCK_MONOTONIC in nanoseconds, sampled now and then:
 * the datapath stamps events with bpf_ktime_get_ns() (CLOCK_MONOTONIC, the
 * clock process.hrtime reads), so an event's wall time is its ktime plus
 * this offset. Every node of a lab shares the machine's clocks, so flows of
 * all nodes order by when they happened, not by when an agent read them.
 */
let clockOffsetSec = 0;
let clockOffsetNanos = 0;
let clockOffsetAt = 0;

/** Largest ktime (ns) a double holds exactly: about 104 days of uptime. */
const EXACT_NS = Number.MAX_SAFE_INTEGER;

function monotonicToWall(ktimeNs: bigint): FlowTime {
  const nowMs = Date.now();
  if (nowMs - clockOffsetAt > 10_000) {
    clockOffsetAt = nowMs;
    const mono = process.hrtime.bigint();
    const wallNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    const off = wallNs - mono;
    clockOffsetSec = Number(off / 1_000_000_000n);
    clockOffsetNanos = Number(off % 1_000_000_000n);
  }
  // In doubles, not BigInt: this runs for every flow. Exact while the ktime fits 53 bits.
  const k = Number(ktimeNs);
  let seconds: number;
  let nanos: number;
  if (k <= EXACT_NS) {
    seconds = Math.floor(k / 1e9);
    nanos = k - seconds * 1e9;
    if (nanos < 0) {
      seconds--;
      nanos += 1e9;
    } else if (nanos >= 1e9) {
      seconds++;
      nanos -= 1e9;
    }
  } else {
    seconds = Number(ktimeNs / 1_000_000_000n);
    nanos = Number(ktimeNs % 1_000_000_000n);
  }
  seconds += clockOffsetSec;
  nanos += clockOffsetNanos;
  if (nanos >= 1e9) {
    seconds++;
    nanos -= 1e9;
  } else if (nanos < 0) {
    seconds--;
    nanos += 1e9;
  }
  return { seconds, nanos };
}

/**
 * A flow's uuid: version 4 layout, a random 80-bit prefix drawn once per
 * process and a 48-bit counter. Unique like a random one (two agents share a
 * prefix with odds 2^-80) at a fraction of the cost: this runs for every flow.
 */
export const flowUuid: () => string = (() => {
  const r = randomUUID();
  // xxxxxxxx-xxxx-4xxx-Vxxx-: the random uuid's first four groups (version and variant bits kept).
  const prefix = r.slice(0, 24);
  let counter = Number.parseInt(r.slice(24, 30), 16); // start anywhere in the low range
  return () => {
    counter = counter >= 0xffffffffffff ? 0 : counter + 1;
    return prefix + counter.toString(16).padStart(12, '0');
  };
})();

/** The time of an event: its kernel timestamp on the wall clock, or now when it has none. */
function eventTime(ktimeNs: bigint, opts: FlowOptions): FlowTime {
  if (opts.now) return opts.now();
  return ktimeNs > 0n ? monotonicToWall(ktimeNs) : wallClockNow();
}

export function wallClockNow(): FlowTime {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.floor((ms - seconds * 1000) * 1e6);
  return { seconds, nanos: nanos < 0 ? 0 : nanos > 999_999_999 ? 999_999_999 : nanos };
}

// ---- enum names (flow.proto is the one source; read once, on first use)

interface EnumNames {
  dropReason: Readonly<Record<number, string>>;
  observationPoint: Readonly<Record<number, string>>;
  traceReason: Readonly<Record<number, string>>;
}

let enumNames: EnumNames | undefined;

function names(): EnumNames {
  if (!enumNames) {
    const root = protoRoot();
    enumNames = {
      dropReason: root.lookupEnum('flow.DropReason').valuesById,
      observationPoint: root.lookupEnum('flow.TraceObservationPoint').valuesById,
      traceReason: root.lookupEnum('flow.TraceReason').valuesById,
    };
  }
  return enumNames;
}

/**
 * flow.proto's DropReason name of a datapath drop reason (our BL_DROP_*
 * numbers are Cilium's): 133 → `POLICY_DENIED`, 181 → `POLICY_DENY`. A
 * number flow.proto has no name for comes back as its decimal text, as
 * protobuf's JSON mapping prints an unknown enum value.
 */
export function dropReasonName(code: number): string {
  return names().dropReason[code] ?? String(code);
}

/**
 * The flow's trace_observation_point for a trace event's hdr.subtype: Hubble
 * moves TO_LXC (0) to TO_ENDPOINT (101) so that 0 keeps meaning "not a trace";
 * the other points keep their numbers.
 */
export function observationPointName(point: number): string {
  const n = point === BlTracePoint.BL_TRACE_TO_LXC ? 101 : point;
  return names().observationPoint[n] ?? String(n);
}

/**
 * The flow's trace_reason for a trace event's reason (Hubble's
 * decodeTraceReason): the datapath's UNKNOWN (5) is the flow's 0, the values
 * below it move up by one (POLICY 0 → NEW 1, CT_ESTABLISHED → ESTABLISHED,
 * CT_REPLY → REPLY, CT_RELATED → RELATED), the values above stay.
 */
export function traceReasonName(reason: number): string {
  const n = reason === BlTraceReason.BL_TRACE_REASON_UNKNOWN ? 0 : reason < BlTraceReason.BL_TRACE_REASON_UNKNOWN ? reason + 1 : reason;
  return names().traceReason[n] ?? String(n);
}

// ---- shared, immutable pieces

const EMPTY: readonly string[] = Object.freeze([]);
const IS_REPLY_TRUE = Object.freeze({ value: true });
const IS_REPLY_FALSE = Object.freeze({ value: false });

/** Hubble's TCP flag order in summaries (getTCPFlags). */
const FLAG_ORDER = ['SYN', 'ACK', 'RST', 'FIN', 'PSH', 'URG', 'ECE', 'CWR', 'NS'] as const;

/** flow.TCPFlags and Hubble's summary (`TCP Flags: SYN, ACK`) for each of the 512 flag combinations, bit i = FLAG_ORDER[i]. */
const TCP_FLAGS: readonly TCPFlags[] = [];
const TCP_SUMMARY: readonly string[] = [];
for (let m = 0; m < 512; m++) {
  const on = (i: number) => (m & (1 << i)) !== 0;
  (TCP_FLAGS as TCPFlags[]).push(Object.freeze({ FIN: on(3), SYN: on(0), RST: on(2), PSH: on(4), ACK: on(1), URG: on(5), ECE: on(6), CWR: on(7), NS: on(8) }));
  (TCP_SUMMARY as string[]).push('TCP Flags: ' + FLAG_ORDER.filter((_, i) => on(i)).join(', '));
}

/** event_type objects by type << 8 | sub_type. */
const EVENT_TYPES = new Map<number, CiliumEventType>();

function eventType(type: number, subType: number): CiliumEventType {
  const key = (type << 8) | subType;
  let t = EVENT_TYPES.get(key);
  if (!t) {
    t = Object.freeze({ type, sub_type: subType });
    EVENT_TYPES.set(key, t);
  }
  return t;
}

/** `reserved:` labels of the reserved identities, when the enricher has none for one. */
const RESERVED_LABELS = new Map<number, readonly string[]>();
for (let id = 1; id <= 10; id++) {
  const r = reservedIdentity(id);
  if (r) RESERVED_LABELS.set(id, Object.freeze(formatLabelSet(r.labels)));
}

/** Sorted copies of label arrays the enricher handed over unsorted (kept per array). */
const SORTED = new WeakMap<readonly string[], readonly string[]>();

function sortedLabels(labels: readonly string[]): readonly string[] {
  for (let i = 1; i < labels.length; i++) {
    if (labels[i - 1]! > labels[i]!) {
      let s = SORTED.get(labels);
      if (!s) {
        s = Object.freeze([...labels].sort());
        SORTED.set(labels, s);
      }
      return s;
    }
  }
  return labels;
}

/** The labels of an identity: the enricher's, else the reserved ones, else none. */
function identityLabels(enricher: FlowEnricher, identity: number): readonly string[] {
  if (identity === 0) return EMPTY;
  const l = enricher.identityLabels(identity);
  if (l && l.length) return sortedLabels(l);
  return RESERVED_LABELS.get(identity) ?? EMPTY;
}

// ---- endpoints

/**
 * Hubble's ResolveEndpoint: whatever the caches know of the address; the
 * identity the datapath saw wins over the caches' (it decided the packet; the
 * caches may have moved on), and a remote endpoint's labels are that
 * identity's. `byId`: the local endpoint the event names for this side, used
 * only when the packet has no IP address (ARP). The L7 flows
 * (src/l7/http/flows.ts) resolve their ends here too, with the identities
 * the node proxy looked up.
 */
export function resolveEndpoint(enricher: FlowEnricher, ip: string | undefined, datapathIdentity: number, byId = 0): Endpoint {
  const info: EndpointInfo | undefined = ip !== undefined ? enricher.endpointByIP(ip) : byId !== 0 ? enricher.endpointById(byId) : undefined;
  if (!info) {
    return { ID: 0, identity: datapathIdentity, namespace: '', labels: identityLabels(enricher, datapathIdentity) as string[], pod_name: '', workloads: undefined };
  }
  const identity = datapathIdentity !== 0 ? datapathIdentity : info.identity;
  // The usual case: the caches agree with the datapath. Every flow of the endpoint shares one frozen message.
  const shared = identity === info.identity;
  if (shared) {
    const known = SHARED_ENDPOINTS.get(info);
    if (known) return known;
  }
  const local = info.id !== undefined && info.id !== 0;
  const labels = (local || shared) && info.labels.length ? sortedLabels(info.labels) : identityLabels(enricher, identity);
  const ep: Endpoint = {
    ID: local ? info.id! : 0,
    identity,
    namespace: info.namespace ?? '',
    labels: labels as string[],
    pod_name: info.podName ?? '',
    workloads: info.workloads,
  };
  if (!shared) return ep;
  // Frozen, with its labels: nothing may change a shared message, and the JSON encoder remembers frozen values (src/api/proto.ts).
  Object.freeze(labels);
  SHARED_ENDPOINTS.set(info, Object.freeze(ep));
  return ep;
}

/**
 * The endpoint message of an EndpointInfo whose identity the datapath
 * confirmed. The enricher hands out the same EndpointInfo object until what
 * it knows of the endpoint changes (then a new one), so the message can be
 * shared by identity of the info.
 */
const SHARED_ENDPOINTS = new WeakMap<EndpointInfo, Endpoint>();

// ---- policies

function flowPolicies(list: DecidingPolicy[]): Policy[] | undefined {
  if (list.length === 0) return undefined;
  const out: Policy[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    out[i] = { name: p.name, namespace: p.namespace, kind: p.kind, labels: p.labels, revision: p.revision };
  }
  return out;
}

/**
 * The policies behind a policy decision: the cookie's, else, for a default
 * deny, the policies that made the endpoint default-deny in that direction.
 */
function decidingPolicies(enricher: FlowEnricher, cookie: number, defaultDeny: boolean, endpointId: number, dir: 'ingress' | 'egress'): Policy[] | undefined {
  const byCookie = cookie !== 0 ? flowPolicies(enricher.policiesByCookie(cookie)) : undefined;
  if (byCookie || !defaultDeny || endpointId === 0) return byCookie;
  return flowPolicies(enricher.defaultDenyPolicies(endpointId, dir));
}

// ---- layers

interface Layers {
  l4: Layer4 | undefined;
  proto: 'tcp' | 'udp' | undefined;
  sport: number;
  dport: number;
  summary: string;
}

/** L4 and Hubble's summary: the last layer's name, or the TCP flags / ICMP type for those. */
function layers(p: DecodedPacket): Layers {
  if (p.tcp) {
    const f = p.tcp.flags;
    const m =
      (f.syn ? 1 : 0) | (f.ack ? 2 : 0) | (f.rst ? 4 : 0) | (f.fin ? 8 : 0) | (f.psh ? 16 : 0) | (f.urg ? 32 : 0) | (f.ece ? 64 : 0) | (f.cwr ? 128 : 0) | (f.ns ? 256 : 0);
    const l4: Layer4 = { TCP: { source_port: p.tcp.srcPort, destination_port: p.tcp.dstPort, flags: TCP_FLAGS[m] }, protocol: 'TCP' };
    return { l4, proto: 'tcp', sport: p.tcp.srcPort, dport: p.tcp.dstPort, summary: TCP_SUMMARY[m]! };
  }
  if (p.udp) {
    return { l4: { UDP: { source_port: p.udp.srcPort, destination_port: p.udp.dstPort }, protocol: 'UDP' }, proto: 'udp', sport: p.udp.srcPort, dport: p.udp.dstPort, summary: 'UDP' };
  }
  if (p.sctp) {
    return { l4: { SCTP: { source_port: p.sctp.srcPort, destination_port: p.sctp.dstPort }, protocol: 'SCTP' }, proto: undefined, sport: p.sctp.srcPort, dport: p.sctp.dstPort, summary: 'SCTP' };
  }
  if (p.icmp) {
    const m = p.icmp;
    const l4: Layer4 = m.version === 4 ? { ICMPv4: { type: m.type, code: m.code }, protocol: 'ICMPv4' } : { ICMPv6: { type: m.type, code: m.code }, protocol: 'ICMPv6' };
    return { l4, proto: undefined, sport: 0, dport: 0, summary: (m.version === 4 ? 'ICMPv4 ' : 'ICMPv6 ') + m.typeCode };
  }
  // gopacket's layer names; Hubble decodes no ARP, so an ARP frame sums up as Ethernet.
  const summary = p.ipv6 ? 'IPv6' : p.ipv4 ? 'IPv4' : p.ethernet ? 'Ethernet' : '';
  return { l4: undefined, proto: undefined, sport: 0, dport: 0, summary };
}

const isPolicyDrop = (reason: number) =>
  reason === BlDropReason.BL_DROP_POLICY || reason === BlDropReason.BL_DROP_POLICY_DENY || reason === BlDropReason.BL_DROP_POLICY_AUTH_REQUIRED;

/**
 * The flow of one decoded bl_events record; undefined for records that are
 * not flows (kind 'other': unknown types, records too short for a header).
 * See the file comment for how each field is filled.
 */
export function flowFromEvent(ev: MonitorEvent, enricher: FlowEnricher, opts: FlowOptions = {}): Flow | undefined {
  if (ev.kind === 'other') return undefined;
  if (ev.kind === 'trace-sock') return flowFromSockEvent(ev, enricher, opts);
  const hdr = ev.hdr;
  // A VXLAN capture is about the packet inside (Hubble decodes the overlay's inner layers).
  const p = ev.packet.vxlan?.inner ?? ev.packet;
  const ip = p.ipv4 ?? p.ipv6;
  const srcIP = ip?.src;
  const dstIP = ip?.dst;
  const { l4, proto, sport, dport, summary } = layers(p);

  let srcIdentity = hdr.src_identity;
  let dstIdentity = hdr.dst_identity;
  let srcById = 0;
  let dstById = 0;
  let verdict: Verdict;
  let dropReason = 0;
  let isReply: { value: boolean } | undefined;
  let direction: TrafficDirection = 'TRAFFIC_DIRECTION_UNKNOWN';
  let observationPoint: TraceObservationPoint | undefined;
  let traceReason: TraceReason | undefined;
  let matchType = 0;
  let origDst: string | undefined;
  let proxyPort = 0;

  if (ev.kind === 'trace') {
    verdict = 'FORWARDED';
    const reason = ev.trace.reason;
    observationPoint = observationPointName(hdr.subtype) as TraceObservationPoint;
    traceReason = traceReasonName(reason) as TraceReason;
    if (reason !== BlTraceReason.BL_TRACE_REASON_UNKNOWN) isReply = reason === BlTraceReason.BL_TRACE_REASON_CT_REPLY ? IS_REPLY_TRUE : IS_REPLY_FALSE;
    if (ev.trace.orig_ip4 !== 0) origDst = formatIpv4Number(ev.trace.orig_ip4);
    if (hdr.subtype === BlTracePoint.BL_TRACE_TO_PROXY) proxyPort = ev.trace.dst_id;
    if (!ip) {
      if (hdr.subtype === BlTracePoint.BL_TRACE_FROM_LXC) srcById = hdr.source;
      dstById = ev.trace.dst_id;
    }
  } else if (ev.kind === 'drop') {
    verdict = 'DROPPED';
    dropReason = hdr.subtype;
  } else {
    const v = ev.verdict;
    const ingress = v.dir === BlDirection.BL_DIR_INGRESS;
    // The remote side's identity is the one policy looked up.
    if (ingress && srcIdentity === 0) srcIdentity = v.remote_identity;
    if (!ingress && dstIdentity === 0) dstIdentity = v.remote_identity;
    if (v.action === BlPolicyAction.BL_POLICY_ACTION_DENY) {
      verdict = 'DROPPED';
      dropReason = v.verdict < 0 ? -v.verdict : BlDropReason.BL_DROP_POLICY;
    } else {
      // A positive verdict is the proxy port the connection was handed to (L7 rules): Hubble's REDIRECTED.
      verdict = v.action === BlPolicyAction.BL_POLICY_ACTION_AUDIT ? 'AUDIT' : v.verdict > 0 ? 'REDIRECTED' : 'FORWARDED';
      if (v.verdict > 0) proxyPort = v.verdict;
      // Policy is consulted on a connection's first packet: not a reply (Hubble's assumption too).
      isReply = IS_REPLY_FALSE;
    }
    direction = ingress ? 'INGRESS' : v.dir === BlDirection.BL_DIR_EGRESS ? 'EGRESS' : 'TRAFFIC_DIRECTION_UNKNOWN';
    matchType = v.match_type;
    if (!ip) {
      if (ingress) {
        dstById = hdr.source;
        srcById = v.dst_id;
      } else {
        srcById = hdr.source;
        dstById = v.dst_id;
      }
    }
  }

  const source = resolveEndpoint(enricher, srcIP, srcIdentity, srcById);
  const destination = resolveEndpoint(enricher, dstIP, dstIdentity, dstById);

  // Hubble's decodeTrafficDirection: the endpoint that reported a drop is the
  // sender (egress) or the receiver (ingress); a trace with a known connection
  // state likewise, turned around for replies.
  if (ev.kind === 'drop') {
    if (hdr.source !== 0) direction = hdr.source === source.ID ? 'EGRESS' : 'INGRESS';
  } else if (ev.kind === 'trace') {
    if (hdr.source !== 0 && isReply !== undefined) direction = (hdr.source === source.ID) !== isReply.value ? 'EGRESS' : 'INGRESS';
  }

  // Services: the frontend the packet was sent to (before translation, or
  // still on the wire), and the one a reverse-translated reply comes from.
  // A frontend originates nothing, so a packet known not to be a reply is
  // not looked up as coming from one (one lookup less for most events).
  let sourceService: { name: string; namespace: string } | undefined;
  let destinationService: { name: string; namespace: string } | undefined;
  if (proto !== undefined) {
    if (origDst !== undefined) destinationService = enricher.serviceByFrontend(origDst, dport, proto);
    if (!destinationService) destinationService = enricher.serviceByFrontend(dstIP!, dport, proto);
    if (isReply !== IS_REPLY_FALSE) sourceService = enricher.serviceByFrontend(srcIP!, sport, proto);
  }

  // Policies that decided: policy drops and policy verdicts, by the direction policy was enforced in.
  let egressAllowedBy: Policy[] | undefined;
  let ingressAllowedBy: Policy[] | undefined;
  let egressDeniedBy: Policy[] | undefined;
  let ingressDeniedBy: Policy[] | undefined;
  if (direction !== 'TRAFFIC_DIRECTION_UNKNOWN') {
    const dir = direction === 'INGRESS' ? 'ingress' : 'egress';
    if (ev.kind === 'drop' && isPolicyDrop(dropReason)) {
      const by = decidingPolicies(enricher, ev.drop.cookie, dropReason === BlDropReason.BL_DROP_POLICY, hdr.source, dir);
      if (dir === 'ingress') ingressDeniedBy = by;
      else egressDeniedBy = by;
    } else if (ev.kind === 'policy-verdict') {
      const v = ev.verdict;
      const allowed = v.action === BlPolicyAction.BL_POLICY_ACTION_ALLOW;
      const defaultDeny = !allowed && (v.verdict === 0 || -v.verdict === BlDropReason.BL_DROP_POLICY);
      const by = decidingPolicies(enricher, v.cookie, defaultDeny, hdr.source, dir);
      if (allowed) {
        if (dir === 'ingress') ingressAllowedBy = by;
        else egressAllowedBy = by;
      } else if (dir === 'ingress') ingressDeniedBy = by;
      else egressDeniedBy = by;
    }
  }

  let sourceNames: string[] | undefined;
  let destinationNames: string[] | undefined;
  if (srcIP !== undefined) {
    const n = enricher.namesForIP(srcIP);
    if (n.length) sourceNames = n;
  }
  if (dstIP !== undefined) {
    const n = enricher.namesForIP(dstIP);
    if (n.length) destinationNames = n;
  }

  const eth = p.ethernet;
  return {
    time: eventTime(hdr.ktime_ns, opts),
    uuid: (opts.uuid ?? flowUuid)(),
    verdict,
    drop_reason: dropReason,
    drop_reason_desc: dropReason !== 0 ? (dropReasonName(dropReason) as DropReason) : undefined,
    ethernet: eth ? { source: eth.src, destination: eth.dst } : undefined,
    IP: ip ? { source: ip.src, destination: ip.dst, ipVersion: p.ipv4 ? 'IPv4' : 'IPv6' } : undefined,
    l4,
    source,
    destination,
    Type: 'L3_L4',
    node_name: enricher.nodeName,
    source_names: sourceNames,
    destination_names: destinationNames,
    reply: isReply?.value ?? false,
    event_type: eventType(hdr.type, hdr.subtype),
    source_service: sourceService,
    destination_service: destinationService,
    traffic_direction: direction,
    policy_match_type: matchType,
    trace_observation_point: observationPoint,
    is_reply: isReply,
    interface: ev.kind === 'trace' && hdr.ifindex !== 0 ? { index: hdr.ifindex, name: '' } : undefined,
    proxy_port: proxyPort,
    trace_reason: traceReason,
    egress_allowed_by: egressAllowedBy,
    ingress_allowed_by: ingressAllowedBy,
    egress_denied_by: egressDeniedBy,
    ingress_denied_by: ingressDeniedBy,
    Summary: summary,
  };
}

/** The event types flowFromEvent turns into flows (Cilium's MessageType numbers). */
export const FLOW_EVENT_TYPES: readonly number[] = [BlEventType.BL_EVENT_DROP, BlEventType.BL_EVENT_TRACE, BlEventType.BL_EVENT_POLICY_VERDICT];

const SOCK_POINTS = ['SOCK_XLATE_POINT_UNKNOWN', 'SOCK_XLATE_POINT_PRE_DIRECTION_FWD', 'SOCK_XLATE_POINT_POST_DIRECTION_FWD', 'SOCK_XLATE_POINT_PRE_DIRECTION_REV', 'SOCK_XLATE_POINT_POST_DIRECTION_REV'] as const;

/**
 * A socket-level Service translation as a Hubble SOCK flow (Cilium's
 * TraceSock): verdict TRANSLATED after the translation, the calling pod
 * found by its cgroup, the backend as destination and the Service it was
 * meant for as destination_service. The packets of the connection only
 * ever carry the backend's address: this flow is where the Service shows.
 */
export function flowFromSockEvent(ev: TraceSockEvent, enricher: FlowEnricher, opts: FlowOptions = {}): Flow {
  const x = ev.sock;
  const point = SOCK_POINTS[ev.hdr.subtype] ?? 'SOCK_XLATE_POINT_UNKNOWN';
  const dstIP = formatIpv4Number(x.dst_ip4);
  const dport = x.dst_port;
  const proto = x.l4_proto === 6 ? 'tcp' : x.l4_proto === 17 ? 'udp' : undefined;
  const src = enricher.endpointByCgroup?.(String(x.cgroup_id));
  const dst = enricher.endpointByIP(dstIP);
  const service = x.orig_ip4 && proto ? enricher.serviceByFrontend(formatIpv4Number(x.orig_ip4), x.orig_port, proto) : undefined;
  const flow: Flow = {
    time: eventTime(ev.hdr.ktime_ns, opts),
    uuid: (opts.uuid ?? flowUuid)(),
    verdict: point.startsWith('SOCK_XLATE_POINT_POST') ? 'TRANSLATED' : 'TRACED',
    IP: { source: src?.ip ?? '', destination: dstIP, ipVersion: 'IPv4' },
    ...(proto === 'tcp' ? { l4: { TCP: { destination_port: dport } } } : proto === 'udp' ? { l4: { UDP: { destination_port: dport } } } : {}),
    ...(src ? { source: endpointMessage(src.info) } : {}),
    ...(dst ? { destination: endpointMessage(dst) } : {}),
    Type: 'SOCK',
    node_name: enricher.nodeName,
    event_type: { type: ev.hdr.type, sub_type: ev.hdr.subtype },
    ...(service ? { destination_service: service } : {}),
    traffic_direction: 'EGRESS',
    sock_xlate_point: point,
    socket_cookie: String(x.sock_cookie),
    cgroup_id: String(x.cgroup_id),
    destination_names: enricher.namesForIP(dstIP),
    Summary: '',
  };
  return flow;
}

function endpointMessage(e: EndpointInfo): NonNullable<Flow['source']> {
  return {
    ID: e.id ?? 0,
    identity: e.identity,
    ...(e.namespace ? { namespace: e.namespace } : {}),
    labels: e.labels,
    ...(e.podName ? { pod_name: e.podName } : {}),
    ...(e.workloads ? { workloads: e.workloads } : {}),
  };
}
