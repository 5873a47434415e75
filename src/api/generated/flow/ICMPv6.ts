// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


export interface ICMPv6 {
  'type'?: (number);
  'code'?: (number);
}

export interface ICMPv6__Output {
  'type': (number);
  'code': (number);
}
