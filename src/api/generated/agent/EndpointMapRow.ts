// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * An entry of the endpoint map (bl_lxc).
 */
export interface EndpointMapRow {
  'ip'?: (string);
  'id'?: (number);
  'ifindex'?: (number);
  'mac'?: (string);
  'nodeMac'?: (string);
  'identity'?: (number);
  'flags'?: (number);
}

/**
 * An entry of the endpoint map (bl_lxc).
 */
export interface EndpointMapRow__Output {
  'ip': (string);
  'id': (number);
  'ifindex': (number);
  'mac': (string);
  'nodeMac': (string);
  'identity': (number);
  'flags': (number);
}
