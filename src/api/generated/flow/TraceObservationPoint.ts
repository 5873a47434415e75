// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/flow/flow.proto

/**
 * Where a trace event was observed (the datapath's enum bl_trace_point, with
 * TO_LXC moved to 101 as Hubble does).
 */
export const TraceObservationPoint = {
  UNKNOWN_POINT: 'UNKNOWN_POINT',
  TO_PROXY: 'TO_PROXY',
  TO_HOST: 'TO_HOST',
  TO_STACK: 'TO_STACK',
  TO_OVERLAY: 'TO_OVERLAY',
  TO_ENDPOINT: 'TO_ENDPOINT',
  FROM_ENDPOINT: 'FROM_ENDPOINT',
  FROM_PROXY: 'FROM_PROXY',
  FROM_HOST: 'FROM_HOST',
  FROM_STACK: 'FROM_STACK',
  FROM_OVERLAY: 'FROM_OVERLAY',
  FROM_NETWORK: 'FROM_NETWORK',
  TO_NETWORK: 'TO_NETWORK',
  FROM_CRYPTO: 'FROM_CRYPTO',
  TO_CRYPTO: 'TO_CRYPTO',
} as const;

/**
 * Where a trace event was observed (the datapath's enum bl_trace_point, with
 * TO_LXC moved to 101 as Hubble does).
 */
export type TraceObservationPoint =
  | 'UNKNOWN_POINT'
  | 0
  | 'TO_PROXY'
  | 1
  | 'TO_HOST'
  | 2
  | 'TO_STACK'
  | 3
  | 'TO_OVERLAY'
  | 4
  | 'TO_ENDPOINT'
  | 101
  | 'FROM_ENDPOINT'
  | 5
  | 'FROM_PROXY'
  | 6
  | 'FROM_HOST'
  | 7
  | 'FROM_STACK'
  | 8
  | 'FROM_OVERLAY'
  | 9
  | 'FROM_NETWORK'
  | 10
  | 'TO_NETWORK'
  | 11
  | 'FROM_CRYPTO'
  | 12
  | 'TO_CRYPTO'
  | 13

/**
 * Where a trace event was observed (the datapath's enum bl_trace_point, with
 * TO_LXC moved to 101 as Hubble does).
 */
export type TraceObservationPoint__Output = typeof TraceObservationPoint[keyof typeof TraceObservationPoint]
