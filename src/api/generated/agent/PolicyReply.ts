// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

export interface PolicyReply {
  /**
   * PolicyRow[] and EndpointPolicyRow[] (src/agent/policy.ts).
   */
  'policies'?: (_google_protobuf_Value | null);
  'endpoints'?: (_google_protobuf_Value | null);
}

export interface PolicyReply__Output {
  /**
   * PolicyRow[] and EndpointPolicyRow[] (src/agent/policy.ts).
   */
  'policies': (_google_protobuf_Value__Output | null);
  'endpoints': (_google_protobuf_Value__Output | null);
}
