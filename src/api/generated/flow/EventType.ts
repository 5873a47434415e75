// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

/**
 * Hubble's EventType (perf record kinds).
 */
export const EventType = {
  UNKNOWN: 'UNKNOWN',
  EventSample: 'EventSample',
  RecordLost: 'RecordLost',
} as const;

/**
 * Hubble's EventType (perf record kinds).
 */
export type EventType =
  | 'UNKNOWN'
  | 0
  | 'EventSample'
  | 9
  | 'RecordLost'
  | 2

/**
 * Hubble's EventType (perf record kinds).
 */
export type EventType__Output = typeof EventType[keyof typeof EventType]
