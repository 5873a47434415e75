// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


export interface Ethernet {
  'source'?: (string);
  'destination'?: (string);
}

export interface Ethernet__Output {
  'source': (string);
  'destination': (string);
}
