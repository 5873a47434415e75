// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto


export interface Kafka {
  'error_code'?: (number);
  'api_version'?: (number);
  'api_key'?: (string);
  'correlation_id'?: (number);
  'topic'?: (string);
}

export interface Kafka__Output {
  'error_code': (number);
  'api_version': (number);
  'api_key': (string);
  'correlation_id': (number);
  'topic': (string);
}
