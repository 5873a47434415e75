// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * A policy, or a part of one, that was refused (src/policy/types.ts).
 */
export interface PolicyProblem {
  /**
   * error or warning.
   */
  'severity'?: (string);
  /**
   * The policy's printable origin, e.g. `CiliumNetworkPolicy/ns/name`.
   */
  'policy'?: (string);
  /**
   * Field path in the object, e.g. `spec.ingress[0].toPorts[0].ports[0].endPort`.
   */
  'path'?: (string);
  'message'?: (string);
}

/**
 * A policy, or a part of one, that was refused (src/policy/types.ts).
 */
export interface PolicyProblem__Output {
  /**
   * error or warning.
   */
  'severity': (string);
  /**
   * The policy's printable origin, e.g. `CiliumNetworkPolicy/ns/name`.
   */
  'policy': (string);
  /**
   * Field path in the object, e.g. `spec.ingress[0].toPorts[0].ports[0].endPort`.
   */
  'path': (string);
  'message': (string);
}
