// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto


export interface GetConfigRequest {
}

export interface GetConfigRequest__Output {
}
