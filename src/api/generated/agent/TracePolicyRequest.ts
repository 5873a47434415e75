// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

export interface TracePolicyRequest {
  /**
   * {src, dst, port, protocol} each (TraceQuery, src/agent/policy.ts).
   */
  'queries'?: (_google_protobuf_Value)[];
}

export interface TracePolicyRequest__Output {
  /**
   * {src, dst, port, protocol} each (TraceQuery, src/agent/policy.ts).
   */
  'queries': (_google_protobuf_Value__Output)[];
}
