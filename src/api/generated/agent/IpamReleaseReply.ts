// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

export interface IpamReleaseReply {
  /**
   * The address released; null when the owner held none.
   */
  'released'?: (_google_protobuf_Value | null);
}

export interface IpamReleaseReply__Output {
  /**
   * The address released; null when the owner held none.
   */
  'released': (_google_protobuf_Value__Output | null);
}
