// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


/**
 * A party of a trace as the agent resolved it.
 */
export interface TraceParty {
  'identity'?: (number);
  'endpoint'?: (number);
  'pod'?: (string);
  '_endpoint'?: "endpoint";
  '_pod'?: "pod";
}

/**
 * A party of a trace as the agent resolved it.
 */
export interface TraceParty__Output {
  'identity': (number);
  'endpoint'?: (number);
  'pod'?: (string);
  '_endpoint'?: "endpoint";
  '_pod'?: "pod";
}
