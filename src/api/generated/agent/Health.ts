// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

export const Health = {
  ok: 'ok',
  degraded: 'degraded',
  failed: 'failed',
} as const;

export type Health =
  | 'ok'
  | 0
  | 'degraded'
  | 1
  | 'failed'
  | 2

export type Health__Output = typeof Health[keyof typeof Health]
