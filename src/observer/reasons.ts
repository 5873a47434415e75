/**
 * The words `cilium monitor` and Hubble use for datapath codes, shared by the
 * monitor, `bpf metrics` and (later) flows: drop reasons, trace reasons
 * (connection states), observation points, datapath source files.
 *
 * Drop reasons: abi/drop.h promises Cilium's numbers wherever the meaning is
 * the same, so Cilium's table (pkg/monitor/api/drop.go, in dropreasons.ts for
 * the web UI) is keyed by number and covers reasons our datapath does not
 * emit yet. Everything else is keyed
 * by our enum *names* (from the generated codecs), so renumbering on our side
 * cannot silently change the words; reasons.test.ts fails when an enum member
 * has no word.
 */
import { blDropReasonName, blSourceFileName, blTracePointName, blTraceReasonName } from '../datapath/generated/abi.js';
import { ciliumDropReasonText } from './dropreasons.js';

/**
 * Our reasons Cilium has no string for (by enum name). Cilium's datapath
 * returns DROP_UNSUPP_SERVICE_PROTO internally but never reports it as a drop.
 */
const BEELINE_DROP_REASONS: Readonly<Record<string, string>> = {
  BL_DROP_UNSUPP_SERVICE_PROTO: 'Unsupported protocol for service',
};

/** The text of a drop reason (Cilium's DropReason): `133` → `Policy denied`; the number for unknown ones. */
export function dropReasonText(reason: number): string {
  const name = blDropReasonName(reason);
  const ours = name === undefined ? undefined : BEELINE_DROP_REASONS[name];
  return ours ?? ciliumDropReasonText(reason) ?? String(reason);
}

/** Whether dropReasonText has words for the reason (not just its number). */
export function isKnownDropReason(reason: number): boolean {
  return dropReasonText(reason) !== String(reason);
}

/**
 * Cilium's DropReasonExt: the reason and, when the datapath gave one, the
 * extended error: `Policy denied`, `Error writing to packet, -22`, or `250, 0`
 * for an unknown reason.
 */
export function dropReasonExtText(reason: number, extError: number): string {
  if (!isKnownDropReason(reason)) return `${reason}, ${extError}`;
  const text = dropReasonText(reason);
  return extError === 0 ? text : `${text}, ${extError}`;
}

/** Cilium's trace reasons (pkg/monitor/datapath_trace.go `traceReasons`): the connection state words. */
const TRACE_REASONS: Readonly<Record<string, string>> = {
  BL_TRACE_REASON_POLICY: 'new',
  BL_TRACE_REASON_CT_ESTABLISHED: 'established',
  BL_TRACE_REASON_CT_REPLY: 'reply',
  BL_TRACE_REASON_CT_RELATED: 'related',
  BL_TRACE_REASON_CT_REOPENED: 'reopened',
  BL_TRACE_REASON_UNKNOWN: 'unknown',
  BL_TRACE_REASON_SRV6_ENCAP: 'srv6-encap',
  BL_TRACE_REASON_SRV6_DECAP: 'srv6-decap',
  BL_TRACE_REASON_ENCRYPT_OVERLAY: 'encrypt-overlay',
};

/** The connection state a trace reason stands for (`state new`); the number when unknown, as Cilium prints. */
export function traceReasonText(reason: number): string {
  const name = blTraceReasonName(reason);
  return (name === undefined ? undefined : TRACE_REASONS[name]) ?? String(reason);
}

/** Cilium's observation point names (pkg/monitor/api/types.go `TraceObservationPoints`). */
const TRACE_POINTS: Readonly<Record<string, string>> = {
  BL_TRACE_TO_LXC: 'to-endpoint',
  BL_TRACE_TO_PROXY: 'to-proxy',
  BL_TRACE_TO_HOST: 'to-host',
  BL_TRACE_TO_STACK: 'to-stack',
  BL_TRACE_TO_OVERLAY: 'to-overlay',
  BL_TRACE_TO_NETWORK: 'to-network',
  BL_TRACE_TO_CRYPTO: 'to-crypto',
  BL_TRACE_FROM_LXC: 'from-endpoint',
  BL_TRACE_FROM_PROXY: 'from-proxy',
  BL_TRACE_FROM_HOST: 'from-host',
  BL_TRACE_FROM_STACK: 'from-stack',
  BL_TRACE_FROM_OVERLAY: 'from-overlay',
  BL_TRACE_FROM_NETWORK: 'from-network',
  BL_TRACE_FROM_CRYPTO: 'from-crypto',
};

/** The name of an observation point (`to-endpoint`, `from-network`…); the number when unknown, as Cilium prints. */
export function tracePointText(point: number): string {
  const name = blTracePointName(point);
  return (name === undefined ? undefined : TRACE_POINTS[name]) ?? String(point);
}

/**
 * Cilium's one-line trace summary (TraceNotify.traceSummary): which way the
 * packet went at the observation point: `-> endpoint 1234`, `<- network`….
 */
export function traceSummaryText(point: number, source: number, dstId: number): string {
  switch (blTracePointName(point)) {
    case 'BL_TRACE_TO_LXC':
      return `-> endpoint ${dstId}`;
    case 'BL_TRACE_TO_PROXY':
      return dstId !== 0 ? `-> proxy port ${dstId}` : '-> proxy';
    case 'BL_TRACE_TO_HOST':
      return '-> host from';
    case 'BL_TRACE_TO_STACK':
      return '-> stack';
    case 'BL_TRACE_TO_OVERLAY':
      return '-> overlay';
    case 'BL_TRACE_TO_NETWORK':
      return '-> network';
    case 'BL_TRACE_TO_CRYPTO':
      return '-> crypto';
    case 'BL_TRACE_FROM_LXC':
      return `<- endpoint ${source}`;
    case 'BL_TRACE_FROM_PROXY':
      return '<- proxy';
    case 'BL_TRACE_FROM_HOST':
      return '<- host';
    case 'BL_TRACE_FROM_STACK':
      return '<- stack';
    case 'BL_TRACE_FROM_OVERLAY':
      return '<- overlay';
    case 'BL_TRACE_FROM_NETWORK':
      return '<- network';
    case 'BL_TRACE_FROM_CRYPTO':
      return '<- crypto';
    default:
      return 'unknown trace';
  }
}

/** Our datapath source files (bpf/*.bpf.c), by enum bl_source_file name. */
const SOURCE_FILES: Readonly<Record<string, string>> = {
  BL_FILE_HOST: 'host.bpf.c',
  BL_FILE_LXC: 'lxc.bpf.c',
  BL_FILE_OVERLAY: 'overlay.bpf.c',
  BL_FILE_SOCK: 'sock.bpf.c',
  BL_FILE_XDP: 'xdp.bpf.c',
};

/**
 * The source file a drop came from (`file host.bpf.c:57`). A BL_FILE_X not in
 * the table above is taken to be bpf/x.bpf.c; unknown ids print as Cilium
 * prints them, `<unknown-id-N>`.
 */
export function sourceFileText(file: number): string {
  const name = blSourceFileName(file);
  if (name === undefined || name === 'BL_FILE_UNKNOWN') return `<unknown-id-${file}>`;
  return SOURCE_FILES[name] ?? `${name.replace(/^BL_FILE_/, '').toLowerCase()}.bpf.c`;
}
