// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { PolicyMapRow as _agent_PolicyMapRow, PolicyMapRow__Output as _agent_PolicyMapRow__Output } from '../agent/PolicyMapRow.js';

export interface PolicyMapRows {
  'rows'?: (_agent_PolicyMapRow)[];
}

export interface PolicyMapRows__Output {
  'rows': (_agent_PolicyMapRow__Output)[];
}
