// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

/**
 * Connection-tracking state of a traced packet.
 */
export const TraceReason = {
  TRACE_REASON_UNKNOWN: 'TRACE_REASON_UNKNOWN',
  NEW: 'NEW',
  ESTABLISHED: 'ESTABLISHED',
  REPLY: 'REPLY',
  RELATED: 'RELATED',
  /**
   * @deprecated
   */
  REOPENED: 'REOPENED',
  SRV6_ENCAP: 'SRV6_ENCAP',
  SRV6_DECAP: 'SRV6_DECAP',
  ENCRYPT_OVERLAY: 'ENCRYPT_OVERLAY',
} as const;

/**
 * Connection-tracking state of a traced packet.
 */
export type TraceReason =
  | 'TRACE_REASON_UNKNOWN'
  | 0
  | 'NEW'
  | 1
  | 'ESTABLISHED'
  | 2
  | 'REPLY'
  | 3
  | 'RELATED'
  | 4
  | 'REOPENED'
  | 5
  | 'SRV6_ENCAP'
  | 6
  | 'SRV6_DECAP'
  | 7
  | 'ENCRYPT_OVERLAY'
  | 8

/**
 * Connection-tracking state of a traced packet.
 */
export type TraceReason__Output = typeof TraceReason[keyof typeof TraceReason]
