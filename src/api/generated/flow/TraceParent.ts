// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


export interface TraceParent {
  'trace_id'?: (string);
}

export interface TraceParent__Output {
  'trace_id': (string);
}
