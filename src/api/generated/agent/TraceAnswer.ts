// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { TraceStep as _agent_TraceStep, TraceStep__Output as _agent_TraceStep__Output } from '../agent/TraceStep.js';
import type { TraceParty as _agent_TraceParty, TraceParty__Output as _agent_TraceParty__Output } from '../agent/TraceParty.js';

export interface TraceAnswer {
  /**
   * Egress at the source, when the source is a local endpoint.
   */
  'egress'?: (_agent_TraceStep | null);
  /**
   * Ingress at the destination, when the destination is a local endpoint.
   */
  'ingress'?: (_agent_TraceStep | null);
  'allowed'?: (boolean);
  'src'?: (_agent_TraceParty | null);
  'dst'?: (_agent_TraceParty | null);
}

export interface TraceAnswer__Output {
  /**
   * Egress at the source, when the source is a local endpoint.
   */
  'egress': (_agent_TraceStep__Output | null);
  /**
   * Ingress at the destination, when the destination is a local endpoint.
   */
  'ingress': (_agent_TraceStep__Output | null);
  'allowed': (boolean);
  'src': (_agent_TraceParty__Output | null);
  'dst': (_agent_TraceParty__Output | null);
}
