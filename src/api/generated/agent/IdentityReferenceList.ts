// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { IdentityReference as _agent_IdentityReference, IdentityReference__Output as _agent_IdentityReference__Output } from '../agent/IdentityReference.js';

export interface IdentityReferenceList {
  'references'?: (_agent_IdentityReference)[];
}

export interface IdentityReferenceList__Output {
  'references': (_agent_IdentityReference__Output)[];
}
