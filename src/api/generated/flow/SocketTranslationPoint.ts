// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

export const SocketTranslationPoint = {
  SOCK_XLATE_POINT_UNKNOWN: 'SOCK_XLATE_POINT_UNKNOWN',
  SOCK_XLATE_POINT_PRE_DIRECTION_FWD: 'SOCK_XLATE_POINT_PRE_DIRECTION_FWD',
  SOCK_XLATE_POINT_POST_DIRECTION_FWD: 'SOCK_XLATE_POINT_POST_DIRECTION_FWD',
  SOCK_XLATE_POINT_PRE_DIRECTION_REV: 'SOCK_XLATE_POINT_PRE_DIRECTION_REV',
  SOCK_XLATE_POINT_POST_DIRECTION_REV: 'SOCK_XLATE_POINT_POST_DIRECTION_REV',
} as const;

export type SocketTranslationPoint =
  | 'SOCK_XLATE_POINT_UNKNOWN'
  | 0
  | 'SOCK_XLATE_POINT_PRE_DIRECTION_FWD'
  | 1
  | 'SOCK_XLATE_POINT_POST_DIRECTION_FWD'
  | 2
  | 'SOCK_XLATE_POINT_PRE_DIRECTION_REV'
  | 3
  | 'SOCK_XLATE_POINT_POST_DIRECTION_REV'
  | 4

export type SocketTranslationPoint__Output = typeof SocketTranslationPoint[keyof typeof SocketTranslationPoint]
