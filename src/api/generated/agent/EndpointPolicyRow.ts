// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { PolicyProblem as _agent_PolicyProblem, PolicyProblem__Output as _agent_PolicyProblem__Output } from '../agent/PolicyProblem.js';

export interface _agent_EndpointPolicyRow_SelectedBy {
  'ingress'?: (string)[];
  'egress'?: (string)[];
}

export interface _agent_EndpointPolicyRow_SelectedBy__Output {
  'ingress': (string)[];
  'egress': (string)[];
}

/**
 * One endpoint's enforcement.
 */
export interface EndpointPolicyRow {
  'id'?: (number);
  'pod'?: (string);
  'identity'?: (number);
  'ingressEnforced'?: (boolean);
  'egressEnforced'?: (boolean);
  'ingressDefaultDeny'?: (boolean);
  'egressDefaultDeny'?: (boolean);
  'audit'?: (boolean);
  'entries'?: (number);
  'selectedBy'?: (_agent_EndpointPolicyRow_SelectedBy | null);
  /**
   * Why the policy in force is not the newest (did not fit), and problems applying it.
   */
  'error'?: (string);
  'problems'?: (_agent_PolicyProblem)[];
  '_error'?: "error";
}

/**
 * One endpoint's enforcement.
 */
export interface EndpointPolicyRow__Output {
  'id': (number);
  'pod': (string);
  'identity': (number);
  'ingressEnforced': (boolean);
  'egressEnforced': (boolean);
  'ingressDefaultDeny': (boolean);
  'egressDefaultDeny': (boolean);
  'audit': (boolean);
  'entries': (number);
  'selectedBy': (_agent_EndpointPolicyRow_SelectedBy__Output | null);
  /**
   * Why the policy in force is not the newest (did not fit), and problems applying it.
   */
  'error'?: (string);
  'problems': (_agent_PolicyProblem__Output)[];
  '_error'?: "error";
}
