// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface IpamAllocateRequest {
  /**
   * Who holds the address: `<containerID>/<ifname>`; the same owner gets the same address.
   */
  'owner'?: (string);
  /**
   * Exactly this address (the runtime asked for it: CNI_ARGS IP=, the `ips` capability): given
   * when it is in the pod CIDR and free (or already the owner's), else refused naming it and why
   * (BL_ERR_IPAM_INVALID or BL_ERR_IPAM_CONFLICT; the CNI plugin's code 106). Absent: any free address.
   */
  'ip'?: (string);
  '_ip'?: "ip";
}

export interface IpamAllocateRequest__Output {
  /**
   * Who holds the address: `<containerID>/<ifname>`; the same owner gets the same address.
   */
  'owner': (string);
  /**
   * Exactly this address (the runtime asked for it: CNI_ARGS IP=, the `ips` capability): given
   * when it is in the pod CIDR and free (or already the owner's), else refused naming it and why
   * (BL_ERR_IPAM_INVALID or BL_ERR_IPAM_CONFLICT; the CNI plugin's code 106). Absent: any free address.
   */
  'ip'?: (string);
  '_ip'?: "ip";
}
