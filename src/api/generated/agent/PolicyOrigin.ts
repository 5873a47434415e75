// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * Where a policy map entry came from: a policy object, or a built-in rule.
 */
export interface PolicyOrigin {
  /**
   * CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy or Builtin.
   */
  'kind'?: (string);
  'namespace'?: (string);
  'name'?: (string);
  '_namespace'?: "namespace";
}

/**
 * Where a policy map entry came from: a policy object, or a built-in rule.
 */
export interface PolicyOrigin__Output {
  /**
   * CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy or Builtin.
   */
  'kind': (string);
  'namespace'?: (string);
  'name': (string);
  '_namespace'?: "namespace";
}
