// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

export interface PolicyCookiesReply {
  /**
   * {"<cookie>": ["<policy>", …]}: a proto map cannot have lists as values
   * without a wrapper message, which would change the JSON.
   */
  'names'?: (_google_protobuf_Value | null);
}

export interface PolicyCookiesReply__Output {
  /**
   * {"<cookie>": ["<policy>", …]}: a proto map cannot have lists as values
   * without a wrapper message, which would change the JSON.
   */
  'names': (_google_protobuf_Value__Output | null);
}
