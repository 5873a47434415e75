/**
 * The one interface between the agent and the datapath. The kernel
 * implementation lives in src/datapath/; tests of agent logic use a fake, so
 * they need no root and no kernel.
 */
import type { BlIpcacheKey } from '../datapath/generated/abi.js';
import type { PolicyDatapath } from '../datapath/policy.js';

export type { PolicyDatapath } from '../datapath/policy.js';
import type { IpcacheMapEntry } from '../identity/ipcache.js';
import type { RemoteNode__Output } from '../api/generated/agent/RemoteNode.js';
import type { AttachmentStatus, EndpointModel, MapStatus } from './types.js';

/** One row of `beeline bpf metrics list`: verdict counters per reason and direction. */
export interface MetricRow {
  /** 0 = forwarded, else a drop reason (Cilium's numbers). */
  reason: number;
  reasonName: string;
  direction: 'ingress' | 'egress' | 'unknown';
  packets: bigint;
  bytes: bigint;
}

/**
 * Whether what the agent put into the kernel is still there as it put it
 * (status: datapath.state): every tc and cgroup program it attached, at the
 * place it attached it, and every pinned map openable with the size it was
 * made with. problems: one line each, empty when ok.
 */
export interface DatapathHealth {
  state: 'ok' | 'degraded';
  problems: string[];
}

export interface DatapathInfo {
  mode: string;
  attachments: AttachmentStatus[];
  maps: MapStatus[];
  events: { read: number; lost: number };
}

/** Another node of the cluster, as the agent learns it from the store (and GET /v1/nodes lists it): the contract's agent.RemoteNode. */
export type RemoteNode = RemoteNode__Output;

/** One connection-tracking entry, as `beeline bpf ct list` shows it. */
export interface CtRow {
  proto: string;
  direction: 'OUT' | 'IN' | 'SERVICE' | 'UNKNOWN';
  src: string;
  dst: string;
  /** Seconds until it expires (negative: expired, waiting for GC). */
  expiresIn: number;
  txPackets: bigint;
  txBytes: bigint;
  rxPackets: bigint;
  rxBytes: bigint;
  txFlagsSeen: number;
  rxFlagsSeen: number;
  flags: string[];
  /** The service a translated connection was sent through (0: none), and for SERVICE entries the backend chosen. */
  revNat: number;
  backendId: number;
}

/** A row of `beeline bpf endpoint list`: what the kernel's endpoint map holds. */
export interface EndpointMapRow {
  ip: string;
  id: number;
  ifindex: number;
  mac: string;
  nodeMac: string;
  identity: number;
  flags: number;
}

/** A frontend as the service maps hold it. */
export interface LbFrontendRow {
  id: number;
  address: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  flags: number;
  affinityTimeout: number;
  /** Backend ids by slot (slot 1 first). */
  backends: number[];
  /** BL_LB_F_L7 frontends (routed Service ports, mesh): the node proxy's mesh listener port, the master entry's backend_id. */
  proxyPort?: number;
  /**
   * BL_LB_F_MAGLEV frontends: each backend's cluster-wide key
   * (`address:port/protocol`), parallel to `backends`; the Maglev table is
   * built from these, so every node's table agrees whatever ids it gave.
   * Absent when read back from the maps.
   */
  maglevKeys?: string[];
}

/** A backend as the backend map holds it. */
export interface LbBackendRow {
  id: number;
  address: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  state: 'active' | 'terminating';
}

/** The service maps: writes touch only the entries of one frontend or backend. */
/** One translation's changes to a node's service maps. */
export interface LbUpdate {
  upsertBackends: LbBackendRow[];
  upsertFrontends: LbFrontendRow[];
  deleteFrontends: Pick<LbFrontendRow, 'address' | 'port' | 'protocol'>[];
  deleteBackends: number[];
}

export interface LbDatapath {
  /**
   * Writes one translation's changes (batched), ordered so the datapath never
   * follows a master entry to a missing slot or a slot to a missing backend.
   */
  apply(u: LbUpdate): void;
  /** max_entries of the service (frontend + slot) map and of the backend map. */
  capacity(): { serviceEntries: number; backendEntries: number; maglevEntries?: number; maglevTableSize?: number };
  /** Reads the maps (for listings). */
  frontends(): LbFrontendRow[];
  backends(): LbBackendRow[];
  /** The frontends the maps hold as this process knows them (read once at start, then tracked): cheap at any size. */
  knownFrontends(): Pick<LbFrontendRow, 'address' | 'port' | 'protocol' | 'id'>[];
  /** Forgets what this process believes the maps hold and reads them again (after they were found to differ: the resync). */
  reload?(): void;
  /** Upserts not written because the maps already held them (a restart's first pass), since start; absent: never skips. */
  readonly skipped?: { frontends: number; backends: number };
}

/** A row of `beeline bpf ipcache list`. */
export interface IpcacheRow {
  prefix: string;
  identity: number;
  tunnelEndpoint: string;
  nodeId: number;
  /** BL_IPCACHE_F_AUTH_REQUIRED (issue 15); absent: false. */
  authRequired?: boolean;
}

export interface NodeDatapath {
  /** Load (or reuse pinned maps), configure for this node's pod CIDR, attach to the node's devices. */
  start(podCIDR: string): Promise<void>;
  /** What runs, its maps and counters; `countEntries: false` leaves the maps' entry counts out (they walk every key). */
  info(opts?: { countEntries?: boolean }): DatapathInfo;
  /** Attachment and map checks (DatapathHealth). Optional: fakes and plain routing have nothing to check. */
  health?(): DatapathHealth;
  /** Events read and lost so far: cheap (no map walks), for per-second use. */
  eventCounters(): DatapathInfo['events'];
  metrics(): MetricRow[];
  /** Program an endpoint: attach to its host veth, write the endpoint map, route it. Idempotent. */
  upsertEndpoint(ep: EndpointModel): Promise<void>;
  /**
   * Undo upsertEndpoint. Idempotent; the veth may already be gone.
   * keepInterface: leave ep.hostIfname's attachments alone (an endpoint refused
   * at restore that names an interface not its own: the uplink, lo, another's veth).
   */
  removeEndpoint(ep: EndpointModel, opts?: { keepInterface?: boolean }): Promise<void>;
  /** Make another node's pod CIDR reachable (ipcache + tunnel or native route). Idempotent. */
  upsertRemoteNode(node: RemoteNode): Promise<void>;
  removeRemoteNode(node: RemoteNode): Promise<void>;
  /**
   * Makes bl_ipcache hold exactly `desired` (toMapEntries), writing only the
   * entries that differ and deleting those not wanted (`reread`: diffed
   * against the map as read now, not what the last sync wrote: the resync). Optional: a datapath
   * without an ipcache map (plain routing, fakes) leaves it out.
   */
  syncIpcache?(desired: readonly IpcacheMapEntry[], opts?: { reread?: boolean }): { upserts: IpcacheMapEntry[]; deletes: BlIpcacheKey[] };
  /** Service load-balancing entries (kube-proxy replacement); optional: the plain datapath has none. */
  lb?: LbDatapath;
  /** L3/L4 policy enforcement; optional: the plain datapath has none. */
  policy?: PolicyDatapath;
  endpointMap(): EndpointMapRow[];
  ipcache(): IpcacheRow[];
  ctEntries(): CtRow[];
  /** Deletes expired conntrack entries; returns how many. */
  ctGarbageCollect(): number;
  /** Raw ring-buffer records (every event starts with bl_notify_hdr); returns an unsubscribe function. */
  subscribe(listener: (record: Buffer) => void): () => void;
  /**
   * Stop (true) or resume (false) reading the event ring buffer: while
   * stopped, the kernel drops what does not fit and counts it (events().lost).
   * The flow observer asks for it when its queue fills. Optional: fakes and
   * plain routing have no ring buffer.
   */
  pauseEvents?(paused: boolean): void;
  /** Detach readers and release handles; pinned maps and tc attachments stay, so traffic keeps flowing across an agent restart. */
  close(): Promise<void>;
}
