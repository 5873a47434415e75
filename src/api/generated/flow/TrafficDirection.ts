// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

export const TrafficDirection = {
  TRAFFIC_DIRECTION_UNKNOWN: 'TRAFFIC_DIRECTION_UNKNOWN',
  INGRESS: 'INGRESS',
  EGRESS: 'EGRESS',
} as const;

export type TrafficDirection =
  | 'TRAFFIC_DIRECTION_UNKNOWN'
  | 0
  | 'INGRESS'
  | 1
  | 'EGRESS'
  | 2

export type TrafficDirection__Output = typeof TrafficDirection[keyof typeof TrafficDirection]
