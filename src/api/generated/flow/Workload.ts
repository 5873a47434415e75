// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


export interface Workload {
  'name'?: (string);
  'kind'?: (string);
}

export interface Workload__Output {
  'name': (string);
  'kind': (string);
}
