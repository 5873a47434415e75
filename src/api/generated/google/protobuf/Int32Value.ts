// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: null


export interface Int32Value {
  'value'?: (number);
}

export interface Int32Value__Output {
  'value': (number);
}
