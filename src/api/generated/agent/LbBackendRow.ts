// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * A backend as the backend map holds it.
 */
export interface LbBackendRow {
  'id'?: (number);
  'address'?: (string);
  'port'?: (number);
  /**
   * TCP or UDP.
   */
  'protocol'?: (string);
  /**
   * active or terminating.
   */
  'state'?: (string);
}

/**
 * A backend as the backend map holds it.
 */
export interface LbBackendRow__Output {
  'id': (number);
  'address': (string);
  'port': (number);
  /**
   * TCP or UDP.
   */
  'protocol': (string);
  /**
   * active or terminating.
   */
  'state': (string);
}
