/** Shapes of the agent's local API, shared by the agent, the CLI and the lab. */

export type Health = 'ok' | 'degraded' | 'failed';

/** What the lab writes for each node agent (`agent.json`), and `beeline agent --config` reads. */
export interface AgentConfig {
  lab: string;
  node: string;
  nodeIP: string;
  /** Uplink interface inside the node's namespace. */
  uplink: string;
  podCIDR: string;
  clusterPoolCIDR: string;
  routing: 'tunnel' | 'native';
  /** The agent's API socket. */
  socket: string;
  /** Directory on a bpffs where this node's maps are pinned. */
  pinDir: string;
  /** Directory holding the compiled BPF objects. */
  bpfObjectDir: string;
  /** etcd client endpoint, e.g. unix:///run/beeline/labs/demo/etcd/etcd.sock:2379 */
  kvstore: string;
  /** Cilium-style monitor aggregation level name (none, low, medium, maximum). */
  monitorAggregation: string;
}

export interface MapStatus {
  name: string;
  type: string;
  maxEntries: number;
  entries: number;
}

export interface AttachmentStatus {
  iface: string;
  direction: 'ingress' | 'egress';
  program: string;
}

export interface AgentStatus {
  node: string;
  lab: string;
  version: string;
  health: Health;
  uptimeSeconds: number;
  pid: number;
  kvstore: { state: 'ok' | 'unreachable' | 'disabled'; endpoint: string; message?: string };
  datapath: {
    state: 'ok' | 'failed';
    mode: string;
    routing: string;
    message?: string;
    attachments: AttachmentStatus[];
    maps: MapStatus[];
    events: { read: number; lost: number };
  };
  endpoints: { count: number };
}
