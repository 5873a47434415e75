/**
 * The kernel implementation of the agent's NodeDatapath. Three objects share
 * one set of maps pinned under the node's bpffs directory (libbpf reuses a
 * pinned map by name), so an agent restart reuses them and tc filters are
 * replaced in place: traffic keeps flowing while the agent is away.
 *
 *   host.bpf.o     bl_from_netdev / bl_to_netdev     on the uplink (eth0)
 *   overlay.bpf.o  bl_from_overlay / bl_to_overlay   on bl_vxlan (tunnel mode)
 *   lxc.bpf.o      bl_from_container / bl_to_container on every pod's host veth
 */
import { mkdirSync } from 'node:fs';
import { hostNetnsEnabled } from '../common/netns.js';
import { join } from 'node:path';
import type { CtRow, DatapathHealth, DatapathInfo, EndpointMapRow, IpcacheRow, MetricRow, NodeDatapath, RemoteNode } from '../agent/datapath.js';
import type { AgentConfig, AttachmentStatus, EndpointModel, MapStatus } from '../agent/types.js';
import { UsageError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { formatIPv4, parseCidr, parseIPv4 } from '../ipam/cidr.js';
import { diffMapEntries, type IpcacheMapEntry } from '../identity/ipcache.js';
import { ReservedIdentity } from '../identity/reserved.js';
import {
  BL_CT4_KEY_CODEC,
  BL_CT_ENTRY_CODEC,
  BL_DATAPATH_CONFIG_CODEC,
  BL_ENDPOINT_INFO_CODEC,
  BL_ENDPOINT_KEY_CODEC,
  BL_IPCACHE_KEY_CODEC,
  BL_METRICS_KEY_CODEC,
  BL_METRICS_VALUE_CODEC,
  BL_REMOTE_ENDPOINT_INFO_CODEC,
  BPF_OBJECTS,
  BlConfigFlags,
  BlIpcacheFlags,
  BlCtEntryFlags,
  BlCtTupleFlags,
  BlDirection,
  BlRoutingMode,
  BlTraceAggregation,
  U32_CODEC,
  U64_CODEC,
  type BlCt4Key,
  type BlCtEntry,
  type BlEndpointInfo,
  type BlEndpointKey,
  type BlIpcacheKey,
  type BlMetricsKey,
  type BlMetricsValue,
  type BlRemoteEndpointInfo,
} from './generated/abi.js';
import { Datapath, cgroupAttached, pinnedMapProblem, type CgroupAttachment, type TcAttachment } from './loader.js';
import { KernelLb } from './lb.js';
import { DEFAULT_POLICY_MAP_MAX, DEFAULT_POLICY_MAP_SIZE, KernelPolicy, type PolicyMapConfig } from './policy.js';
import { DEFAULT_MAGLEV_TABLE_SIZE, checkMaglevTableSize } from '../service/maglev.js';
import type { PerCpuMap, TypedMap } from './maps.js';
import { ifIndex } from './native/libbpf.js';
import { netnsCookie } from './native/sockets.js';
import { requireFeatures } from './probes.js';
import { dropReasonText } from '../observer/reasons.js';
import type { RingBufferReader } from './ringbuf.js';
import {
  TUNNEL_DEVICE,
  ensureRouterAddress,
  ensureTunnelDevice,
  ensureProxyRouting,
  linkExists,
  routeEndpoint,
  routeNodeCIDR,
  unrouteEndpoint,
  unrouteNodeCIDR,
} from './devices.js';

/** Cilium's monitor-aggregation level names → the datapath's enum. */
export const MONITOR_AGGREGATION: Record<string, number> = {
  none: BlTraceAggregation.BL_TRACE_AGG_NONE,
  lowest: BlTraceAggregation.BL_TRACE_AGG_LOWEST,
  low: BlTraceAggregation.BL_TRACE_AGG_LOW,
  medium: BlTraceAggregation.BL_TRACE_AGG_MEDIUM,
  maximum: BlTraceAggregation.BL_TRACE_AGG_MAXIMUM,
};

/** Features the datapath cannot run without; probed before loading so a failure names what is missing. */
const REQUIRED = [
  'prog_type:sched_cls',
  'map_type:ringbuf',
  'map_type:percpu_hash',
  'map_type:percpu_array',
  'map_type:lpm_trie',
  'helper:bpf_redirect_peer',
  'helper:bpf_skb_set_tunnel_key',
  'helper:bpf_ktime_get_coarse_ns',
  'bpffs',
];

/** The VNI every node uses until identities exist (Cilium puts the source identity there). */
const DEFAULT_VNI = 2;

/** The words `cilium bpf metrics list` uses: Forwarded, or the drop reason's text. */
export function reasonName(reason: number): string {
  return reason === 0 ? 'Forwarded' : dropReasonText(reason);
}

const macBytes = (mac: string) => Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
const macText = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
const PROTO: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 132: 'SCTP' };

/** CLOCK_MONOTONIC in seconds: the clock bpf_ktime_get_ns() reads (libuv's hrtime is CLOCK_MONOTONIC too). */
export const monotonicSeconds = () => Number(process.hrtime.bigint() / 1_000_000_000n);

/** Cilium's bpf-lb-map-max default. */
export const DEFAULT_LB_MAP_SIZE = 65536;
/** The load-balancing maps sized by lbMapSize (not bl_lb4_reverse_nat: its key is a 16-bit id). */
const LB_SIZED_MAPS = ['bl_lb4_services', 'bl_lb4_backends', 'bl_lb4_affinity', 'bl_lb4_reverse_sk', 'bl_lb4_nodeport_nat'];
/** health() answers from its last check for this long. */
const HEALTH_CACHE_MS = 1000;
/** The ipcache sync reads bl_ipcache again at least this often (between reads it diffs against what it wrote). */
const IPCACHE_REREAD_MS = 10_000;

export class KernelDatapath implements NodeDatapath {
  private objects: { host?: Datapath; lxc?: Datapath; overlay?: Datapath; sock?: Datapath } = {};
  /** The service maps (kube-proxy replacement). */
  lb: KernelLb | undefined;
  /** The policy map and the endpoints' enforcement flags. */
  policy: KernelPolicy | undefined;
  private readonly cgroupAttachments: CgroupAttachment[] = [];
  private metricsMap: PerCpuMap<BlMetricsKey, BlMetricsValue> | undefined;
  private lostMap: PerCpuMap<number, bigint> | undefined;
  private lxcMap: TypedMap<BlEndpointKey, BlEndpointInfo> | undefined;
  private ipcacheMap: TypedMap<BlIpcacheKey, BlRemoteEndpointInfo> | undefined;
  /** What the last ipcache sync wrote (undefined: read the map), and when the map was last read (performance.now()). */
  private ipcacheWritten: readonly IpcacheMapEntry[] | undefined;
  private ipcacheReadAt = 0;
  private ctMap: TypedMap<BlCt4Key, BlCtEntry> | undefined;
  private events: RingBufferReader | undefined;
  private readonly attachments = new Map<string, TcAttachment>();
  /** The last health() answer, and when (performance.now()). */
  private healthCache: { at: number; health: DatapathHealth } | undefined;
  private readonly listeners = new Set<(rec: Buffer) => void>();

  /** M of every Maglev table: what the datapath divides by and the tables KernelLb writes have. */
  private readonly maglevTableSize: number;

  /**
   * config may carry the policy map sizes (PolicyMapConfig: policyMapSize,
   * policyMapMax) until AgentConfig has them.
   */
  constructor(
    private readonly config: AgentConfig & PolicyMapConfig,
    private readonly log: Logger,
  ) {
    this.maglevTableSize = config.maglevTableSize ?? DEFAULT_MAGLEV_TABLE_SIZE;
    checkMaglevTableSize(this.maglevTableSize);
  }

  /** Everything the objects need to know about this node, once its pod CIDR is claimed. */
  private encodedConfig(podCIDR: string, tunnelIfindex: number): Buffer {
    const c = this.config;
    const aggregation = MONITOR_AGGREGATION[c.monitorAggregation];
    if (aggregation === undefined) {
      throw new UsageError(`agent config monitorAggregation: '${c.monitorAggregation}' is not one of ${Object.keys(MONITOR_AGGREGATION).join(', ')}`);
    }
    const cidr = parseCidr(podCIDR, 'podCIDR');
    return BL_DATAPATH_CONFIG_CODEC.encode({
      node_id: Number(c.node.replace(/\D/g, '')) || 0,
      // Native routing forwards pod egress with FIB lookups (BPF host routing) unless told not to.
      flags:
        BlConfigFlags.BL_CFG_TRACE_NOTIFY |
        BlConfigFlags.BL_CFG_DROP_NOTIFY |
        (c.policyVerdictNotify === false ? 0 : BlConfigFlags.BL_CFG_POLICY_VERDICT_NOTIFY) |
        (c.routing === 'native' && c.hostRouting !== 'legacy' ? BlConfigFlags.BL_CFG_HOST_ROUTING : 0),
      host_endpoint_id: 0,
      trace_capture_len: 128,
      trace_aggregation: aggregation,
      routing_mode: c.routing === 'tunnel' ? BlRoutingMode.BL_ROUTING_TUNNEL : BlRoutingMode.BL_ROUTING_NATIVE,
      pod_cidr4_prefixlen: cidr.prefix,
      node_ip4: parseIPv4(c.nodeIP, 'nodeIP'),
      router_ip4: cidr.base + 1,
      pod_cidr4: cidr.base,
      tunnel_ifindex: tunnelIfindex,
      tunnel_vni: DEFAULT_VNI,
      // Issue 15: connections to endpoints that require mutual authentication go to the proxy's mTLS-out listener (0: none).
      mtls_out_port: c.proxy?.mtlsOutPort ?? 0,
    });
  }

  private open(name: 'host' | 'lxc' | 'overlay' | 'sock', config: Buffer | undefined): Datapath {
    const dp = Datapath.open(join(this.config.bpfObjectDir, BPF_OBJECTS[name].file), { pinDir: this.config.pinDir });
    if (config) dp.configure('bl_config', config);
    // M of the Maglev tables: a constant to the datapath, in every object that includes lib/lb.h.
    if (dp.variables().some((v) => v.name === 'bl_lb_maglev_table_size')) {
      const m = Buffer.alloc(4);
      m.writeUInt32LE(this.maglevTableSize);
      dp.configure('bl_lb_maglev_table_size', m);
    }
    // The socket hooks leave routed (mesh) frontends to the node proxy for every namespace but the node's own.
    if (dp.variables().some((v) => v.name === 'bl_sock_node_netns')) {
      const c = Buffer.alloc(8);
      try {
        c.writeBigUInt64LE(netnsCookie());
      } catch (e) {
        // Linux before 5.14: no cookie to compare with; every socket then counts as a pod's for routed frontends.
        this.log.warn('socket LB: no network namespace cookie; the node\'s own connections to routed (mesh) Services are not load-balanced', { error: (e as Error).message });
      }
      dp.configure('bl_sock_node_netns', c);
    }
    // Only the first object to create the map sizes it; the others reuse the pin.
    dp.setMaxEntries('bl_ct4', this.config.ctMapSize);
    const maps: Record<string, unknown> = BPF_OBJECTS[name].maps;
    for (const m of LB_SIZED_MAPS) if (m in maps) dp.setMaxEntries(m, this.config.lbMapSize ?? DEFAULT_LB_MAP_SIZE);
    if ('bl_policy' in maps) dp.setMaxEntries('bl_policy', this.config.policyMapSize ?? DEFAULT_POLICY_MAP_SIZE);
    dp.load();
    return dp;
  }

  async start(podCIDR: string): Promise<void> {
    const c = this.config;
    // The pin directory lives on a bpffs the lab (or the host) mounted; the agent owns its own subdirectory.
    mkdirSync(c.pinDir, { recursive: true });
    requireFeatures(REQUIRED, { bpffsPath: c.pinDir });
    let tunnelIfindex = 0;
    if (c.routing === 'tunnel') {
      ensureTunnelDevice();
      tunnelIfindex = ifIndex(TUNNEL_DEVICE);
    }
    ensureRouterAddress(formatIPv4(parseCidr(podCIDR, 'podCIDR').base + 1));
    ensureProxyRouting();
    const config = this.encodedConfig(podCIDR, tunnelIfindex);
    const host = (this.objects.host = this.open('host', config));
    const lxc = (this.objects.lxc = this.open('lxc', config));
    this.metricsMap = host.perCpuMap('bl_metrics', BL_METRICS_KEY_CODEC, BL_METRICS_VALUE_CODEC);
    this.lostMap = host.perCpuMap('bl_events_lost', U32_CODEC, U64_CODEC);
    this.lxcMap = lxc.map('bl_lxc', BL_ENDPOINT_KEY_CODEC, BL_ENDPOINT_INFO_CODEC);
    this.ipcacheMap = lxc.map('bl_ipcache', BL_IPCACHE_KEY_CODEC, BL_REMOTE_ENDPOINT_INFO_CODEC);
    this.ctMap = lxc.map('bl_ct4', BL_CT4_KEY_CODEC, BL_CT_ENTRY_CODEC);
    this.events = host.ringBuffer('bl_events', (rec) => {
      for (const l of this.listeners) l(rec);
    });
    this.attach(host, c.uplink, 'ingress', 'bl_from_netdev');
    this.attach(host, c.uplink, 'egress', 'bl_to_netdev');
    if (c.routing === 'tunnel') {
      const overlay = (this.objects.overlay = this.open('overlay', config));
      this.attach(overlay, TUNNEL_DEVICE, 'ingress', 'bl_from_overlay');
      this.attach(overlay, TUNNEL_DEVICE, 'egress', 'bl_to_overlay');
    }
    this.lb = new KernelLb(lxc, { maglevTableSize: this.maglevTableSize });
    this.policy = new KernelPolicy(lxc, { policyMapMax: this.config.policyMapMax ?? DEFAULT_POLICY_MAP_MAX });
    if (c.socketLB) {
      // Socket LB: every process of the node (its pods below it) connects through these hooks.
      // A real node's agent (host-netns mode, never in the lab) attaches at its cgroup v2 root, as Cilium does.
      const sock = (this.objects.sock = this.open('sock', undefined));
      for (const p of ['bl_sock4_connect', 'bl_sock4_sendmsg', 'bl_sock4_recvmsg', 'bl_sock4_getpeername']) {
        this.cgroupAttachments.push(sock.attachCgroup(c.socketLB.cgroup, p, { allowRootCgroup: hostNetnsEnabled() }));
      }
    }
    this.log.info('datapath attached', { uplink: c.uplink, routing: c.routing, tunnel: tunnelIfindex ? TUNNEL_DEVICE : 'none', socketLB: c.socketLB?.cgroup ?? 'off' });
  }

  private attach(dp: Datapath, iface: string, point: 'ingress' | 'egress', program: string): void {
    this.healthCache = undefined;
    this.attachments.set(`${iface}/${point}`, dp.attachTc(iface, point, program));
  }

  info(opts: { countEntries?: boolean } = {}): DatapathInfo {
    const attachments: AttachmentStatus[] = [...this.attachments.values()].map((a) => ({ iface: a.ref.ifname, direction: a.ref.point, program: a.program }));
    // Sizes as the kernel has them (a map reused from a pin keeps the size it was created with).
    const maps: MapStatus[] = [this.ctMap, this.ipcacheMap, this.lxcMap, this.metricsMap]
      .filter((m) => m !== undefined)
      .map((m) => ({
        name: m.raw.name,
        type: BPF_OBJECTS.lxc.maps[m.raw.name as keyof typeof BPF_OBJECTS.lxc.maps].typeName.replace(/^BPF_MAP_TYPE_/, '').toLowerCase(),
        maxEntries: m.raw.maxEntries,
        ...(opts.countEntries === false ? {} : { entries: [...m.keys()].length }),
      }));
    return { mode: 'tc (clsact, direct-action)', attachments, maps, events: this.eventCounters() };
  }

  /**
   * The health checks of `status` (DatapathHealth): each tc attachment's slot
   * still runs the program id the agent attached (not detached, not
   * replaced), each cgroup program is still attached, each pinned map opens
   * with the type, sizes and max_entries of the map the agent loaded.
   * Computed at most once a second: status is asked often (CNI ADD, the
   * kubelet's heartbeat) and the checks cost two netlink queries an endpoint.
   */
  health(): DatapathHealth {
    const now = performance.now();
    if (this.healthCache && now - this.healthCache.at < HEALTH_CACHE_MS) return this.healthCache.health;
    const problems: string[] = [];
    for (const a of this.attachments.values()) {
      let cur: number | undefined;
      try {
        cur = a.currentProgId();
      } catch (e) {
        problems.push(`program ${a.program} on ${a.ifname} ${a.point}: ${(e as Error).message}`);
        continue;
      }
      if (cur === undefined) problems.push(`program ${a.program} is no longer attached to ${a.ifname} ${a.point}`);
      else if (cur !== a.progId) problems.push(`${a.ifname} ${a.point} runs program id ${cur}, not ${a.program} (id ${a.progId}) as attached by the agent`);
    }
    for (const a of this.cgroupAttachments) {
      try {
        if (!cgroupAttached(a)) problems.push(`program ${a.program} is no longer attached to cgroup ${a.cgroup}`);
      } catch (e) {
        problems.push(`program ${a.program} on cgroup ${a.cgroup}: ${(e as Error).message}`);
      }
    }
    const seen = new Set<string>();
    for (const dp of Object.values(this.objects)) {
      if (!dp || dp.state !== 'loaded') continue;
      for (const m of dp.maps()) {
        if (m.internal || seen.has(m.name)) continue;
        seen.add(m.name);
        const p = pinnedMapProblem(join(this.config.pinDir, m.name), m);
        if (p) problems.push(p);
      }
    }
    const health: DatapathHealth = { state: problems.length ? 'degraded' : 'ok', problems };
    this.healthCache = { at: now, health };
    return health;
  }

  eventCounters(): DatapathInfo['events'] {
    let lost = 0n;
    for (const [, v] of this.lostMap?.snapshot() ?? []) lost += v;
    return { read: this.events?.samples ?? 0, lost: Number(lost) };
  }

  metrics(): MetricRow[] {
    if (!this.metricsMap) return [];
    const dirName = (d: number): MetricRow['direction'] => (d === BlDirection.BL_DIR_INGRESS ? 'ingress' : d === BlDirection.BL_DIR_EGRESS ? 'egress' : 'unknown');
    return this.metricsMap
      .snapshot()
      .map(([k, v]) => ({ reason: k.reason, reasonName: reasonName(k.reason), direction: dirName(k.dir), packets: v.count, bytes: v.bytes }))
      .sort((a, b) => a.reason - b.reason || a.direction.localeCompare(b.direction));
  }

  async upsertEndpoint(ep: EndpointModel): Promise<void> {
    const lxc = this.objects.lxc!;
    const ifindex = ifIndex(ep.hostIfname);
    ep.hostIfindex = ifindex;
    // Attach before publishing the endpoint: once it is in bl_lxc, peers deliver to it.
    this.attach(lxc, ep.hostIfname, 'ingress', 'bl_from_container');
    this.attach(lxc, ep.hostIfname, 'egress', 'bl_to_container');
    const key = { ip4: parseIPv4(ep.ipv4) };
    // Policy flags: the model's (when the agent keeps them there), else as set for this endpoint id,
    // else what the map holds for it (an agent restart), else none.
    const prev = this.lxcMap!.get(key);
    const flags = (ep as EndpointModel & { policyFlags?: number }).policyFlags ?? this.policy?.endpointFlags(ep.id) ?? (prev?.ep_id === ep.id ? prev.flags : 0);
    this.lxcMap!.set(key, { ifindex, ep_id: ep.id, flags, mac: macBytes(ep.mac), node_mac: macBytes(ep.hostMac), sec_identity: ep.identity });
    routeEndpoint(ep.ipv4, ep.hostIfname);
  }

  async removeEndpoint(ep: EndpointModel, opts: { keepInterface?: boolean } = {}): Promise<void> {
    this.healthCache = undefined;
    this.lxcMap?.delete({ ip4: parseIPv4(ep.ipv4) });
    // The uplink's and the tunnel device's attachments are in this.attachments too: never theirs.
    for (const point of opts.keepInterface ? [] : (['ingress', 'egress'] as const)) {
      const key = `${ep.hostIfname}/${point}`;
      const a = this.attachments.get(key);
      this.attachments.delete(key);
      // The veth may be gone already, and its filters with it.
      if (a && linkExists(ep.hostIfname)) a.detach();
    }
    unrouteEndpoint(ep.ipv4);
    // Its policy goes with it; a new endpoint with its id starts from nothing.
    this.policy?.deleteEndpoint(ep.id);
    // Connections of the endpoint end with it.
    this.deleteCtWhere((k) => formatIPv4(k.saddr) === ep.ipv4 || formatIPv4(k.daddr) === ep.ipv4);
  }

  async upsertRemoteNode(node: RemoteNode): Promise<void> {
    const cidr = parseCidr(node.podCIDR, `node ${node.name} podCIDR`);
    this.ipcacheWritten = undefined; // the next sync reads the map
    this.ipcacheMap!.set(
      { prefixlen: cidr.prefix, ip4: cidr.base },
      // As toMapEntries has it (world behind the node's tunnel endpoint), so the ipcache sync finds it unchanged.
      { sec_identity: ReservedIdentity.world, tunnel_endpoint: parseIPv4(node.nodeIP), node_id: Number(node.name.replace(/\D/g, '')) || 0, flags: 0 },
    );
    // Native routing sends everything for that pod CIDR to the node; in tunnel mode only the node's own
    // packets take this route, and bl_to_netdev puts them into the tunnel (pods' are redirected before).
    routeNodeCIDR(node.podCIDR, node.nodeIP, this.config.uplink);
  }

  async removeRemoteNode(node: RemoteNode): Promise<void> {
    const cidr = parseCidr(node.podCIDR, `node ${node.name} podCIDR`);
    this.ipcacheWritten = undefined;
    this.ipcacheMap?.delete({ prefixlen: cidr.prefix, ip4: cidr.base });
    unrouteNodeCIDR(node.podCIDR);
  }

  /**
   * bl_ipcache := desired, writing only what differs. The base of the diff
   * is what the last sync wrote, so a learned address (the DNS proxy syncs
   * before it releases the answer) costs its own entries, not a read of the
   * whole map; the map itself is read again at least every
   * IPCACHE_REREAD_MS, after any other write to it and after a failed
   * write, so anything else that changed it is repaired.
   */
  syncIpcache(desired: readonly IpcacheMapEntry[], opts: { reread?: boolean } = {}): { upserts: IpcacheMapEntry[]; deletes: BlIpcacheKey[] } {
    const map = this.ipcacheMap;
    if (!map) return { upserts: [], deletes: [] };
    const now = performance.now();
    let current = this.ipcacheWritten;
    if (!current || opts.reread || now - this.ipcacheReadAt > IPCACHE_REREAD_MS) {
      current = map.snapshot().map(([key, value]) => ({ key, value }));
      this.ipcacheReadAt = now;
    }
    const diff = diffMapEntries(current, desired);
    this.ipcacheWritten = undefined;
    // Writes first: a prefix that moves to a longer or shorter one is never without an answer.
    for (const e of diff.upserts) map.set(e.key, e.value);
    for (const k of diff.deletes) map.delete(k);
    this.ipcacheWritten = desired;
    return diff;
  }

  endpointMap(): EndpointMapRow[] {
    return (this.lxcMap?.snapshot() ?? [])
      .map(([k, v]) => ({ ip: formatIPv4(k.ip4), id: v.ep_id, ifindex: v.ifindex, mac: macText(v.mac), nodeMac: macText(v.node_mac), identity: v.sec_identity, flags: v.flags }))
      .sort((a, b) => a.id - b.id);
  }

  ipcache(): IpcacheRow[] {
    return (this.ipcacheMap?.snapshot() ?? []).map(([k, v]) => ({
      prefix: `${formatIPv4(k.ip4)}/${k.prefixlen}`,
      identity: v.sec_identity,
      tunnelEndpoint: formatIPv4(v.tunnel_endpoint),
      nodeId: v.node_id,
      ...(v.flags & BlIpcacheFlags.BL_IPCACHE_F_AUTH_REQUIRED ? { authRequired: true } : {}),
    }));
  }

  ctEntries(): CtRow[] {
    const now = monotonicSeconds();
    return (this.ctMap?.snapshot() ?? []).map(([k, v]) => {
      const port = (p: number) => (k.nexthdr === 1 ? '' : `:${p}`);
      const flags: string[] = [];
      if (v.flags & BlCtEntryFlags.BL_CT_F_RX_CLOSING) flags.push('RxClosing');
      if (v.flags & BlCtEntryFlags.BL_CT_F_TX_CLOSING) flags.push('TxClosing');
      if (v.flags & BlCtEntryFlags.BL_CT_F_SEEN_NON_SYN) flags.push('SeenNonSyn');
      if (v.flags & BlCtEntryFlags.BL_CT_F_FROM_PROXY) flags.push('FromProxy');
      return {
        proto: PROTO[k.nexthdr] ?? `proto-${k.nexthdr}`,
        direction:
          k.flags === BlCtTupleFlags.BL_CT_TUPLE_F_OUT ? 'OUT' : k.flags === BlCtTupleFlags.BL_CT_TUPLE_F_IN ? 'IN' : k.flags === BlCtTupleFlags.BL_CT_TUPLE_F_SERVICE ? 'SERVICE' : 'UNKNOWN',
        src: `${formatIPv4(k.saddr)}${port(k.sport)}`,
        dst: `${formatIPv4(k.daddr)}${port(k.dport)}`,
        expiresIn: v.lifetime - now,
        txPackets: v.tx_packets,
        txBytes: v.tx_bytes,
        rxPackets: v.rx_packets,
        rxBytes: v.rx_bytes,
        txFlagsSeen: v.tx_flags_seen,
        rxFlagsSeen: v.rx_flags_seen,
        flags,
        revNat: v.rev_nat_index,
        backendId: v.backend_id,
      } satisfies CtRow;
    });
  }

  ctGarbageCollect(): number {
    const now = monotonicSeconds();
    return this.deleteCtWhere((_k, v) => v.lifetime < now);
  }

  private deleteCtWhere(pred: (k: BlCt4Key, v: BlCtEntry) => boolean): number {
    if (!this.ctMap) return 0;
    let n = 0;
    for (const [k, v] of this.ctMap.snapshot()) {
      if (pred(k, v) && this.ctMap.delete(k)) n++;
    }
    return n;
  }

  subscribe(listener: (record: Buffer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  pauseEvents(paused: boolean): void {
    if (!this.events) return;
    if (paused) this.events.stop();
    else this.events.start();
  }

  async close(): Promise<void> {
    // Filters and pinned maps stay: traffic keeps flowing across an agent restart.
    for (const dp of Object.values(this.objects)) dp?.close();
    this.objects = {};
  }
}
