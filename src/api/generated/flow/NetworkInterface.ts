// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


export interface NetworkInterface {
  'index'?: (number);
  'name'?: (string);
}

export interface NetworkInterface__Output {
  'index': (number);
  'name': (string);
}
