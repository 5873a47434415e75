// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface GetIdentityRequest {
  'id'?: (string);
}

export interface GetIdentityRequest__Output {
  'id': (string);
}
