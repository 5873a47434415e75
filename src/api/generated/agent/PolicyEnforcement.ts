// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * Whether policy is enforced on an endpoint, per direction.
 */
export interface PolicyEnforcement {
  'ingress'?: (boolean);
  'egress'?: (boolean);
  'audit'?: (boolean);
  'ingressDefaultDeny'?: (boolean);
  'egressDefaultDeny'?: (boolean);
}

/**
 * Whether policy is enforced on an endpoint, per direction.
 */
export interface PolicyEnforcement__Output {
  'ingress': (boolean);
  'egress': (boolean);
  'audit': (boolean);
  'ingressDefaultDeny': (boolean);
  'egressDefaultDeny': (boolean);
}
