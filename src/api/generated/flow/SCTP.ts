// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


export interface SCTP {
  'source_port'?: (number);
  'destination_port'?: (number);
}

export interface SCTP__Output {
  'source_port': (number);
  'destination_port': (number);
}
