// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * Another node of the cluster, as the agent learns it from the store.
 */
export interface RemoteNode {
  'name'?: (string);
  'nodeIP'?: (string);
  'podCIDR'?: (string);
}

/**
 * Another node of the cluster, as the agent learns it from the store.
 */
export interface RemoteNode__Output {
  'name': (string);
  'nodeIP': (string);
  'podCIDR': (string);
}
