// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface ListBpfPolicyRequest {
  /**
   * Only this endpoint's entries (default: all).
   */
  'endpoint'?: (string);
}

export interface ListBpfPolicyRequest__Output {
  /**
   * Only this endpoint's entries (default: all).
   */
  'endpoint': (string);
}
