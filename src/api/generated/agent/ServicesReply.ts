// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { ServiceRow as _agent_ServiceRow, ServiceRow__Output as _agent_ServiceRow__Output } from '../agent/ServiceRow.js';
import type { LbProblem as _agent_LbProblem, LbProblem__Output as _agent_LbProblem__Output } from '../agent/LbProblem.js';
import type { LbSync as _agent_LbSync, LbSync__Output as _agent_LbSync__Output } from '../agent/LbSync.js';

export interface ServicesReply {
  'services'?: (_agent_ServiceRow)[];
  'problems'?: (_agent_LbProblem)[];
  /**
   * null before the first flush.
   */
  'lastSync'?: (_agent_LbSync | null);
}

export interface ServicesReply__Output {
  'services': (_agent_ServiceRow__Output)[];
  'problems': (_agent_LbProblem__Output)[];
  /**
   * null before the first flush.
   */
  'lastSync': (_agent_LbSync__Output | null);
}
