// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/relay/relay.proto

export const NodeState = {
  UNKNOWN_NODE_STATE: 'UNKNOWN_NODE_STATE',
  NODE_CONNECTED: 'NODE_CONNECTED',
  NODE_UNAVAILABLE: 'NODE_UNAVAILABLE',
  NODE_GONE: 'NODE_GONE',
  NODE_ERROR: 'NODE_ERROR',
} as const;

export type NodeState =
  | 'UNKNOWN_NODE_STATE'
  | 0
  | 'NODE_CONNECTED'
  | 1
  | 'NODE_UNAVAILABLE'
  | 2
  | 'NODE_GONE'
  | 3
  | 'NODE_ERROR'
  | 4

export type NodeState__Output = typeof NodeState[keyof typeof NodeState]
