// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/observer/observer.proto


export interface GetNodesRequest {
}

export interface GetNodesRequest__Output {
}
