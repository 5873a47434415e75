// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { IpcacheRow as _agent_IpcacheRow, IpcacheRow__Output as _agent_IpcacheRow__Output } from '../agent/IpcacheRow.js';

export interface IpcacheRows {
  'rows'?: (_agent_IpcacheRow)[];
}

export interface IpcacheRows__Output {
  'rows': (_agent_IpcacheRow__Output)[];
}
