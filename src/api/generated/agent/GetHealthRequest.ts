// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface GetHealthRequest {
}

export interface GetHealthRequest__Output {
}
