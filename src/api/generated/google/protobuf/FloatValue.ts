// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: null


export interface FloatValue {
  'value'?: (number | string);
}

export interface FloatValue__Output {
  'value': (number);
}
