// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { CtRow as _agent_CtRow, CtRow__Output as _agent_CtRow__Output } from '../agent/CtRow.js';

export interface CtRows {
  'rows'?: (_agent_CtRow)[];
}

export interface CtRows__Output {
  'rows': (_agent_CtRow__Output)[];
}
