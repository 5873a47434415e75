// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

import type { TraceParent as _flow_TraceParent, TraceParent__Output as _flow_TraceParent__Output } from '../flow/TraceParent.js';

export interface TraceContext {
  'parent'?: (_flow_TraceParent | null);
}

export interface TraceContext__Output {
  'parent': (_flow_TraceParent__Output | null);
}
