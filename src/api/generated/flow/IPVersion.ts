// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

export const IPVersion = {
  IP_NOT_USED: 'IP_NOT_USED',
  IPv4: 'IPv4',
  IPv6: 'IPv6',
} as const;

export type IPVersion =
  | 'IP_NOT_USED'
  | 0
  | 'IPv4'
  | 1
  | 'IPv6'
  | 2

export type IPVersion__Output = typeof IPVersion[keyof typeof IPVersion]
