// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';
import type { PolicyProblem as _agent_PolicyProblem, PolicyProblem__Output as _agent_PolicyProblem__Output } from '../agent/PolicyProblem.js';

export interface _agent_PolicyRow_Selects {
  'id'?: (number);
  'pod'?: (string);
  'ingress'?: (boolean);
  'egress'?: (boolean);
}

export interface _agent_PolicyRow_Selects__Output {
  'id': (number);
  'pod': (string);
  'ingress': (boolean);
  'egress': (boolean);
}

/**
 * A policy as the node enforces it.
 */
export interface PolicyRow {
  /**
   * `kind/namespace/name`.
   */
  'key'?: (string);
  'resourceVersion'?: (string);
  /**
   * The rules in force: the accepted version's spec (specs, for a CiliumNetworkPolicy with several), as the policy's own JSON.
   */
  'spec'?: (_google_protobuf_Value | null);
  'problems'?: (_agent_PolicyProblem)[];
  /**
   * Local endpoints it selects, per direction.
   */
  'selects'?: (_agent_PolicyRow_Selects)[];
}

/**
 * A policy as the node enforces it.
 */
export interface PolicyRow__Output {
  /**
   * `kind/namespace/name`.
   */
  'key': (string);
  'resourceVersion': (string);
  /**
   * The rules in force: the accepted version's spec (specs, for a CiliumNetworkPolicy with several), as the policy's own JSON.
   */
  'spec': (_google_protobuf_Value__Output | null);
  'problems': (_agent_PolicyProblem__Output)[];
  /**
   * Local endpoints it selects, per direction.
   */
  'selects': (_agent_PolicyRow_Selects__Output)[];
}
