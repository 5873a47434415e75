// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/servicemap/servicemap.proto

import type { MapNode as _servicemap_MapNode, MapNode__Output as _servicemap_MapNode__Output } from '../servicemap/MapNode.js';
import type { MapEdge as _servicemap_MapEdge, MapEdge__Output as _servicemap_MapEdge__Output } from '../servicemap/MapEdge.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../google/protobuf/Timestamp.js';
import type { Long } from '@grpc/proto-loader';

export interface GetServiceMapResponse {
  'nodes'?: (_servicemap_MapNode)[];
  'edges'?: (_servicemap_MapEdge)[];
  'since'?: (_google_protobuf_Timestamp | null);
  'until'?: (_google_protobuf_Timestamp | null);
  /**
   * Flows that went into this graph.
   */
  'flows'?: (number | string | Long);
}

export interface GetServiceMapResponse__Output {
  'nodes': (_servicemap_MapNode__Output)[];
  'edges': (_servicemap_MapEdge__Output)[];
  'since': (_google_protobuf_Timestamp__Output | null);
  'until': (_google_protobuf_Timestamp__Output | null);
  /**
   * Flows that went into this graph.
   */
  'flows': (string);
}
