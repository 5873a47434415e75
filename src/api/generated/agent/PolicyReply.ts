// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { PolicyRow as _agent_PolicyRow, PolicyRow__Output as _agent_PolicyRow__Output } from '../agent/PolicyRow.js';
import type { EndpointPolicyRow as _agent_EndpointPolicyRow, EndpointPolicyRow__Output as _agent_EndpointPolicyRow__Output } from '../agent/EndpointPolicyRow.js';

export interface PolicyReply {
  'policies'?: (_agent_PolicyRow)[];
  'endpoints'?: (_agent_EndpointPolicyRow)[];
}

export interface PolicyReply__Output {
  'policies': (_agent_PolicyRow__Output)[];
  'endpoints': (_agent_EndpointPolicyRow__Output)[];
}
