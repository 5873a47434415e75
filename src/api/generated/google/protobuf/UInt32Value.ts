// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: null


export interface UInt32Value {
  'value'?: (number);
}

export interface UInt32Value__Output {
  'value': (number);
}
