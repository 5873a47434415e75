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
  BlEventType,
  BlNotifyVersion,
  blEventTypeName,
  decodeBlDropNotify,
  decodeBlNotifyHdr,
  decodeBlPolicyVerdictNotify,
  decodeBlTraceNotify,
  type BlDropNotify,
  type BlNotifyHdr,
  type BlPolicyVerdictNotify,
  type BlTraceNotify,
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

/** A type this decoder does not decode (yet), or a record too short for its type. */
export interface OtherEvent extends EventBase {
  kind: 'other';
  /** hdr.type, or -1 for an empty record. */
  type: number;
}

/** A decoded bl_events record. */
export type MonitorEvent = TraceEvent | DropEvent | PolicyVerdictEvent | OtherEvent;

/** The `--type` name of an event type: BL_EVENT_POLICY_VERDICT → `policy-verdict` (Cilium's names). */
export function eventTypeText(type: number): string {
  const name = blEventTypeName(type);
  return name === undefined ? String(type) : name.replace(/^BL_EVENT_/, '').toLowerCase().replace(/_/g, '-');
}

const dataOffset = (layout: readonly FieldLayout[]) => layout.find((f) => f.name === 'data')?.offset ?? 0;

/**
 * The record padded (or cut) to the struct size: the codecs need the whole
 * struct, and a record from an older or newer datapath may differ in length.
 */
function sized(record: Uint8Array, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.set(record.subarray(0, size));
  return b;
}

/** The first hdr.len_cap bytes of data[] (never more than the record holds). */
function captured(record: Uint8Array, hdr: BlNotifyHdr, dataOff: number, dataSize: number): Uint8Array {
  const n = Math.max(0, Math.min(hdr.len_cap, dataSize, record.length - dataOff));
  return record.subarray(dataOff, dataOff + n);
}

/** Decodes one bl_events record. */
export function decodeMonitorEvent(record: Uint8Array): MonitorEvent {
  const length = record.length;
  if (length < 1) return { kind: 'other', type: -1, length, error: 'empty record' };
  if (length < BL_NOTIFY_HDR_SIZE) return { kind: 'other', type: record[0]!, length, error: `record of ${length} bytes is shorter than the ${BL_NOTIFY_HDR_SIZE}-byte header` };
  const hdr = decodeBlNotifyHdr(record);
  const notes: string[] = [];
  if (hdr.version !== BlNotifyVersion.BL_NOTIFY_VERSION) notes.push(`event version ${hdr.version}, this CLI knows ${BlNotifyVersion.BL_NOTIFY_VERSION}`);
  switch (hdr.type) {
    case BlEventType.BL_EVENT_TRACE: {
      const off = dataOffset(BL_TRACE_NOTIFY_LAYOUT);
      if (length < off) notes.push(`trace record of ${length} bytes is shorter than its ${off}-byte header`);
      const trace = decodeBlTraceNotify(sized(record, BL_TRACE_NOTIFY_SIZE));
      const capture = captured(record, hdr, off, BL_TRACE_NOTIFY_SIZE - off);
      return withNotes({ kind: 'trace', hdr, trace, capture, packet: decodePacket(capture), length }, notes);
    }
    case BlEventType.BL_EVENT_DROP: {
      const off = dataOffset(BL_DROP_NOTIFY_LAYOUT);
      if (length < off) notes.push(`drop record of ${length} bytes is shorter than its ${off}-byte header`);
      const drop = decodeBlDropNotify(sized(record, BL_DROP_NOTIFY_SIZE));
      const capture = captured(record, hdr, off, BL_DROP_NOTIFY_SIZE - off);
      return withNotes({ kind: 'drop', hdr, drop, capture, packet: decodePacket(capture), length }, notes);
    }
    case BlEventType.BL_EVENT_POLICY_VERDICT: {
      const off = dataOffset(BL_POLICY_VERDICT_NOTIFY_LAYOUT);
      if (length < off) notes.push(`policy verdict record of ${length} bytes is shorter than its ${off}-byte header`);
      const verdict = decodeBlPolicyVerdictNotify(sized(record, BL_POLICY_VERDICT_NOTIFY_SIZE));
      const capture = captured(record, hdr, off, BL_POLICY_VERDICT_NOTIFY_SIZE - off);
      return withNotes({ kind: 'policy-verdict', hdr, verdict, capture, packet: decodePacket(capture), length }, notes);
    }
    default:
      return withNotes({ kind: 'other', type: hdr.type, hdr, length }, notes);
  }
}

function withNotes<T extends MonitorEvent>(ev: T, notes: string[]): T {
  if (notes.length) ev.error = notes.join('; ');
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
