// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * One learned name of one endpoint (Cilium's fqdn cache entry).
 */
export interface FqdnCacheRow {
  /**
   * The endpoint whose DNS answer taught it.
   */
  'endpoint'?: (number);
  /**
   * "lookup": from a DNS answer, alive for its TTL; "connection": its TTL is over but a connection still uses the address.
   */
  'source'?: (string);
  /**
   * The name, fully qualified (trailing dot).
   */
  'fqdn'?: (string);
  /**
   * The TTL the answer gave (after the configured minimum).
   */
  'ttl'?: (number);
  /**
   * When it expires (RFC 3339).
   */
  'expirationTime'?: (string);
  'ips'?: (string)[];
}

/**
 * One learned name of one endpoint (Cilium's fqdn cache entry).
 */
export interface FqdnCacheRow__Output {
  /**
   * The endpoint whose DNS answer taught it.
   */
  'endpoint': (number);
  /**
   * "lookup": from a DNS answer, alive for its TTL; "connection": its TTL is over but a connection still uses the address.
   */
  'source': (string);
  /**
   * The name, fully qualified (trailing dot).
   */
  'fqdn': (string);
  /**
   * The TTL the answer gave (after the configured minimum).
   */
  'ttl': (number);
  /**
   * When it expires (RFC 3339).
   */
  'expirationTime': (string);
  'ips': (string)[];
}
