// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

import type { LostEventSource as _flow_LostEventSource, LostEventSource__Output as _flow_LostEventSource__Output } from '../flow/LostEventSource.js';
import type { Int32Value as _google_protobuf_Int32Value, Int32Value__Output as _google_protobuf_Int32Value__Output } from '../google/protobuf/Int32Value.js';
import type { Long } from '@grpc/proto-loader';

export interface LostEvent {
  'source'?: (_flow_LostEventSource);
  'num_events_lost'?: (number | string | Long);
  'cpu'?: (_google_protobuf_Int32Value | null);
}

export interface LostEvent__Output {
  'source': (_flow_LostEventSource__Output);
  'num_events_lost': (string);
  'cpu': (_google_protobuf_Int32Value__Output | null);
}
