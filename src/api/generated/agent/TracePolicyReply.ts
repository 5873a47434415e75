// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { TraceAnswer as _agent_TraceAnswer, TraceAnswer__Output as _agent_TraceAnswer__Output } from '../agent/TraceAnswer.js';

export interface TracePolicyReply {
  'answers'?: (_agent_TraceAnswer)[];
}

export interface TracePolicyReply__Output {
  'answers': (_agent_TraceAnswer__Output)[];
}
