/**
 * One record of the bl_events ring buffer, decoded: the common header, the
 * type-specific fields (through the generated codecs), and the captured packet.
 * Pure and total like the packet decoder: a short or unknown record comes back
 * as an event with an `error`, never as an exception.
 *
 * The observer's first stage (ring buffer → decode → flow, src/observer/flow.ts);
 * `beeline monitor` (src/monitor/) is one more client of the same decoder.
 */
import {
  BL_DROP_NOTIFY_LAYOUT,
  BL_DROP_NOTIFY_SIZE,
  BL_NOTIFY_HDR_SIZE,
  BL_POLICY_VERDICT_NOTIFY_LAYOUT,
  BL_POLICY_VERDICT_NOTIFY_SIZE,
  BL_TRACE_NOTIFY_LAYOUT,
  BL_TRACE_NOTIFY_SIZE,
  BL_TRACE_SOCK_NOTIFY_SIZE,
  BlEventType,
  BlNotifyVersion,
  blEventTypeName,
  decodeBlDropNotify,
  decodeBlNotifyHdr,
  decodeBlPolicyVerdictNotify,
  decodeBlTraceNotify,
  decodeBlTraceSockNotify,
  type BlDropNotify,
  type BlNotifyHdr,
  type BlPolicyVerdictNotify,
  type BlTraceNotify,
  type BlTraceSockNotify,
  type FieldLayout,
} from '../datapath/generated/abi.js';
import { decodePacket, type DecodedPacket } from './packet.js';

interface EventBase {
  /** The header; absent only when the record is shorter than one. */
  hdr?: BlNotifyHdr;
  /** Record length in bytes. */
  length: number;
  /** Why the record could not be (fully) decoded. */
  error?: string;
}

/** A packet passed an observation point (struct bl_trace_notify). */
export interface TraceEvent extends EventBase {
  kind: 'trace';
  hdr: BlNotifyHdr;
  trace: BlTraceNotify;
  /** The captured packet bytes (hdr.len_cap of them), a view into the record. */
  capture: Uint8Array;
  packet: DecodedPacket;
}

/** A packet was dropped (struct bl_drop_notify). */
export interface DropEvent extends EventBase {
  kind: 'drop';
  hdr: BlNotifyHdr;
  drop: BlDropNotify;
  /** The captured packet bytes (hdr.len_cap of them), a view into the record. */
  capture: Uint8Array;
  packet: DecodedPacket;
}

/**
 * Policy was consulted for a packet (struct bl_policy_verdict_notify): the
 * first packet of a new connection in an enforced direction, or a packet
 * policy dropped. hdr.source is the local endpoint whose policy decided.
 */
export interface PolicyVerdictEvent extends EventBase {
  kind: 'policy-verdict';
  hdr: BlNotifyHdr;
  verdict: BlPolicyVerdictNotify;
  /** The captured packet bytes (hdr.len_cap of them), a view into the record. */
  capture: Uint8Array;
  packet: DecodedPacket;
}

/**
 * A socket's destination was translated from a Service to a backend
 * (struct bl_trace_sock_notify): no packet, the socket's cgroup and cookie.
 */
export interface TraceSockEvent extends EventBase {
  kind: 'trace-sock';
  hdr: BlNotifyHdr;
  sock: BlTraceSockNotify;
}

/** A type this decoder does not decode (yet), or a record too short for its type. */
export interface OtherEvent extends EventBase {
  kind: 'other';
  /** hdr.type, or -1 for an empty record. */
  type: number;
}

/** A decoded bl_events record. */
export type MonitorEvent = TraceEvent | DropEvent | PolicyVerdictEvent | TraceSockEvent | OtherEvent;

/** The `--type` name of an event type: BL_EVENT_POLICY_VERDICT → `policy-verdict` (Cilium's names). */
export function eventTypeText(type: number): string {
  const name = blEventTypeName(type);
  return name === undefined ? String(type) : name.replace(/^BL_EVENT_/, '').toLowerCase().replace(/_/g, '-');
}

const dataOffset = (layout: readonly FieldLayout[]) => layout.find((f) => f.name === 'data')?.offset ?? 0;
const TRACE_DATA = dataOffset(BL_TRACE_NOTIFY_LAYOUT);
const DROP_DATA = dataOffset(BL_DROP_NOTIFY_LAYOUT);
const POLICY_VERDICT_DATA = dataOffset(BL_POLICY_VERDICT_NOTIFY_LAYOUT);

/**
 * The record padded to the struct size: the codecs need the whole struct, and
 * a record from an older datapath may be shorter. A record as long as the
 * struct or longer is read in place (the codecs read only the struct's bytes):
 * this runs for every event, so no copy unless one is needed.
 */
function sized(record: Uint8Array, size: number): Uint8Array {
  if (record.length >= size) return record;
  const b = Buffer.alloc(size);
  b.set(record);
  return b;
}

/** The first hdr.len_cap bytes of data[] (never more than the record holds). */
function captured(record: Uint8Array, hdr: BlNotifyHdr, dataOff: number, dataSize: number): Uint8Array {
  const n = Math.max(0, Math.min(hdr.len_cap, dataSize, record.length - dataOff));
  return record.subarray(dataOff, dataOff + n);
}

/**
 * What the notifications that carry a packet share: the struct (decoded in
 * place from a record at least its size), its header, the first hdr.len_cap
 * bytes of its data[] and the decoded packet.
 */
function withPacket<S extends { hdr: BlNotifyHdr }>(record: Uint8Array, decode: (b: Uint8Array) => S, size: number, dataOff: number) {
  const s = decode(sized(record, size));
  const capture = captured(record, s.hdr, dataOff, size - dataOff);
  return { s, hdr: s.hdr, capture, packet: decodePacket(capture) };
}

const shortHeader = (what: string, length: number, dataOff: number) =>
  length < dataOff ? `${what} record of ${length} bytes is shorter than its ${dataOff}-byte header` : undefined;

/** Decodes one bl_events record. */
export function decodeMonitorEvent(record: Uint8Array): MonitorEvent {
  const length = record.length;
  if (length < 1) return { kind: 'other', type: -1, length, error: 'empty record' };
  if (length < BL_NOTIFY_HDR_SIZE) return { kind: 'other', type: record[0]!, length, error: `record of ${length} bytes is shorter than the ${BL_NOTIFY_HDR_SIZE}-byte header` };
  // hdr.type is the first byte; the known types' codecs decode the header with the rest.
  switch (record[0]) {
    case BlEventType.BL_EVENT_TRACE: {
      const { s: trace, hdr, capture, packet } = withPacket(record, decodeBlTraceNotify, BL_TRACE_NOTIFY_SIZE, TRACE_DATA);
      return withNotes<TraceEvent>({ kind: 'trace', hdr, trace, capture, packet, length }, shortHeader('trace', length, TRACE_DATA));
    }
    case BlEventType.BL_EVENT_DROP: {
      const { s: drop, hdr, capture, packet } = withPacket(record, decodeBlDropNotify, BL_DROP_NOTIFY_SIZE, DROP_DATA);
      return withNotes<DropEvent>({ kind: 'drop', hdr, drop, capture, packet, length }, shortHeader('drop', length, DROP_DATA));
    }
    case BlEventType.BL_EVENT_POLICY_VERDICT: {
      const { s: verdict, hdr, capture, packet } = withPacket(record, decodeBlPolicyVerdictNotify, BL_POLICY_VERDICT_NOTIFY_SIZE, POLICY_VERDICT_DATA);
      return withNotes<PolicyVerdictEvent>({ kind: 'policy-verdict', hdr, verdict, capture, packet, length }, shortHeader('policy verdict', length, POLICY_VERDICT_DATA));
    }
    case BlEventType.BL_EVENT_TRACE_SOCK: {
      const sock = decodeBlTraceSockNotify(sized(record, BL_TRACE_SOCK_NOTIFY_SIZE));
      const ev: TraceSockEvent = { kind: 'trace-sock', hdr: sock.hdr, sock, length };
      return withNotes(ev, length < BL_TRACE_SOCK_NOTIFY_SIZE ? `trace-sock record of ${length} bytes is shorter than its ${BL_TRACE_SOCK_NOTIFY_SIZE} bytes` : undefined);
    }
    default: {
      const hdr = decodeBlNotifyHdr(record);
      return withNotes({ kind: 'other', type: hdr.type, hdr, length }, undefined);
    }
  }
}

/** Sets the event's error: a version this decoder does not know, then `shortNote`. */
function withNotes<T extends MonitorEvent>(ev: T, shortNote: string | undefined): T {
  const version = ev.hdr!.version;
  const versionNote = version !== BlNotifyVersion.BL_NOTIFY_VERSION ? `event version ${version}, this CLI knows ${BlNotifyVersion.BL_NOTIFY_VERSION}` : undefined;
  if (versionNote !== undefined || shortNote !== undefined) ev.error = versionNote !== undefined && shortNote !== undefined ? `${versionNote}; ${shortNote}` : (versionNote ?? shortNote);
  return ev;
}

/**
 * Source and destination endpoint ids, as Cilium's filters see them
 * (GetSrc/GetDst): the emitting endpoint and the destination endpoint (0: unknown).
 */
export function eventEndpoints(ev: MonitorEvent): { src: number; dst: number } {
  const src = ev.hdr?.source ?? 0;
  if (ev.kind === 'trace') return { src, dst: ev.trace.dst_id };
  // Our drop notification carries no destination endpoint yet; pick it up when the ABI grows one.
  if (ev.kind === 'drop') return { src, dst: dstIdOf(ev.drop) };
  if (ev.kind === 'policy-verdict') return { src, dst: ev.verdict.dst_id };
  return { src, dst: 0 };
}

function dstIdOf(drop: BlDropNotify): number {
  const v = (drop as unknown as Record<string, unknown>)['dst_id'];
  return typeof v === 'number' ? v : 0;
}

/** The destination endpoint id of a drop (0: unknown). */
export function dropDstId(ev: DropEvent): number {
  return dstIdOf(ev.drop);
}
