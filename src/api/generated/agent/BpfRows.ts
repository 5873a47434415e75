// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

/**
 * Rows of a BPF map (EndpointMapRow[], IpcacheRow[], CtRow[], policy map rows).
 */
export interface BpfRows {
  'rows'?: (_google_protobuf_Value | null);
}

/**
 * Rows of a BPF map (EndpointMapRow[], IpcacheRow[], CtRow[], policy map rows).
 */
export interface BpfRows__Output {
  'rows': (_google_protobuf_Value__Output | null);
}
