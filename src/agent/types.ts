/**
 * Shapes of the agent's local API, shared by the agent, the CLI and the lab.
 * The API's contract is api/agent/agent.proto. Its replies (AgentStatus,
 * IpamAllocation, EndpointDeleteResult, MonitorLine, …) are the generated
 * messages (src/api/generated/agent/), as the agent writes them (`Reply`:
 * sub-messages present), never re-declared by hand. What stays hand-written
 * here is the agent's own model and configuration (EndpointModel, AgentConfig,
 * ObserverConfig) and the requests; src/agent/replies.ts checks EndpointModel
 * and the requests against their messages at compile time, and AgentReplies
 * there names every rpc's reply.
 */
import type { Reply } from '../api/conform.js';
import type { AgentStatus__Output } from '../api/generated/agent/AgentStatus.js';
import type { AttachmentStatus__Output } from '../api/generated/agent/AttachmentStatus.js';
import type { EndpointDeleteResult__Output } from '../api/generated/agent/EndpointDeleteResult.js';
import type { Health__Output } from '../api/generated/agent/Health.js';
import type { IpamAllocation__Output } from '../api/generated/agent/IpamAllocation.js';
import type { MapStatus__Output } from '../api/generated/agent/MapStatus.js';
import type { MonitorLine__Output } from '../api/generated/agent/MonitorLine.js';

/** The agent's health: `ok`, `degraded` or `failed` (contract: agent.Health). */
export type Health = Health__Output;

/** What the lab writes for each node agent (`agent.json`), and `beeline agent --config` reads. */
export interface AgentConfig {
  lab: string;
  node: string;
  /** Name of the node's network namespace (the agent runs in it). */
  netns: string;
  /** Directory for the agent's own state (endpoints, IPAM), kept across restarts. */
  stateDir: string;
  nodeIP: string;
  /** Uplink interface inside the node's namespace. */
  uplink: string;
  /** A fixed pod CIDR for this node; when absent one is claimed from the cluster pool. */
  podCIDR?: string;
  clusterPoolCIDR: string;
  /** Mask size of each node's share of the cluster pool (Cilium's cluster-pool-ipv4-mask-size). */
  clusterPoolMaskSize: number;
  /** Name of the CNI network this agent serves. */
  cniNetwork: string;
  routing: 'tunnel' | 'native';
  /** Native routing: 'bpf' (default) forwards pod egress by FIB lookup and redirect; 'legacy' through the node's stack. */
  hostRouting?: 'bpf' | 'legacy';
  /** 'bpf' (default): the eBPF datapath; 'none': plain Linux routing, the benchmarks' floor. */
  datapath?: 'bpf' | 'none';
  /**
   * Host-netns mode, as on a real node (the DaemonSet runs `beeline agent --host-netns`,
   * which overrides this): the agent runs in the machine's root network namespace and may
   * change it; the CNI plugin works there only beside such an agent in its own namespace.
   * Absent: the root namespace is refused. Nothing in the lab, the tests or the demo sets it
   * (src/lab/host-netns.test.ts fails when something does): there a node namespace plays the
   * host's, through the same code path.
   */
  hostNetns?: boolean;
  /** The agent's API socket. */
  socket: string;
  /** Directory on a bpffs where this node's maps are pinned. */
  pinDir: string;
  /** Directory holding the compiled BPF objects. */
  bpfObjectDir: string;
  /** etcd client endpoint, e.g. unix:///run/beeline/labs/demo/etcd/etcd.sock:2379 */
  kvstore: string;
  /**
   * Kubernetes mode: the kubeconfig of the API server the agent watches
   * (Pods, Services, policies, …) and keeps its shared state in (beeline's
   * CRDs: identities, endpoints, nodes), instead of the kvstore;
   * `in-cluster`: the pod's service account. Exclusive with `kvstore`.
   * src/agent/cluster.ts.
   */
  k8sKubeconfig?: string;
  /**
   * Where the node's pod CIDR comes from in Kubernetes mode (Cilium's
   * `ipam`): `kubernetes` (default) the Node's spec.podCIDR, `cluster-pool`
   * the BeelineNode's spec.ipam.podCIDRs, handed out by the operator.
   * kvstore mode always claims from the cluster pool.
   */
  ipam?: 'kubernetes' | 'cluster-pool';
  /** Cilium-style monitor aggregation level name (none, low, medium, maximum). */
  monitorAggregation: string;
  /** How often the datapath maps are compared with the model and drift repaired (ms; default 30 s, 0: never). src/agent/resync.ts. */
  resyncIntervalMs?: number;
  /** Size of the connection-tracking map (Cilium's bpf-ct-global-tcp-max). */
  ctMapSize: number;
  /**
   * Entries of each load-balancing map (Cilium's bpf-lb-map-max): frontend
   * slots, backends, affinity, NAT. Default 65536; the reverse-NAT map is
   * keyed by a 16-bit id and stays at 65536.
   */
  lbMapSize?: number;
  /**
   * M, the slots of every Maglev table (Cilium's bpf-lb-maglev-table-size):
   * one of MAGLEV_TABLE_SIZES (src/service/maglev.ts); default 16381. Every
   * node of a cluster must use the same M, or nodes disagree on backends.
   */
  maglevTableSize?: number;
  /** Entries of the policy map, all endpoints together; default 1 << 18. */
  policyMapSize?: number;
  /** Entries one endpoint may have in the policy map (Cilium's bpf-policy-map-max); default 16384. */
  policyMapMax?: number;
  /** Cilium's enable-policy: `default` (enforce when a policy selects the endpoint), `always`, `never`. */
  policyEnforcement?: 'default' | 'always' | 'never';
  /** Cilium's policy-audit-mode: what policy would drop passes and is reported as audit. */
  policyAuditMode?: boolean;
  /** The cluster-wide backend selection (Cilium's bpf-lb-algorithm); default `random`. Services may override it with the lb-algorithm annotation. */
  lbAlgorithm?: 'random' | 'maglev';
  /**
   * Socket-level load balancing (kube-proxy replacement): the cgroup v2
   * directory holding every process of this node (its pods included), where
   * the connect/sendmsg/recvmsg/getpeername hooks attach. Absent: Services
   * are programmed into the maps, no socket hook translates them.
   */
  socketLB?: { cgroup: string };
  /** LoadBalancer ingress addresses outside this CIDR are not programmed (LB-IPAM pool); absent: any. */
  lbPoolCIDR?: string;
  /** Flow observation (Hubble's options); absent: on, with the defaults below. */
  observer?: ObserverConfig;
  /**
   * The node's L7 proxy (HAProxy, its own supervised process): HTTP rules of
   * ingress policy are redirected to it. Absent: no proxy; HTTP rules are
   * enforced as their L4 part (a note at apply).
   */
  proxy?: NodeProxyConfig;
  /**
   * The node's DNS proxy, in the agent (DNS rules, toFQDNs learning). Absent:
   * DNS rules are enforced as their L4 part and toFQDNs selects nothing (a note at apply).
   */
  dnsProxy?: DnsProxyConfig;
  /** The node's Kafka proxy, in the agent (Kafka rules). Absent: Kafka rules are enforced as their L4 part. */
  kafkaProxy?: KafkaProxyConfig;
}

/** The DNS proxy's options (Cilium's tofqdns-* options). */
export interface DnsProxyConfig {
  /** Its transparent UDP socket and TCP listener, in the node's namespace (Cilium's tofqdns-proxy-port). */
  port: number;
  /** Seconds a learned address is kept at least, whatever the answer's TTL (Cilium's tofqdns-min-ttl); default 0. */
  minTtlSeconds?: number;
  /** How long an upstream DNS server may take to answer (ms); default 5000. */
  upstreamTimeoutMs?: number;
  /** How often expired names are collected (ms); default 1000. */
  gcIntervalMs?: number;
}

/** The Kafka proxy's transparent listeners, in the node's namespace. */
export interface KafkaProxyConfig {
  /** For ingress redirects (Kafka rules of a broker's ingress policy, at the broker's node). */
  ingressPort: number;
  /** For egress redirects (Kafka rules of a client's egress policy); absent: egress Kafka rules stay L4. */
  egressPort?: number;
}

/** The agent's flow observer: the Observer gRPC API, metrics and flow history. */
export interface ObserverConfig {
  /** false: no flows at all (the datapath still emits events for `monitor`). Default true. */
  enabled?: boolean;
  /** The Observer API on a unix socket (Hubble's hubble-socket-path); default `observer.sock` beside the agent's socket. */
  socket?: string;
  /** The Observer API on TCP inside the node's namespace (Hubble's hubble-listen-address, :4244); absent: none. */
  listen?: string;
  /** Flows the ring keeps (Hubble's hubble-event-buffer-capacity); default 4095. */
  ringSize?: number;
  /** Records waiting to be decoded (Hubble's hubble-event-queue-size); default 16384. */
  queueSize?: number;
  /** Prometheus metrics (Hubble's hubble-metrics-server and hubble-metrics). */
  metrics?: { listen?: string; socket?: string; families?: string[] };
  /** Flow history: every flow to rotated JSON-lines files (Hubble's hubble-export-file-*). */
  export?: { path: string; maxSizeBytes?: number; maxBackups?: number; allowlist?: unknown[]; denylist?: unknown[] };
}

/**
 * A BPF map in GET /v1/status: name, type, max entries, and `entries`
 * (absent when the caller asked for none, GET /v1/status?maps=0: counting
 * walks every key of the map). Contract: agent.MapStatus.
 */
export type MapStatus = Reply<MapStatus__Output>;

/** A program attached to an interface, in GET /v1/status (contract: agent.AttachmentStatus). */
export type AttachmentStatus = Reply<AttachmentStatus__Output>;

/**
 * GET /v1/status: the node, its pod CIDR and CNI network, IPAM, kvstore,
 * datapath (attachments, maps, events), endpoint and node counts
 * (contract: agent.AgentStatus).
 */
export type AgentStatus = Reply<AgentStatus__Output>;

// ---- IPAM (the CNI plugin asks the agent, like Cilium's POST /ipam) ----

/** POST /v1/ipam/allocate */
export interface IpamAllocateRequest {
  /** Who holds the address: `<containerID>/<ifname>`. Allocating again for the same owner returns the same address. */
  owner: string;
  /** Exactly this address (CNI_ARGS IP=, the `ips` capability): given when in the pod CIDR and free, else refused naming why. */
  ip?: string;
}

/**
 * Answer to POST /v1/ipam/allocate: the pod's address `ip` (e.g. 10.0.1.5,
 * configured as /32 in the pod), the node's `podCIDR` it comes from, the
 * pod's default `gateway` (the node's router address, first of the pod
 * CIDR), and `mtu` for the pod's interface (the uplink's, less the tunnel
 * overhead in tunnel mode). Contract: agent.IpamAllocation.
 */
export type IpamAllocation = Reply<IpamAllocation__Output>;

/** POST /v1/ipam/release — idempotent */
export interface IpamReleaseRequest {
  owner: string;
}

// ---- Endpoints (the CNI plugin registers what it made; the agent programs the datapath) ----

/** PUT /v1/endpoints: the CNI plugin has created the veth pair and configured the pod side. */
export interface EndpointCreateRequest {
  containerID: string;
  /** Interface name inside the pod (CNI_IFNAME), usually eth0. */
  ifname: string;
  /** Path of the pod's network namespace (CNI_NETNS). */
  netns: string;
  /** Host-side veth in the node namespace, e.g. lxc1a2b3c4d5e6. */
  hostIfname: string;
  ipv4: string;
  /** MAC of the pod's interface. */
  mac: string;
  /** MAC of the host-side veth: the pod's gateway answers ARP with it. */
  hostMac: string;
  /** Kubernetes identity of the pod, when the runtime passes it (CNI_ARGS K8S_POD_*). */
  pod?: { namespace: string; name: string };
  labels?: Record<string, string>;
}

export type EndpointState = 'waiting-for-identity' | 'regenerating' | 'ready' | 'disconnecting';

/** One endpoint as the agent reports it (GET /v1/endpoints, like `cilium endpoint list`; contract: agent.Endpoint). */
export interface EndpointModel {
  /** Node-local endpoint id, 1..4095 (Cilium's endpoint ids). */
  id: number;
  containerID: string;
  ifname: string;
  netns: string;
  hostIfname: string;
  hostIfindex: number;
  ipv4: string;
  mac: string;
  hostMac: string;
  pod?: { namespace: string; name: string };
  labels: Record<string, string>;
  /**
   * Security identity: reserved:init (5) until the identity allocator has
   * given the endpoint the number of its security labels.
   */
  identity: number;
  /** The security-relevant labels the identity stands for (`k8s:app=web`, …), once resolved. */
  identityLabels?: string[];
  state: EndpointState;
  createdAt: string;
}

/** DELETE /v1/endpoints?containerID=…&ifname=… (idempotent): `deleted`, and the endpoint's `id` when there was one (contract: agent.EndpointDeleteResult). */
export type EndpointDeleteResult = Reply<EndpointDeleteResult__Output>;

/**
 * GET /v1/monitor streams NDJSON, one line per datapath event, written as the
 * ring buffer delivers them: `data`, base64 of the raw event bytes as read
 * from bl_events (decode with the generated codecs; every event starts with
 * struct bl_notify_hdr), plus the `node` name. A line `{"lost": N}` reports
 * events the kernel could not queue since the last one. Contract: agent.MonitorLine.
 */
export type MonitorLine = Reply<MonitorLine__Output>;

/** The agent's configuration of the node proxy (AgentConfig.proxy). */
export interface NodeProxyConfig {
  /** Directory of the generated configuration and its files (the proxy reads them). */
  stateDir: string;
  /** The proxy's master CLI socket (`haproxy -W -S <socket>`), for reloads. */
  masterSocket: string;
  /** The transparent HTTP listener for ingress redirects, in the node's namespace. */
  ingressPort: number;
  /** The transparent HTTP listener for egress redirects (absent: egress HTTP rules stay L4, with a warning). */
  egressPort?: number;
  /** TCP port on the node's loopback where the proxy forwards its access records (the agent listens). */
  accessLogPort: number;
  /** Issue 15: the transparent HTTP listener for routed Services (GAMMA HTTPRoutes); absent: routes are not applied (warning). */
  meshPort?: number;
  /** Issue 15: the transparent TCP listener taking connections to endpoints whose ingress requires mutual authentication (client side of mTLS). */
  mtlsOutPort?: number;
  /** Issue 15: the TLS 1.3 listener on the node's address where other nodes' proxies bring authenticated connections (server side of mTLS). */
  mtlsInPort?: number;
}
