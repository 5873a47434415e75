// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/observer/observer.proto

import type { Flow as _flow_Flow, Flow__Output as _flow_Flow__Output } from '../flow/Flow.js';
import type { NodeStatusEvent as _relay_NodeStatusEvent, NodeStatusEvent__Output as _relay_NodeStatusEvent__Output } from '../relay/NodeStatusEvent.js';
import type { LostEvent as _flow_LostEvent, LostEvent__Output as _flow_LostEvent__Output } from '../flow/LostEvent.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../google/protobuf/Timestamp.js';

export interface GetFlowsResponse {
  'flow'?: (_flow_Flow | null);
  'node_status'?: (_relay_NodeStatusEvent | null);
  'lost_events'?: (_flow_LostEvent | null);
  'node_name'?: (string);
  'time'?: (_google_protobuf_Timestamp | null);
  'response_types'?: "flow"|"node_status"|"lost_events";
}

export interface GetFlowsResponse__Output {
  'flow'?: (_flow_Flow__Output | null);
  'node_status'?: (_relay_NodeStatusEvent__Output | null);
  'lost_events'?: (_flow_LostEvent__Output | null);
  'node_name': (string);
  'time': (_google_protobuf_Timestamp__Output | null);
  'response_types'?: "flow"|"node_status"|"lost_events";
}
