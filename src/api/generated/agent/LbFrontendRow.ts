// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * A frontend as the service maps hold it.
 */
export interface LbFrontendRow {
  'id'?: (number);
  'address'?: (string);
  'port'?: (number);
  /**
   * TCP or UDP.
   */
  'protocol'?: (string);
  'flags'?: (number);
  'affinityTimeout'?: (number);
  /**
   * Backend ids by slot (slot 1 first).
   */
  'backends'?: (number)[];
  /**
   * Maglev frontends: each backend's `address:port/protocol`, parallel to backends.
   */
  'maglevKeys'?: (string)[];
  /**
   * Routed (mesh) frontends (BL_LB_F_L7): the node proxy's mesh listener port.
   */
  'proxyPort'?: (number);
  '_proxyPort'?: "proxyPort";
}

/**
 * A frontend as the service maps hold it.
 */
export interface LbFrontendRow__Output {
  'id': (number);
  'address': (string);
  'port': (number);
  /**
   * TCP or UDP.
   */
  'protocol': (string);
  'flags': (number);
  'affinityTimeout': (number);
  /**
   * Backend ids by slot (slot 1 first).
   */
  'backends': (number)[];
  /**
   * Maglev frontends: each backend's `address:port/protocol`, parallel to backends.
   */
  'maglevKeys': (string)[];
  /**
   * Routed (mesh) frontends (BL_LB_F_L7): the node proxy's mesh listener port.
   */
  'proxyPort'?: (number);
  '_proxyPort'?: "proxyPort";
}
