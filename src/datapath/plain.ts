/**
 * The floor for benchmarks: the same lab topology wired with no BPF program
 * at all, as a plain Linux router would do it. The node holds the pods'
 * gateway address (so it answers their ARP for it on every veth, proxy ARP
 * covering the rest), routes each pod's /32 to
 * its veth and other nodes' pod CIDRs via those nodes (native routing).
 * Nothing is observed or tracked; it exists only to be measured against.
 */
import { writeFileSync } from 'node:fs';
import type { CtRow, DatapathInfo, EndpointMapRow, IpcacheRow, MetricRow, NodeDatapath, RemoteNode } from '../agent/datapath.js';
import type { AgentConfig, EndpointModel } from '../agent/types.js';
import { assertMayChangeNetns } from '../common/netns.js';
import { ensureRouterAddress, routeEndpoint, routeNodeCIDR, unrouteEndpoint, unrouteNodeCIDR } from './devices.js';
import { formatIPv4, parseCidr } from '../ipam/cidr.js';

export class PlainDatapath implements NodeDatapath {
  private readonly endpoints = new Map<string, EndpointModel>();
  private readonly nodes = new Map<string, RemoteNode>();

  constructor(private readonly config: AgentConfig) {}

  async start(podCIDR: string): Promise<void> {
    assertMayChangeNetns('plain datapath');
    // Local addresses answer ARP on every interface: the pods' gateway resolves to their veth.
    ensureRouterAddress(formatIPv4(parseCidr(podCIDR, 'podCIDR').base + 1));
  }

  info(): DatapathInfo {
    return { mode: 'none (plain Linux routing, no BPF: benchmark floor)', attachments: [], maps: [], events: { read: 0, lost: 0 } };
  }

  eventCounters(): DatapathInfo['events'] {
    return { read: 0, lost: 0 };
  }

  metrics(): MetricRow[] {
    return [];
  }

  async upsertEndpoint(ep: EndpointModel): Promise<void> {
    // A per-namespace sysctl of this node's own veth (the agent runs in the node namespace).
    writeFileSync(`/proc/sys/net/ipv4/conf/${ep.hostIfname}/proxy_arp`, '1');
    routeEndpoint(ep.ipv4, ep.hostIfname);
    this.endpoints.set(ep.ipv4, ep);
  }

  async removeEndpoint(ep: EndpointModel): Promise<void> {
    unrouteEndpoint(ep.ipv4);
    this.endpoints.delete(ep.ipv4);
  }

  async upsertRemoteNode(node: RemoteNode): Promise<void> {
    routeNodeCIDR(node.podCIDR, node.nodeIP, this.config.uplink);
    this.nodes.set(node.name, node);
  }

  async removeRemoteNode(node: RemoteNode): Promise<void> {
    unrouteNodeCIDR(node.podCIDR);
    this.nodes.delete(node.name);
  }

  endpointMap(): EndpointMapRow[] {
    return [];
  }

  ipcache(): IpcacheRow[] {
    return [];
  }

  ctEntries(): CtRow[] {
    return [];
  }

  ctGarbageCollect(): number {
    return 0;
  }

  subscribe(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {}
}
