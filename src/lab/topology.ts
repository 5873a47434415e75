/**
 * The lab's topology as a pure plan: names of namespaces and links, addresses,
 * CIDRs. `lab up` realises the plan; tests check it without root.
 *
 *   fabric netns: bridge br0 (the physical network between nodes, no address)
 *     ├── veth n<i> ── eth0 in node netns <i>   172.18.0.(10+i)/24
 *     └── veth w0   ── eth0 in world netns      172.18.0.100/24, and the
 *                                               extra world addresses 172.18.0.200-209/24
 *   pods: one netns each, veth to their node (created by the CNI plugin),
 *         addresses from the node's pod CIDR, claimed from 10.0.0.0/16 in /24s
 *   etcd: unix sockets only (no TCP listener), run in the fabric netns
 *   world routes: each node's pod CIDR via that node (the network knows the
 *         pod routes, as native routing needs), the LoadBalancer pool over all
 */
import { UsageError } from '../common/errors.js';

export type RoutingMode = 'tunnel' | 'native';

export interface NodePlan {
  /** Kubernetes node name. */
  name: string;
  index: number;
  netns: string;
  /** Uplink inside the node netns. */
  uplink: string;
  /** Peer end of the uplink, in the fabric netns, enslaved to the bridge. */
  fabricPort: string;
  ip: string;
  prefixLen: number;
}

export type DatapathKind = 'bpf' | 'none';

export interface LabPlan {
  name: string;
  routing: RoutingMode;
  /** 'none' wires the same topology with plain routing and no BPF: the benchmarks' floor. */
  datapath: DatapathKind;
  fabric: { netns: string; bridge: string; cidr: string };
  /**
   * The outside world: `ip` is its address (its DNS server and default servers), `extraIPs` more
   * addresses on the same interface and subnet (on-link for the nodes like `ip`) that the
   * world DNS can hand out for FQDN tests and that servers in the world may bind.
   */
  world: { netns: string; uplink: string; fabricPort: string; ip: string; prefixLen: number; extraIPs: string[] };
  nodes: NodePlan[];
  clusterPoolCIDR: string;
  /** Each node claims a /clusterPoolMaskSize of the pool through the store. */
  clusterPoolMaskSize: number;
  serviceCIDR: string;
  /**
   * Addresses for LoadBalancer Services (Cilium's LB-IPAM pool). The outside
   * world routes them to the nodes (ECMP over every node), whose uplink
   * programs translate them.
   */
  lbPoolCIDR: string;
}

/**
 * The outside world's extra addresses: 172.18.0.200-209 (clear of the nodes, .11-.26, the world's
 * own .100, and .101, which tests add and remove themselves).
 */
export const WORLD_EXTRA_IPS: readonly string[] = Array.from({ length: 10 }, (_, i) => `172.18.0.${200 + i}`);

export const LAB_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/;
export const MAX_NODES = 16;

/** Validates a lab name: short (namespace and interface names derive from it), DNS-label-like. */
export function checkLabName(name: string): void {
  if (!LAB_NAME_RE.test(name)) {
    throw new UsageError(`lab name '${name}' is invalid`, 'use 1-12 characters: lower-case letters, digits and inner dashes');
  }
}

export function planLab(name: string, nodes: number, routing: RoutingMode = 'tunnel', datapath: DatapathKind = 'bpf'): LabPlan {
  checkLabName(name);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new UsageError(`--nodes ${nodes}: must be a whole number from 1 to ${MAX_NODES}`);
  }
  if (routing !== 'tunnel' && routing !== 'native') {
    throw new UsageError(`--routing ${String(routing)}: must be 'tunnel' or 'native'`);
  }
  if (datapath !== 'bpf' && datapath !== 'none') throw new UsageError(`--datapath ${String(datapath)}: must be 'bpf' or 'none'`);
  if (datapath === 'none' && routing !== 'native') {
    throw new UsageError('--datapath none: needs --routing native', 'without BPF there is no tunnel: the floor is plain routing');
  }
  const prefix = `bl-${name}`;
  return {
    name,
    routing,
    datapath,
    fabric: { netns: `${prefix}-fabric`, bridge: 'br0', cidr: '172.18.0.0/24' },
    world: { netns: `${prefix}-world`, uplink: 'eth0', fabricPort: 'w0', ip: '172.18.0.100', prefixLen: 24, extraIPs: [...WORLD_EXTRA_IPS] },
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `node${i + 1}`,
      index: i + 1,
      netns: `${prefix}-node${i + 1}`,
      uplink: 'eth0',
      fabricPort: `n${i + 1}`,
      ip: `172.18.0.${10 + i + 1}`,
      prefixLen: 24,
    })),
    clusterPoolCIDR: '10.0.0.0/16',
    clusterPoolMaskSize: 24,
    serviceCIDR: '10.96.0.0/12',
    lbPoolCIDR: '172.18.1.0/24',
  };
}

/** Which namespace a `lab exec TARGET` means: a node name, `world`, or `fabric`. */
export function resolveTarget(plan: LabPlan, target: string): string {
  if (target === 'world') return plan.world.netns;
  if (target === 'fabric') return plan.fabric.netns;
  const n = plan.nodes.find((x) => x.name === target);
  if (!n) {
    const known = [...plan.nodes.map((x) => x.name), 'world', 'fabric'].join(', ');
    throw new UsageError(`lab ${plan.name}: no node or namespace '${target}'`, `one of: ${known}`);
  }
  return n.netns;
}
