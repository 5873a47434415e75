// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

/**
 * MetricRow[] (src/agent/datapath.ts).
 */
export interface MetricRows {
  'rows'?: (_google_protobuf_Value | null);
}

/**
 * MetricRow[] (src/agent/datapath.ts).
 */
export interface MetricRows__Output {
  'rows': (_google_protobuf_Value__Output | null);
}
