// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface Identity {
  'id'?: (number);
  /**
   * `k8s:app=web`, `reserved:host`, …
   */
  'labels'?: (string)[];
}

export interface Identity__Output {
  'id': (number);
  /**
   * `k8s:app=web`, `reserved:host`, …
   */
  'labels': (string)[];
}
