// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Verdict counters of one drop reason (0: forwarded) and direction.
 */
export interface MetricRow {
  'reason'?: (number);
  'reasonName'?: (string);
  /**
   * ingress, egress or unknown.
   */
  'direction'?: (string);
  'packets'?: (number | string | Long);
  'bytes'?: (number | string | Long);
}

/**
 * Verdict counters of one drop reason (0: forwarded) and direction.
 */
export interface MetricRow__Output {
  'reason': (number);
  'reasonName': (string);
  /**
   * ingress, egress or unknown.
   */
  'direction': (string);
  'packets': (string);
  'bytes': (string);
}
