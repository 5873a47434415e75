// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/servicemap/servicemap.proto

import type { MapNodeKind as _servicemap_MapNodeKind, MapNodeKind__Output as _servicemap_MapNodeKind__Output } from '../servicemap/MapNodeKind.js';

export interface MapNode {
  /**
   * Stable across calls: `kind/namespace/name`.
   */
  'id'?: (string);
  'kind'?: (_servicemap_MapNodeKind);
  'name'?: (string);
  'namespace'?: (string);
  'labels'?: (string)[];
  /**
   * Security identities seen for this node.
   */
  'identities'?: (number)[];
}

export interface MapNode__Output {
  /**
   * Stable across calls: `kind/namespace/name`.
   */
  'id': (string);
  'kind': (_servicemap_MapNodeKind__Output);
  'name': (string);
  'namespace': (string);
  'labels': (string)[];
  /**
   * Security identities seen for this node.
   */
  'identities': (number)[];
}
