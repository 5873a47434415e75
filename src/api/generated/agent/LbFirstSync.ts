// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { LbSyncStages as _agent_LbSyncStages, LbSyncStages__Output as _agent_LbSyncStages__Output } from '../agent/LbSyncStages.js';

/**
 * The first flush after start (every Service at once).
 */
export interface LbFirstSync {
  'at'?: (string);
  'ms'?: (number | string);
  'frontendsWritten'?: (number);
  'frontendsUnchanged'?: (number);
  'backendsWritten'?: (number);
  'stages'?: (_agent_LbSyncStages | null);
}

/**
 * The first flush after start (every Service at once).
 */
export interface LbFirstSync__Output {
  'at': (string);
  'ms': (number);
  'frontendsWritten': (number);
  'frontendsUnchanged': (number);
  'backendsWritten': (number);
  'stages': (_agent_LbSyncStages__Output | null);
}
