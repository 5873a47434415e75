// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

export interface BpfLbReply {
  /**
   * LbFrontendRow[] and LbBackendRow[] (src/agent/datapath.ts).
   */
  'frontends'?: (_google_protobuf_Value | null);
  'backends'?: (_google_protobuf_Value | null);
}

export interface BpfLbReply__Output {
  /**
   * LbFrontendRow[] and LbBackendRow[] (src/agent/datapath.ts).
   */
  'frontends': (_google_protobuf_Value__Output | null);
  'backends': (_google_protobuf_Value__Output | null);
}
