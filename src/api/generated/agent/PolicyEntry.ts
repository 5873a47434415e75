// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * An entry of an endpoint's policy, as the engine computes it.
 */
export interface PolicyEntry {
  'direction'?: (string);
  'identity'?: (number);
  'protocol'?: (number);
  'port'?: (number);
  'portPrefixLen'?: (number);
  'verdict'?: (string);
  'cookie'?: (number);
  /**
   * The node proxy's listener port an allow redirects to (L7 rules); 0: no redirect.
   */
  'proxyPort'?: (number);
  /**
   * An allow that requires mutual authentication (authentication.mode required); absent: false.
   */
  'authRequired'?: (boolean);
  '_authRequired'?: "authRequired";
}

/**
 * An entry of an endpoint's policy, as the engine computes it.
 */
export interface PolicyEntry__Output {
  'direction': (string);
  'identity': (number);
  'protocol': (number);
  'port': (number);
  'portPrefixLen': (number);
  'verdict': (string);
  'cookie': (number);
  /**
   * The node proxy's listener port an allow redirects to (L7 rules); 0: no redirect.
   */
  'proxyPort': (number);
  /**
   * An allow that requires mutual authentication (authentication.mode required); absent: false.
   */
  'authRequired'?: (boolean);
  '_authRequired'?: "authRequired";
}
