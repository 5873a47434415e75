// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: null


export interface StringValue {
  'value'?: (string);
}

export interface StringValue__Output {
  'value': (string);
}
