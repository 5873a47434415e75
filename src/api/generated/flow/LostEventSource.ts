// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

/**
 * Where events were lost.
 */
export const LostEventSource = {
  UNKNOWN_LOST_EVENT_SOURCE: 'UNKNOWN_LOST_EVENT_SOURCE',
  /**
   * The kernel's ring buffer was full: the agent did not read fast enough.
   */
  PERF_EVENT_RING_BUFFER: 'PERF_EVENT_RING_BUFFER',
  /**
   * The decode queue between the reader and the flow pipeline was full.
   */
  OBSERVER_EVENTS_QUEUE: 'OBSERVER_EVENTS_QUEUE',
  /**
   * The flow ring wrapped before a (slow) subscriber read these flows.
   */
  HUBBLE_RING_BUFFER: 'HUBBLE_RING_BUFFER',
} as const;

/**
 * Where events were lost.
 */
export type LostEventSource =
  | 'UNKNOWN_LOST_EVENT_SOURCE'
  | 0
  /**
   * The kernel's ring buffer was full: the agent did not read fast enough.
   */
  | 'PERF_EVENT_RING_BUFFER'
  | 1
  /**
   * The decode queue between the reader and the flow pipeline was full.
   */
  | 'OBSERVER_EVENTS_QUEUE'
  | 2
  /**
   * The flow ring wrapped before a (slow) subscriber read these flows.
   */
  | 'HUBBLE_RING_BUFFER'
  | 3

/**
 * Where events were lost.
 */
export type LostEventSource__Output = typeof LostEventSource[keyof typeof LostEventSource]
