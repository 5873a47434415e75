/**
 * The agent's seam for tests without a kernel: a datapath that records what
 * the agent asks of it, a small address pool, and an agent configuration in a
 * temporary directory (src/agent/agent.test.ts, test/privileged/node-watch.test.ts).
 */
import type { CtRow, DatapathInfo, EndpointMapRow, IpcacheRow, MetricRow, NodeDatapath, RemoteNode } from '../../src/agent/datapath.js';
import type { NodeIpam } from '../../src/agent/ipam.js';
import type { AgentConfig, EndpointModel, IpamAllocation } from '../../src/agent/types.js';
import { join } from 'node:path';

/** A datapath that records what the agent asks of it: the agent's seam for tests without a kernel. */
export class FakeDatapath implements NodeDatapath {
  calls: string[] = [];
  lxc = new Map<string, EndpointModel>();
  failNext = false;
  /** What health() reports (status: datapath.state); empty: ok. */
  healthProblems: string[] = [];
  health() {
    return { state: this.healthProblems.length ? ('degraded' as const) : ('ok' as const), problems: this.healthProblems };
  }
  async start() {
    this.calls.push('start');
  }
  info(opts: { countEntries?: boolean } = {}): DatapathInfo {
    return {
      mode: 'fake',
      attachments: [{ iface: 'eth0', direction: 'ingress', program: 'bl_from_netdev' }],
      maps: [{ name: 'bl_metrics', type: 'percpu_hash', maxEntries: 1024, ...(opts.countEntries === false ? {} : { entries: 1 }) }],
      events: { read: 3, lost: 0 },
    };
  }
  eventCounters() {
    return { read: 3, lost: 0 };
  }
  metrics(): MetricRow[] {
    return [{ reason: 0, reasonName: 'Forwarded', direction: 'ingress', packets: 2n ** 40n, bytes: 100n }];
  }
  async upsertEndpoint(ep: EndpointModel) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('attach failed');
    }
    this.calls.push(`upsert ${ep.id} ${ep.ipv4}`);
    this.lxc.set(ep.ipv4, ep);
  }
  async removeEndpoint(ep: EndpointModel, opts: { keepInterface?: boolean } = {}) {
    this.calls.push(`remove ${ep.id}${opts.keepInterface ? ' (interface kept)' : ''}`);
    this.lxc.delete(ep.ipv4);
  }
  /** Remote-node calls with the record: `+node2 172.18.0.12 10.0.2.0/24`, `-node2 …`. */
  nodeCalls: string[] = [];
  async upsertRemoteNode(n: RemoteNode) {
    this.calls.push(`node ${n.name}`);
    this.nodeCalls.push(`+${n.name} ${n.nodeIP} ${n.podCIDR}`);
  }
  async removeRemoteNode(n: RemoteNode) {
    this.calls.push(`-node ${n.name}`);
    this.nodeCalls.push(`-${n.name} ${n.nodeIP} ${n.podCIDR}`);
  }
  endpointMap(): EndpointMapRow[] {
    return [...this.lxc.values()].map((e) => ({ ip: e.ipv4, id: e.id, ifindex: 0, mac: e.mac, nodeMac: e.hostMac, identity: e.identity, flags: 0 }));
  }
  ipcache(): IpcacheRow[] {
    return [];
  }
  ctEntries(): CtRow[] {
    return [];
  }
  ctGarbageCollect() {
    return 0;
  }
  private readonly listeners = new Set<(rec: Buffer) => void>();
  subscribe(listener: (rec: Buffer) => void) {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  /** Hands an event record to the subscribers, as the ring buffer reader does. */
  emit(rec: Buffer) {
    for (const l of this.listeners) l(rec);
  }
  async close() {
    this.calls.push('close');
  }
}

/** An address pool over 10.0.1.0/24 good enough to test the agent's plumbing (the real one is src/ipam). */
export function fakeIpam(podCIDR: string): NodeIpam {
  const owners = new Map<string, string>();
  let next = 2;
  return {
    podCIDR,
    gateway: '10.0.1.1',
    allocate(owner): IpamAllocation {
      if (!owners.has(owner)) owners.set(owner, `10.0.1.${next++}`);
      return { ip: owners.get(owner)!, podCIDR, gateway: '10.0.1.1' };
    },
    allocateSpecific(ip, owner): IpamAllocation {
      const holder = [...owners].find(([, a]) => a === ip)?.[0];
      if (holder !== undefined && holder !== owner) throw new Error(`allocate ${ip} for ${owner}: already held by ${holder}`);
      owners.set(owner, ip);
      return { ip, podCIDR, gateway: '10.0.1.1' };
    },
    entries: () => [...owners].map(([owner, ip]) => ({ ip, owner })),
    lookup: (owner) => owners.get(owner),
    release(owner) {
      const ip = owners.get(owner);
      owners.delete(owner);
      return ip;
    },
    stats: () => ({ used: owners.size, capacity: 253 }),
  };
}

export function agentTestConfig(dir: string): AgentConfig {
  return {
    lab: 't',
    node: 'node1',
    netns: 'bl-t-node1',
    stateDir: dir,
    nodeIP: '172.18.0.11',
    uplink: 'eth0',
    clusterPoolCIDR: '10.0.0.0/16',
    clusterPoolMaskSize: 24,
    cniNetwork: 'beeline',
    routing: 'tunnel',
    socket: join(dir, 'agent.sock'),
    pinDir: join(dir, 'bpf'),
    bpfObjectDir: dir,
    kvstore: '',
    monitorAggregation: 'medium',
    ctMapSize: 65536,
  };
}

export const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never;
