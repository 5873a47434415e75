// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/observer/observer.proto

import type { FlowFilter as _flow_FlowFilter, FlowFilter__Output as _flow_FlowFilter__Output } from '../flow/FlowFilter.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../google/protobuf/Timestamp.js';
import type { Long } from '@grpc/proto-loader';

export interface GetFlowsRequest {
  /**
   * The last `number` flows (the first, with `first`). 0 with neither
   * since nor follow: Hubble's default of the last 20 is the CLI's to send.
   */
  'number'?: (number | string | Long);
  'follow'?: (boolean);
  /**
   * A flow is excluded when any blacklist filter matches it.
   */
  'blacklist'?: (_flow_FlowFilter)[];
  /**
   * A flow is included when any whitelist filter matches it (no whitelist: all).
   */
  'whitelist'?: (_flow_FlowFilter)[];
  'since'?: (_google_protobuf_Timestamp | null);
  'until'?: (_google_protobuf_Timestamp | null);
  'first'?: (boolean);
}

export interface GetFlowsRequest__Output {
  /**
   * The last `number` flows (the first, with `first`). 0 with neither
   * since nor follow: Hubble's default of the last 20 is the CLI's to send.
   */
  'number': (string);
  'follow': (boolean);
  /**
   * A flow is excluded when any blacklist filter matches it.
   */
  'blacklist': (_flow_FlowFilter__Output)[];
  /**
   * A flow is included when any whitelist filter matches it (no whitelist: all).
   */
  'whitelist': (_flow_FlowFilter__Output)[];
  'since': (_google_protobuf_Timestamp__Output | null);
  'until': (_google_protobuf_Timestamp__Output | null);
  'first': (boolean);
}
