// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface IpamAllocateRequest {
  /**
   * Who holds the address: `<containerID>/<ifname>`; the same owner gets the same address.
   */
  'owner'?: (string);
}

export interface IpamAllocateRequest__Output {
  /**
   * Who holds the address: `<containerID>/<ifname>`; the same owner gets the same address.
   */
  'owner': (string);
}
