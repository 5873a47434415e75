// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { PolicyFlush as _agent_PolicyFlush, PolicyFlush__Output as _agent_PolicyFlush__Output } from '../agent/PolicyFlush.js';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';
import type { PolicyProblem as _agent_PolicyProblem, PolicyProblem__Output as _agent_PolicyProblem__Output } from '../agent/PolicyProblem.js';

export interface _agent_PolicyStatus_Rejected {
  'policy'?: (string);
  'resourceVersion'?: (string);
  'problems'?: (_agent_PolicyProblem)[];
}

export interface _agent_PolicyStatus_Rejected__Output {
  'policy': (string);
  'resourceVersion': (string);
  'problems': (_agent_PolicyProblem__Output)[];
}

export interface PolicyStatus {
  'synced'?: (boolean);
  /**
   * `kind/namespace/name@resourceVersion` of each accepted policy.
   */
  'policies'?: (string)[];
  'cidrGroups'?: (string)[];
  'rejected'?: (_agent_PolicyStatus_Rejected)[];
  'endpoints'?: (number);
  /**
   * null before the first flush.
   */
  'lastFlush'?: (_agent_PolicyFlush | null);
  'busyMs'?: (number | string);
  /**
   * null when none.
   */
  'lastError'?: (_google_protobuf_Value | null);
  'cidrIdentities'?: (number);
}

export interface PolicyStatus__Output {
  'synced': (boolean);
  /**
   * `kind/namespace/name@resourceVersion` of each accepted policy.
   */
  'policies': (string)[];
  'cidrGroups': (string)[];
  'rejected': (_agent_PolicyStatus_Rejected__Output)[];
  'endpoints': (number);
  /**
   * null before the first flush.
   */
  'lastFlush': (_agent_PolicyFlush__Output | null);
  'busyMs': (number);
  /**
   * null when none.
   */
  'lastError': (_google_protobuf_Value__Output | null);
  'cidrIdentities': (number);
}
