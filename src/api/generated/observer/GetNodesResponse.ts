// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/observer/observer.proto

import type { Node as _observer_Node, Node__Output as _observer_Node__Output } from '../observer/Node.js';

export interface GetNodesResponse {
  'nodes'?: (_observer_Node)[];
}

export interface GetNodesResponse__Output {
  'nodes': (_observer_Node__Output)[];
}
