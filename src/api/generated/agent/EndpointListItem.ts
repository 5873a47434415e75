// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto

import type { PodRef as _agent_PodRef, PodRef__Output as _agent_PodRef__Output } from '../agent/PodRef.js';
import type { PolicyEnforcement as _agent_PolicyEnforcement, PolicyEnforcement__Output as _agent_PolicyEnforcement__Output } from '../agent/PolicyEnforcement.js';

/**
 * An endpoint in the list: the endpoint and its enforcement.
 */
export interface EndpointListItem {
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
  'identity'?: (number);
  'identityLabels'?: (string)[];
  'state'?: (string);
  'createdAt'?: (string);
  'policyEnforcement'?: (_agent_PolicyEnforcement | null);
}

/**
 * An endpoint in the list: the endpoint and its enforcement.
 */
export interface EndpointListItem__Output {
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
  'identity': (number);
  'identityLabels': (string)[];
  'state': (string);
  'createdAt': (string);
  'policyEnforcement': (_agent_PolicyEnforcement__Output | null);
}
