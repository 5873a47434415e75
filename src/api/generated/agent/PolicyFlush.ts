// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * The last flush of policy into the policy map.
 */
export interface PolicyFlush {
  /**
   * RFC 3339.
   */
  'at'?: (string);
  'ms'?: (number | string);
  /**
   * CPU time of the flush; -1 when not measured (a flush on the DNS proxy's answer path).
   */
  'cpuMs'?: (number | string);
  'endpoints'?: (number);
  'upserts'?: (number);
  'deletes'?: (number);
}

/**
 * The last flush of policy into the policy map.
 */
export interface PolicyFlush__Output {
  /**
   * RFC 3339.
   */
  'at': (string);
  'ms': (number);
  /**
   * CPU time of the flush; -1 when not measured (a flush on the DNS proxy's answer path).
   */
  'cpuMs': (number);
  'endpoints': (number);
  'upserts': (number);
  'deletes': (number);
}
