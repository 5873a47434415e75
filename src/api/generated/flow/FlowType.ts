// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

export const FlowType = {
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  L3_L4: 'L3_L4',
  L7: 'L7',
  SOCK: 'SOCK',
} as const;

export type FlowType =
  | 'UNKNOWN_TYPE'
  | 0
  | 'L3_L4'
  | 1
  | 'L7'
  | 2
  | 'SOCK'
  | 3

export type FlowType__Output = typeof FlowType[keyof typeof FlowType]
