// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { ServicesStatus as _agent_ServicesStatus, ServicesStatus__Output as _agent_ServicesStatus__Output } from '../agent/ServicesStatus.js';

export interface ServicesStatusReply {
  /**
   * null before service load-balancing started.
   */
  'status'?: (_agent_ServicesStatus | null);
}

export interface ServicesStatusReply__Output {
  /**
   * null before service load-balancing started.
   */
  'status': (_agent_ServicesStatus__Output | null);
}
