// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { MetricRow as _agent_MetricRow, MetricRow__Output as _agent_MetricRow__Output } from '../agent/MetricRow.js';

export interface MetricRows {
  'rows'?: (_agent_MetricRow)[];
}

export interface MetricRows__Output {
  'rows': (_agent_MetricRow__Output)[];
}
