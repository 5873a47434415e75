// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface IpamReleaseRequest {
  'owner'?: (string);
}

export interface IpamReleaseRequest__Output {
  'owner': (string);
}
