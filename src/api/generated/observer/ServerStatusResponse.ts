// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/observer/observer.proto

import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../google/protobuf/UInt32Value.js';
import type { Long } from '@grpc/proto-loader';

export interface ServerStatusResponse {
  /**
   * Flows in the ring(s) now.
   */
  'num_flows'?: (number | string | Long);
  /**
   * Capacity of the ring(s).
   */
  'max_flows'?: (number | string | Long);
  /**
   * Flows seen since start.
   */
  'seen_flows'?: (number | string | Long);
  'uptime_ns'?: (number | string | Long);
  /**
   * Relay only: nodes connected / not.
   */
  'num_connected_nodes'?: (_google_protobuf_UInt32Value | null);
  'num_unavailable_nodes'?: (_google_protobuf_UInt32Value | null);
  'unavailable_nodes'?: (string)[];
  'version'?: (string);
}

export interface ServerStatusResponse__Output {
  /**
   * Flows in the ring(s) now.
   */
  'num_flows': (string);
  /**
   * Capacity of the ring(s).
   */
  'max_flows': (string);
  /**
   * Flows seen since start.
   */
  'seen_flows': (string);
  'uptime_ns': (string);
  /**
   * Relay only: nodes connected / not.
   */
  'num_connected_nodes': (_google_protobuf_UInt32Value__Output | null);
  'num_unavailable_nodes': (_google_protobuf_UInt32Value__Output | null);
  'unavailable_nodes': (string)[];
  'version': (string);
}
