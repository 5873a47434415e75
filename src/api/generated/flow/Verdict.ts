// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

export const Verdict = {
  VERDICT_UNKNOWN: 'VERDICT_UNKNOWN',
  /**
   * Passed an observation point on its way.
   */
  FORWARDED: 'FORWARDED',
  /**
   * Dropped; drop_reason_desc says why.
   */
  DROPPED: 'DROPPED',
  ERROR: 'ERROR',
  /**
   * Policy would have dropped it; audit mode let it through.
   */
  AUDIT: 'AUDIT',
  /**
   * Handed to the per-node proxy.
   */
  REDIRECTED: 'REDIRECTED',
  TRACED: 'TRACED',
  TRANSLATED: 'TRANSLATED',
} as const;

export type Verdict =
  | 'VERDICT_UNKNOWN'
  | 0
  /**
   * Passed an observation point on its way.
   */
  | 'FORWARDED'
  | 1
  /**
   * Dropped; drop_reason_desc says why.
   */
  | 'DROPPED'
  | 2
  | 'ERROR'
  | 3
  /**
   * Policy would have dropped it; audit mode let it through.
   */
  | 'AUDIT'
  | 4
  /**
   * Handed to the per-node proxy.
   */
  | 'REDIRECTED'
  | 5
  | 'TRACED'
  | 6
  | 'TRANSLATED'
  | 7

export type Verdict__Output = typeof Verdict[keyof typeof Verdict]
