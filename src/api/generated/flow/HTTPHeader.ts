// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


export interface HTTPHeader {
  'key'?: (string);
  'value'?: (string);
}

export interface HTTPHeader__Output {
  'key': (string);
  'value': (string);
}
