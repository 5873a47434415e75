// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface EndpointDeleteResult {
  'deleted'?: (boolean);
  'id'?: (number);
  '_id'?: "id";
}

export interface EndpointDeleteResult__Output {
  'deleted': (boolean);
  'id'?: (number);
  '_id'?: "id";
}
