// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface ConntrackGcReply {
  /**
   * Entries deleted.
   */
  'deleted'?: (number);
}

export interface ConntrackGcReply__Output {
  /**
   * Entries deleted.
   */
  'deleted': (number);
}
