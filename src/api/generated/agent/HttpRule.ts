// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * The HTTP route of an rpc.
 */
export interface HttpRule {
  /**
   * GET, PUT, POST or DELETE.
   */
  'method'?: (string);
  /**
   * The path, without the query: `/v1/status`.
   */
  'path'?: (string);
}

/**
 * The HTTP route of an rpc.
 */
export interface HttpRule__Output {
  /**
   * GET, PUT, POST or DELETE.
   */
  'method': (string);
  /**
   * The path, without the query: `/v1/status`.
   */
  'path': (string);
}
