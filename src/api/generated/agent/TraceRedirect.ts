// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * Where a trace's deciding entry sends the connection: the node proxy, and the policies whose L7 rules it enforces there.
 */
export interface TraceRedirect {
  'proxyPort'?: (number);
  /**
   * L7 parser (http).
   */
  'parser'?: (string);
  /**
   * Printable origins of the L7 rule sources for the peer on this port.
   */
  'by'?: (string)[];
}

/**
 * Where a trace's deciding entry sends the connection: the node proxy, and the policies whose L7 rules it enforces there.
 */
export interface TraceRedirect__Output {
  'proxyPort': (number);
  /**
   * L7 parser (http).
   */
  'parser': (string);
  /**
   * Printable origins of the L7 rule sources for the peer on this port.
   */
  'by': (string)[];
}
