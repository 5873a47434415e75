// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

export const AuthType = {
  DISABLED: 'DISABLED',
  SPIRE: 'SPIRE',
  TEST_ALWAYS_FAIL: 'TEST_ALWAYS_FAIL',
} as const;

export type AuthType =
  | 'DISABLED'
  | 0
  | 'SPIRE'
  | 1
  | 'TEST_ALWAYS_FAIL'
  | 2

export type AuthType__Output = typeof AuthType[keyof typeof AuthType]
