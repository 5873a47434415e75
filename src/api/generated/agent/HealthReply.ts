// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Health as _agent_Health, Health__Output as _agent_Health__Output } from '../agent/Health.js';

export interface HealthReply {
  'health'?: (_agent_Health);
}

export interface HealthReply__Output {
  'health': (_agent_Health__Output);
}
