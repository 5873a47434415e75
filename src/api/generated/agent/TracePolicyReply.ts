// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

export interface TracePolicyReply {
  /**
   * TraceAnswer[] (src/agent/policy.ts).
   */
  'answers'?: (_google_protobuf_Value | null);
}

export interface TracePolicyReply__Output {
  /**
   * TraceAnswer[] (src/agent/policy.ts).
   */
  'answers': (_google_protobuf_Value__Output | null);
}
