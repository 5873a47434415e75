// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface GetPolicyCookiesRequest {
  /**
   * Comma-separated policy map cookies.
   */
  'cookies'?: (string);
}

export interface GetPolicyCookiesRequest__Output {
  /**
   * Comma-separated policy map cookies.
   */
  'cookies': (string);
}
