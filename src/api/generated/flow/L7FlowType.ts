// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

export const L7FlowType = {
  UNKNOWN_L7_TYPE: 'UNKNOWN_L7_TYPE',
  REQUEST: 'REQUEST',
  RESPONSE: 'RESPONSE',
  SAMPLE: 'SAMPLE',
} as const;

export type L7FlowType =
  | 'UNKNOWN_L7_TYPE'
  | 0
  | 'REQUEST'
  | 1
  | 'RESPONSE'
  | 2
  | 'SAMPLE'
  | 3

export type L7FlowType__Output = typeof L7FlowType[keyof typeof L7FlowType]
