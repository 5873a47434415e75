// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

export interface ObserverStatusReply {
  /**
   * ObserverStatus (src/agent/observer.ts): its pipeline and export parts
   * are still changing with issue 11's observer work; to be modelled once settled.
   */
  'status'?: (_google_protobuf_Value | null);
}

export interface ObserverStatusReply__Output {
  /**
   * ObserverStatus (src/agent/observer.ts): its pipeline and export parts
   * are still changing with issue 11's observer work; to be modelled once settled.
   */
  'status': (_google_protobuf_Value__Output | null);
}
