// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/observer/observer.proto

import type { NodeState as _relay_NodeState, NodeState__Output as _relay_NodeState__Output } from '../relay/NodeState.js';
import type { TLS as _observer_TLS, TLS__Output as _observer_TLS__Output } from '../observer/TLS.js';
import type { Long } from '@grpc/proto-loader';

export interface Node {
  'name'?: (string);
  'version'?: (string);
  /**
   * Where the relay reaches the node's Observer (unix:///... or host:port).
   */
  'address'?: (string);
  'state'?: (_relay_NodeState);
  'tls'?: (_observer_TLS | null);
  'uptime_ns'?: (number | string | Long);
  'num_flows'?: (number | string | Long);
  'max_flows'?: (number | string | Long);
  'seen_flows'?: (number | string | Long);
}

export interface Node__Output {
  'name': (string);
  'version': (string);
  /**
   * Where the relay reaches the node's Observer (unix:///... or host:port).
   */
  'address': (string);
  'state': (_relay_NodeState__Output);
  'tls': (_observer_TLS__Output | null);
  'uptime_ns': (string);
  'num_flows': (string);
  'max_flows': (string);
  'seen_flows': (string);
}
