// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { LbFrontendRow as _agent_LbFrontendRow, LbFrontendRow__Output as _agent_LbFrontendRow__Output } from '../agent/LbFrontendRow.js';
import type { LbBackendRow as _agent_LbBackendRow, LbBackendRow__Output as _agent_LbBackendRow__Output } from '../agent/LbBackendRow.js';

export interface BpfLbReply {
  'frontends'?: (_agent_LbFrontendRow)[];
  'backends'?: (_agent_LbBackendRow)[];
}

export interface BpfLbReply__Output {
  'frontends': (_agent_LbFrontendRow__Output)[];
  'backends': (_agent_LbBackendRow__Output)[];
}
