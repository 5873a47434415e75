// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { LbSyncStages as _agent_LbSyncStages, LbSyncStages__Output as _agent_LbSyncStages__Output } from '../agent/LbSyncStages.js';

/**
 * A flush of Services into the service maps.
 */
export interface LbSync {
  /**
   * RFC 3339.
   */
  'at'?: (string);
  'ms'?: (number | string);
  'services'?: (number);
  /**
   * Frontends the translation changed; of them, frontendsUnchanged were already in the maps as wanted and not written.
   */
  'frontendsWritten'?: (number);
  'frontendsUnchanged'?: (number);
  'backendsWritten'?: (number);
  'deleted'?: (number);
  /**
   * Epoch milliseconds (fractional): the first event it covers arrived, the flush began, it ended.
   */
  'eventAtMs'?: (number | string);
  'startAtMs'?: (number | string);
  'endAtMs'?: (number | string);
  'stages'?: (_agent_LbSyncStages | null);
  '_eventAtMs'?: "eventAtMs";
}

/**
 * A flush of Services into the service maps.
 */
export interface LbSync__Output {
  /**
   * RFC 3339.
   */
  'at': (string);
  'ms': (number);
  'services': (number);
  /**
   * Frontends the translation changed; of them, frontendsUnchanged were already in the maps as wanted and not written.
   */
  'frontendsWritten': (number);
  'frontendsUnchanged': (number);
  'backendsWritten': (number);
  'deleted': (number);
  /**
   * Epoch milliseconds (fractional): the first event it covers arrived, the flush began, it ended.
   */
  'eventAtMs'?: (number);
  'startAtMs': (number);
  'endAtMs': (number);
  'stages': (_agent_LbSyncStages__Output | null);
  '_eventAtMs'?: "eventAtMs";
}
