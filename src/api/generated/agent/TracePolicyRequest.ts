// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

export interface TracePolicyRequest {
  /**
   * Each {src, dst, port, protocol}; src and dst are one of {pod: "ns/name"},
   * {ip}, {identity} or {labels: [...]} (TraceQuery, src/agent/policy.ts).
   * Value: a party's JSON is a bare list for labels, which a oneof cannot hold.
   */
  'queries'?: (_google_protobuf_Value)[];
}

export interface TracePolicyRequest__Output {
  /**
   * Each {src, dst, port, protocol}; src and dst are one of {pod: "ns/name"},
   * {ip}, {identity} or {labels: [...]} (TraceQuery, src/agent/policy.ts).
   * Value: a party's JSON is a bare list for labels, which a oneof cannot hold.
   */
  'queries': (_google_protobuf_Value__Output)[];
}
