// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { FqdnCacheRow as _agent_FqdnCacheRow, FqdnCacheRow__Output as _agent_FqdnCacheRow__Output } from '../agent/FqdnCacheRow.js';

export interface FqdnCacheRows {
  'rows'?: (_agent_FqdnCacheRow)[];
}

export interface FqdnCacheRows__Output {
  'rows': (_agent_FqdnCacheRow__Output)[];
}
