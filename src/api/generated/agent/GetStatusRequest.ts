// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface GetStatusRequest {
  /**
   * `0`: no map entry counts (counting walks every key of the map), for
   * callers that ask often: the CNI plugin, the kubelet's heartbeat.
   */
  'maps'?: (string);
}

export interface GetStatusRequest__Output {
  /**
   * `0`: no map entry counts (counting walks every key of the map), for
   * callers that ask often: the CNI plugin, the kubelet's heartbeat.
   */
  'maps': (string);
}
