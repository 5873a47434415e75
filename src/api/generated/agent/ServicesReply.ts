// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { ServiceRow as _agent_ServiceRow, ServiceRow__Output as _agent_ServiceRow__Output } from '../agent/ServiceRow.js';
import type { LbProblem as _agent_LbProblem, LbProblem__Output as _agent_LbProblem__Output } from '../agent/LbProblem.js';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../google/protobuf/Value.js';

export interface ServicesReply {
  'services'?: (_agent_ServiceRow)[];
  'problems'?: (_agent_LbProblem)[];
  /**
   * The last flush (null before the first): not modelled yet (ServiceManager['lastSync']).
   */
  'lastSync'?: (_google_protobuf_Value | null);
}

export interface ServicesReply__Output {
  'services': (_agent_ServiceRow__Output)[];
  'problems': (_agent_LbProblem__Output)[];
  /**
   * The last flush (null before the first): not modelled yet (ServiceManager['lastSync']).
   */
  'lastSync': (_google_protobuf_Value__Output | null);
}
