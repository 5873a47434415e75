// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface IdentityReference {
  'node'?: (string);
  'id'?: (number);
  /**
   * Endpoints counted by the node's allocator (its ref key exists while above zero).
   */
  'references'?: (number);
  /**
   * Endpoints of the node that have the identity.
   */
  'endpoints'?: (number);
}

export interface IdentityReference__Output {
  'node': (string);
  'id': (number);
  /**
   * Endpoints counted by the node's allocator (its ref key exists while above zero).
   */
  'references': (number);
  /**
   * Endpoints of the node that have the identity.
   */
  'endpoints': (number);
}
