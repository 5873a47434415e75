// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/servicemap/servicemap.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../google/protobuf/Timestamp.js';
import type { FlowFilter as _flow_FlowFilter, FlowFilter__Output as _flow_FlowFilter__Output } from '../flow/FlowFilter.js';

export interface GetServiceMapRequest {
  /**
   * Only flows with a source or destination in these namespaces (empty: all).
   */
  'namespaces'?: (string)[];
  'since'?: (_google_protobuf_Timestamp | null);
  'until'?: (_google_protobuf_Timestamp | null);
  'interval_ms'?: (number);
  /**
   * Only flows that match one of these (empty: all), minus those that match a blacklist filter.
   */
  'whitelist'?: (_flow_FlowFilter)[];
  'blacklist'?: (_flow_FlowFilter)[];
}

export interface GetServiceMapRequest__Output {
  /**
   * Only flows with a source or destination in these namespaces (empty: all).
   */
  'namespaces': (string)[];
  'since': (_google_protobuf_Timestamp__Output | null);
  'until': (_google_protobuf_Timestamp__Output | null);
  'interval_ms': (number);
  /**
   * Only flows that match one of these (empty: all), minus those that match a blacklist filter.
   */
  'whitelist': (_flow_FlowFilter__Output)[];
  'blacklist': (_flow_FlowFilter__Output)[];
}
