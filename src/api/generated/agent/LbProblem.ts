// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface LbProblem {
  /**
   * `namespace/name` of the service.
   */
  'service'?: (string);
  /**
   * The field as the apiserver names it.
   */
  'field'?: (string);
  'message'?: (string);
  /**
   * error or warning.
   */
  'severity'?: (string);
  /**
   * BL_ERR_LB_MAP_FULL or BL_ERR_LB_FRONTEND_IDS, for refusals of the node's capacity.
   */
  'code'?: (string);
  '_code'?: "code";
}

export interface LbProblem__Output {
  /**
   * `namespace/name` of the service.
   */
  'service': (string);
  /**
   * The field as the apiserver names it.
   */
  'field': (string);
  'message': (string);
  /**
   * error or warning.
   */
  'severity': (string);
  /**
   * BL_ERR_LB_MAP_FULL or BL_ERR_LB_FRONTEND_IDS, for refusals of the node's capacity.
   */
  'code'?: (string);
  '_code'?: "code";
}
