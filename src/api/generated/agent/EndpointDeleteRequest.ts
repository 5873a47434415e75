// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface EndpointDeleteRequest {
  'containerID'?: (string);
  /**
   * Default eth0.
   */
  'ifname'?: (string);
}

export interface EndpointDeleteRequest__Output {
  'containerID': (string);
  /**
   * Default eth0.
   */
  'ifname': (string);
}
