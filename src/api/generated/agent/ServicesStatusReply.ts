// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

export interface ServicesStatusReply {
  /**
   * Not modelled yet (ServiceManager.status()); null before services started.
   */
  'status'?: (_google_protobuf_Value | null);
}

export interface ServicesStatusReply__Output {
  /**
   * Not modelled yet (ServiceManager.status()); null before services started.
   */
  'status': (_google_protobuf_Value__Output | null);
}
