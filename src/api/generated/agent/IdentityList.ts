// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Identity as _agent_Identity, Identity__Output as _agent_Identity__Output } from '../agent/Identity.js';

export interface IdentityList {
  'identities'?: (_agent_Identity)[];
}

export interface IdentityList__Output {
  'identities': (_agent_Identity__Output)[];
}
