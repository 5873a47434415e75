// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/ui/ui.proto


export interface ParseFilterRequest {
  'text'?: (string);
}

export interface ParseFilterRequest__Output {
  'text': (string);
}
