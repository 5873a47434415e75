// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/relay/relay.proto

import type { NodeState as _relay_NodeState, NodeState__Output as _relay_NodeState__Output } from '../relay/NodeState.js';

/**
 * The state of one or more nodes that take part in a GetFlows request,
 * sent by the relay when a node connects, becomes unavailable or errors.
 */
export interface NodeStatusEvent {
  'state_change'?: (_relay_NodeState);
  'node_names'?: (string)[];
  /**
   * Why, for NODE_UNAVAILABLE and NODE_ERROR.
   */
  'message'?: (string);
}

/**
 * The state of one or more nodes that take part in a GetFlows request,
 * sent by the relay when a node connects, becomes unavailable or errors.
 */
export interface NodeStatusEvent__Output {
  'state_change': (_relay_NodeState__Output);
  'node_names': (string)[];
  /**
   * Why, for NODE_UNAVAILABLE and NODE_ERROR.
   */
  'message': (string);
}
