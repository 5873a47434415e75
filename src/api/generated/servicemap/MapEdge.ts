// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/servicemap/servicemap.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../google/protobuf/Timestamp.js';
import type { Long } from '@grpc/proto-loader';

export interface MapEdge {
  'id'?: (string);
  'source_id'?: (string);
  'destination_id'?: (string);
  /**
   * tcp, udp, icmp, or the L7 protocol (http, dns, kafka).
   */
  'protocol'?: (string);
  'port'?: (number);
  'flows'?: (number | string | Long);
  'forwarded'?: (number | string | Long);
  'dropped'?: (number | string | Long);
  'audit'?: (number | string | Long);
  /**
   * L7 only.
   */
  'requests'?: (number | string | Long);
  /**
   * HTTP status classes: "2xx" -> count.
   */
  'status'?: ({[key: string]: number | string | Long});
  'latency_p50_ms'?: (number | string);
  'latency_p95_ms'?: (number | string);
  'latency_p99_ms'?: (number | string);
  /**
   * Drop reasons seen on this edge.
   */
  'drop_reasons'?: (string)[];
  'last_seen'?: (_google_protobuf_Timestamp | null);
}

export interface MapEdge__Output {
  'id': (string);
  'source_id': (string);
  'destination_id': (string);
  /**
   * tcp, udp, icmp, or the L7 protocol (http, dns, kafka).
   */
  'protocol': (string);
  'port': (number);
  'flows': (string);
  'forwarded': (string);
  'dropped': (string);
  'audit': (string);
  /**
   * L7 only.
   */
  'requests': (string);
  /**
   * HTTP status classes: "2xx" -> count.
   */
  'status': ({[key: string]: string});
  'latency_p50_ms': (number);
  'latency_p95_ms': (number);
  'latency_p99_ms': (number);
  /**
   * Drop reasons seen on this edge.
   */
  'drop_reasons': (string)[];
  'last_seen': (_google_protobuf_Timestamp__Output | null);
}
