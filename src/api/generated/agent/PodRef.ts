// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface PodRef {
  'namespace'?: (string);
  'name'?: (string);
}

export interface PodRef__Output {
  'namespace': (string);
  'name': (string);
}
