// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { EndpointListItem as _agent_EndpointListItem, EndpointListItem__Output as _agent_EndpointListItem__Output } from '../agent/EndpointListItem.js';

export interface EndpointList {
  'endpoints'?: (_agent_EndpointListItem)[];
}

export interface EndpointList__Output {
  'endpoints': (_agent_EndpointListItem__Output)[];
}
