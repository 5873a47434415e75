// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { RemoteNode as _agent_RemoteNode, RemoteNode__Output as _agent_RemoteNode__Output } from '../agent/RemoteNode.js';

export interface RemoteNodeList {
  'nodes'?: (_agent_RemoteNode)[];
}

export interface RemoteNodeList__Output {
  'nodes': (_agent_RemoteNode__Output)[];
}
