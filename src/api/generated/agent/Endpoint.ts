// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { PodRef as _agent_PodRef, PodRef__Output as _agent_PodRef__Output } from '../agent/PodRef.js';

/**
 * One endpoint as the agent reports it (like `cilium endpoint list`).
 */
export interface Endpoint {
  /**
   * Node-local endpoint id, 1..4095.
   */
  'id'?: (number);
  'containerID'?: (string);
  'ifname'?: (string);
  'netns'?: (string);
  'hostIfname'?: (string);
  'hostIfindex'?: (number);
  'ipv4'?: (string);
  'mac'?: (string);
  'hostMac'?: (string);
  'pod'?: (_agent_PodRef | null);
  'labels'?: ({[key: string]: string});
  /**
   * Security identity: reserved:init (5) until the allocator has resolved it.
   */
  'identity'?: (number);
  /**
   * The security-relevant labels the identity stands for, once resolved.
   */
  'identityLabels'?: (string)[];
  /**
   * waiting-for-identity, regenerating, ready or disconnecting.
   */
  'state'?: (string);
  'createdAt'?: (string);
}

/**
 * One endpoint as the agent reports it (like `cilium endpoint list`).
 */
export interface Endpoint__Output {
  /**
   * Node-local endpoint id, 1..4095.
   */
  'id': (number);
  'containerID': (string);
  'ifname': (string);
  'netns': (string);
  'hostIfname': (string);
  'hostIfindex': (number);
  'ipv4': (string);
  'mac': (string);
  'hostMac': (string);
  'pod': (_agent_PodRef__Output | null);
  'labels': ({[key: string]: string});
  /**
   * Security identity: reserved:init (5) until the allocator has resolved it.
   */
  'identity': (number);
  /**
   * The security-relevant labels the identity stands for, once resolved.
   */
  'identityLabels': (string)[];
  /**
   * waiting-for-identity, regenerating, ready or disconnecting.
   */
  'state': (string);
  'createdAt': (string);
}
