// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/observer/observer.proto


export interface ServerStatusRequest {
}

export interface ServerStatusRequest__Output {
}
