// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { EndpointMapRow as _agent_EndpointMapRow, EndpointMapRow__Output as _agent_EndpointMapRow__Output } from '../agent/EndpointMapRow.js';

export interface EndpointMapRows {
  'rows'?: (_agent_EndpointMapRow)[];
}

export interface EndpointMapRows__Output {
  'rows': (_agent_EndpointMapRow__Output)[];
}
