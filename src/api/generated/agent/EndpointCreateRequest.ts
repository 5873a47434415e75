// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { PodRef as _agent_PodRef, PodRef__Output as _agent_PodRef__Output } from '../agent/PodRef.js';

export interface EndpointCreateRequest {
  'containerID'?: (string);
  /**
   * Interface name inside the pod (CNI_IFNAME).
   */
  'ifname'?: (string);
  /**
   * Path of the pod's network namespace (CNI_NETNS).
   */
  'netns'?: (string);
  /**
   * Host-side veth in the node namespace.
   */
  'hostIfname'?: (string);
  'ipv4'?: (string);
  'mac'?: (string);
  'hostMac'?: (string);
  'pod'?: (_agent_PodRef | null);
  'labels'?: ({[key: string]: string});
}

export interface EndpointCreateRequest__Output {
  'containerID': (string);
  /**
   * Interface name inside the pod (CNI_IFNAME).
   */
  'ifname': (string);
  /**
   * Path of the pod's network namespace (CNI_NETNS).
   */
  'netns': (string);
  /**
   * Host-side veth in the node namespace.
   */
  'hostIfname': (string);
  'ipv4': (string);
  'mac': (string);
  'hostMac': (string);
  'pod': (_agent_PodRef__Output | null);
  'labels': ({[key: string]: string});
}
