// Code generated from api/*.proto by scripts/gen-api.mjs. DO NOT EDIT.
// Original file: api/agent/agent.proto


export interface IpamAllocation {
  /**
   * The pod's address (configured as /32 in the pod).
   */
  'ip'?: (string);
  /**
   * The node's pod CIDR the address comes from.
   */
  'podCIDR'?: (string);
  /**
   * The pod's default gateway: the node's router address.
   */
  'gateway'?: (string);
  /**
   * MTU for the pod's interface.
   */
  'mtu'?: (number);
  '_mtu'?: "mtu";
}

export interface IpamAllocation__Output {
  /**
   * The pod's address (configured as /32 in the pod).
   */
  'ip': (string);
  /**
   * The node's pod CIDR the address comes from.
   */
  'podCIDR': (string);
  /**
   * The pod's default gateway: the node's router address.
   */
  'gateway': (string);
  /**
   * MTU for the pod's interface.
   */
  'mtu'?: (number);
  '_mtu'?: "mtu";
}
