// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * Time from a DNS answer arriving to its addresses being in the policy maps and the ipcache (ms).
 */
export interface _agent_DnsProxyStatus_Latency {
  'count'?: (number);
  'p50Ms'?: (number | string);
  'p99Ms'?: (number | string);
  'maxMs'?: (number | string);
}

/**
 * Time from a DNS answer arriving to its addresses being in the policy maps and the ipcache (ms).
 */
export interface _agent_DnsProxyStatus_Latency__Output {
  'count': (number);
  'p50Ms': (number);
  'p99Ms': (number);
  'maxMs': (number);
}

/**
 * The in-agent DNS proxy's counters since the agent started.
 */
export interface DnsProxyStatus {
  'port'?: (number);
  /**
   * Queries taken, answered REFUSED by policy, forwarded, and answered with an error (FORMERR, SERVFAIL) or dropped as malformed.
   */
  'queries'?: (number | string);
  'refused'?: (number | string);
  'forwarded'?: (number | string);
  'errors'?: (number | string);
  /**
   * Answers whose addresses were learned, and how long learning held them.
   */
  'learn'?: (_agent_DnsProxyStatus_Latency | null);
  /**
   * The FQDN cache: names and addresses it holds.
   */
  'names'?: (number);
  'ips'?: (number);
}

/**
 * The in-agent DNS proxy's counters since the agent started.
 */
export interface DnsProxyStatus__Output {
  'port': (number);
  /**
   * Queries taken, answered REFUSED by policy, forwarded, and answered with an error (FORMERR, SERVFAIL) or dropped as malformed.
   */
  'queries': (number);
  'refused': (number);
  'forwarded': (number);
  'errors': (number);
  /**
   * Answers whose addresses were learned, and how long learning held them.
   */
  'learn': (_agent_DnsProxyStatus_Latency__Output | null);
  /**
   * The FQDN cache: names and addresses it holds.
   */
  'names': (number);
  'ips': (number);
}
