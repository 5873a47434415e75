// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { LbSync as _agent_LbSync, LbSync__Output as _agent_LbSync__Output } from '../agent/LbSync.js';
import type { LbFirstSync as _agent_LbFirstSync, LbFirstSync__Output as _agent_LbFirstSync__Output } from '../agent/LbFirstSync.js';

/**
 * max_entries of the service maps.
 */
export interface _agent_ServicesStatus_Capacity {
  'serviceEntries'?: (number);
  'backendEntries'?: (number);
  'maglevEntries'?: (number);
  'maglevTableSize'?: (number);
  '_maglevEntries'?: "maglevEntries";
  '_maglevTableSize'?: "maglevTableSize";
}

/**
 * max_entries of the service maps.
 */
export interface _agent_ServicesStatus_Capacity__Output {
  'serviceEntries': (number);
  'backendEntries': (number);
  'maglevEntries'?: (number);
  'maglevTableSize'?: (number);
  '_maglevEntries'?: "maglevEntries";
  '_maglevTableSize'?: "maglevTableSize";
}

/**
 * Service load-balancing's counts (cheap at any scale).
 */
export interface ServicesStatus {
  'frontends'?: (number);
  'backends'?: (number);
  'serviceEntries'?: (number);
  'capacity'?: (_agent_ServicesStatus_Capacity | null);
  'busyMs'?: (number | string);
  'lastSync'?: (_agent_LbSync | null);
  'firstSync'?: (_agent_LbFirstSync | null);
  /**
   * The last failed write, if any.
   */
  'lastError'?: (string);
  '_lastError'?: "lastError";
}

/**
 * Service load-balancing's counts (cheap at any scale).
 */
export interface ServicesStatus__Output {
  'frontends': (number);
  'backends': (number);
  'serviceEntries': (number);
  'capacity': (_agent_ServicesStatus_Capacity__Output | null);
  'busyMs': (number);
  'lastSync': (_agent_LbSync__Output | null);
  'firstSync': (_agent_LbFirstSync__Output | null);
  /**
   * The last failed write, if any.
   */
  'lastError'?: (string);
  '_lastError'?: "lastError";
}
