/**
 * A node's pod datapath for packet-fixture tests: lxc.bpf.o, overlay.bpf.o and
 * host.bpf.o loaded the way the agent loads them (one pin directory on a
 * private bpffs, so same-named maps are one kernel map), one configuration,
 * the endpoint and ipcache maps filled from a described node, and helpers to
 * run a packet through a program and collect what it did: verdict, output
 * bytes, events, conntrack entries, metrics.
 *
 * The node (10.0.1.0/24 on 172.18.0.11) and its pods:
 *   pod A 10.0.1.10, endpoint 101     pod B 10.0.1.20, endpoint 102
 * and another node, 172.18.0.12, with pod CIDR 10.0.2.0/24.
 *
 * Both pods sit on ifindex 1: BPF_PROG_TEST_RUN runs the packet "on" the
 * loopback device (skb->ifindex 1), and bl_from_container only accepts a
 * packet whose source endpoint is plugged into the device it arrives on.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
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
  BlEventType,
  BlRoutingMode,
  BlTraceAggregation,
  decodeBlDropNotify,
  decodeBlNotifyHdr,
  decodeBlPolicyVerdictNotify,
  decodeBlTraceNotify,
  type BlCt4Key,
  type BlCtEntry,
  type BlDatapathConfig,
  type BlMetricsValue,
} from '../../src/datapath/generated/abi.js';
import { Datapath, type TestRunResult } from '../../src/datapath/loader.js';
import type { RingBufferReader } from '../../src/datapath/ringbuf.js';
import {
  HOST_OBJECT,
  LXC_OBJECT,
  OVERLAY_OBJECT,
  ip4Num,
  ip4Str,
  ipv4Frame,
  macBytes,
  privateBpffs,
  requireObject,
  tcp,
  type Ipv4Spec,
} from './datapath-support.js';

export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;

export interface PodSpec {
  ip: string;
  mac: string;
  /** The host-side veth's MAC: the pod's gateway MAC. */
  nodeMac: string;
  id: number;
  ifindex: number;
  identity?: number;
}

export const NODE = { ip: '172.18.0.11', podCidr: '10.0.1.0', prefixlen: 24, router: '10.0.1.1', hostEndpointId: 7 };
export const REMOTE = { nodeIp: '172.18.0.12', podCidr: '10.0.2.0', prefixlen: 24, nodeId: 2 };
export const POD_A: PodSpec = { ip: '10.0.1.10', mac: '02:aa:00:00:00:0a', nodeMac: '02:bb:00:00:00:0a', id: 101, ifindex: 1 };
export const POD_B: PodSpec = { ip: '10.0.1.20', mac: '02:aa:00:00:00:14', nodeMac: '02:bb:00:00:00:14', id: 102, ifindex: 1 };
/** A third pod, plugged into another device than the one test runs happen on. */
export const POD_C: PodSpec = { ip: '10.0.1.30', mac: '02:aa:00:00:00:1e', nodeMac: '02:bb:00:00:00:1e', id: 103, ifindex: 999 };
/** bl_vxlan's ifindex in fixtures: bpf_redirect() in a test run only records it. */
export const TUNNEL_IFINDEX = 42;
export const VNI = 2;
/** bl_ct4 size the fixtures load with (the agent sizes it from its configuration). */
export const CT_MAX_ENTRIES = 1024;

export function nodeConfig(overrides: Partial<BlDatapathConfig> = {}): BlDatapathConfig {
  return {
    node_id: 1,
    flags: BlConfigFlags.BL_CFG_TRACE_NOTIFY | BlConfigFlags.BL_CFG_DROP_NOTIFY | BlConfigFlags.BL_CFG_POLICY_VERDICT_NOTIFY,
    host_endpoint_id: NODE.hostEndpointId,
    trace_capture_len: 128,
    trace_aggregation: BlTraceAggregation.BL_TRACE_AGG_NONE,
    routing_mode: BlRoutingMode.BL_ROUTING_TUNNEL,
    pod_cidr4_prefixlen: NODE.prefixlen,
    node_ip4: ip4Num(NODE.ip),
    router_ip4: ip4Num(NODE.router),
    pod_cidr4: ip4Num(NODE.podCidr),
    tunnel_ifindex: TUNNEL_IFINDEX,
    tunnel_vni: VNI,
    mtls_out_port: 0,
    ...overrides,
  };
}

/** An event from bl_events, decoded by type. */
export type PodEvent =
  | { type: 'trace'; point: number; source: number; dstId: number; reason: number; srcIdentity: number; data: Buffer }
  | { type: 'drop'; reason: number; source: number; file: number; line: number; data: Buffer; cookie: number; srcIdentity: number; dstIdentity: number }
  | {
      type: 'policy';
      source: number;
      dstId: number;
      srcIdentity: number;
      dstIdentity: number;
      remote: number;
      verdict: number;
      cookie: number;
      dport: number;
      proto: number;
      dir: number;
      action: number;
      match: number;
      data: Buffer;
    };

export function decodeEvent(rec: Buffer): PodEvent {
  const hdr = decodeBlNotifyHdr(rec);
  if (hdr.type === BlEventType.BL_EVENT_TRACE) {
    const t = decodeBlTraceNotify(rec);
    return {
      type: 'trace',
      point: hdr.subtype,
      source: hdr.source,
      dstId: t.dst_id,
      reason: t.reason,
      srcIdentity: hdr.src_identity,
      data: Buffer.from(t.data.subarray(0, hdr.len_cap)),
    };
  }
  if (hdr.type === BlEventType.BL_EVENT_POLICY_VERDICT) {
    const v = decodeBlPolicyVerdictNotify(rec);
    return {
      type: 'policy',
      source: hdr.source,
      dstId: v.dst_id,
      srcIdentity: hdr.src_identity,
      dstIdentity: hdr.dst_identity,
      remote: v.remote_identity,
      verdict: v.verdict,
      cookie: v.cookie,
      dport: v.dport,
      proto: v.proto,
      dir: v.dir,
      action: v.action,
      match: v.match_type,
      data: Buffer.from(v.data.subarray(0, hdr.len_cap)),
    };
  }
  assert.equal(hdr.type, BlEventType.BL_EVENT_DROP, `unexpected event type ${hdr.type}`);
  const d = decodeBlDropNotify(rec);
  return {
    type: 'drop',
    reason: hdr.subtype,
    source: hdr.source,
    file: d.file,
    line: d.line,
    data: Buffer.from(d.data.subarray(0, hdr.len_cap)),
    cookie: d.cookie,
    srcIdentity: hdr.src_identity,
    dstIdentity: hdr.dst_identity,
  };
}

/** Trace events as [point, source, dst_id, reason] rows: easy to compare. */
export function traces(events: readonly PodEvent[]): Array<[number, number, number, number]> {
  return events.filter((e) => e.type === 'trace').map((e) => [e.point, e.source, e.dstId, e.reason]);
}

export interface RunOutcome {
  retval: number;
  dataOut: Buffer;
  /** Events this run produced. */
  events: PodEvent[];
}

/** A conntrack entry with its key's addresses as strings. */
export interface CtRow {
  key: BlCt4Key;
  daddr: string;
  saddr: string;
  entry: BlCtEntry;
}

export type ObjectName = 'lxc' | 'overlay' | 'host';

const PROGRAM_OBJECT: Record<string, ObjectName> = {
  bl_from_container: 'lxc',
  bl_to_container: 'lxc',
  bl_from_overlay: 'overlay',
  bl_to_overlay: 'overlay',
  bl_from_netdev: 'host',
  bl_to_netdev: 'host',
};

export interface PodNodeOptions {
  config?: Partial<BlDatapathConfig>;
  pods?: readonly PodSpec[];
  /** Put the remote node's pod CIDR into bl_ipcache (default true). */
  remote?: boolean;
  /** bl_lb_maglev_table_size, M of the Maglev tables (default: the objects' 16381). */
  maglevTableSize?: number;
  /**
   * max_entries of maps by name, set before load as the agent sizes them
   * (bl_ct4 defaults to CT_MAX_ENTRIES; any other map to the objects' size).
   */
  maxEntries?: Readonly<Record<string, number>>;
}

/** The node's three objects over one pin directory, configured and filled. */
export class PodNode {
  readonly pinDir: string;
  readonly dps: Record<ObjectName, Datapath>;
  readonly #reader: RingBufferReader;
  readonly #pending: Buffer[] = [];
  readonly #cleanup: () => void;

  private constructor(pinDir: string, dps: Record<ObjectName, Datapath>, cleanup: () => void) {
    this.pinDir = pinDir;
    this.dps = dps;
    this.#cleanup = cleanup;
    // One ring buffer for all three objects: read it through any of them.
    this.#reader = dps.lxc.ringBuffer('bl_events', (rec) => this.#pending.push(rec), { keepAlive: false });
  }

  static open(opts: PodNodeOptions = {}): PodNode {
    const fs = privateBpffs();
    const loaded: Datapath[] = [];
    try {
      const pinDir = join(fs.dir, 'node');
      const config = BL_DATAPATH_CONFIG_CODEC.encode(nodeConfig(opts.config));
      const load = (obj: string, name: ObjectName) => {
        const dp = Datapath.open(requireObject(obj), { pinDir });
        loaded.push(dp);
        dp.configure('bl_config', config, { offset: BPF_OBJECTS[name].globals.bl_config.offset });
        const maps: Record<string, unknown> = BPF_OBJECTS[name].maps;
        for (const [map, n] of Object.entries({ bl_ct4: CT_MAX_ENTRIES, ...opts.maxEntries })) if (map in maps) dp.setMaxEntries(map, n);
        if (opts.maglevTableSize !== undefined) {
          const m = Buffer.alloc(4);
          m.writeUInt32LE(opts.maglevTableSize);
          dp.configure('bl_lb_maglev_table_size', m);
        }
        return dp.load();
      };
      // The agent's order: the pod objects, then the uplink's.
      const dps = { lxc: load(LXC_OBJECT, 'lxc'), overlay: load(OVERLAY_OBJECT, 'overlay'), host: load(HOST_OBJECT, 'host') };
      const node = new PodNode(pinDir, dps, () => {
        for (const dp of loaded) dp.close();
        fs.cleanup();
      });
      for (const pod of opts.pods ?? [POD_A, POD_B, POD_C]) node.addEndpoint(pod);
      if (opts.remote ?? true) node.addRemoteCidr(REMOTE.podCidr, REMOTE.prefixlen, REMOTE.nodeIp, REMOTE.nodeId);
      return node;
    } catch (err) {
      for (const dp of loaded) dp.close();
      fs.cleanup();
      throw err;
    }
  }

  lxcMap(via: ObjectName = 'lxc') {
    return this.dps[via].map('bl_lxc', BL_ENDPOINT_KEY_CODEC, BL_ENDPOINT_INFO_CODEC);
  }

  ipcacheMap(via: ObjectName = 'lxc') {
    return this.dps[via].map('bl_ipcache', BL_IPCACHE_KEY_CODEC, BL_REMOTE_ENDPOINT_INFO_CODEC);
  }

  ctMap(via: ObjectName = 'lxc') {
    return this.dps[via].map('bl_ct4', BL_CT4_KEY_CODEC, BL_CT_ENTRY_CODEC);
  }

  addEndpoint(pod: PodSpec): void {
    this.lxcMap().set(
      { ip4: ip4Num(pod.ip) },
      { ifindex: pod.ifindex, ep_id: pod.id, flags: 0, mac: macBytes(pod.mac), node_mac: macBytes(pod.nodeMac), sec_identity: pod.identity ?? 0 },
    );
  }

  addRemoteCidr(cidr: string, prefixlen: number, nodeIp: string, nodeId: number): void {
    this.ipcacheMap().set({ prefixlen, ip4: ip4Num(cidr) }, { sec_identity: 0, tunnel_endpoint: ip4Num(nodeIp), node_id: nodeId, flags: 0 });
  }

  /** Runs packet through program (in whichever object has it); ctxIn: the struct __sk_buff to start from. */
  run(program: string, packet: Buffer, ctxIn?: Uint8Array): RunOutcome {
    const obj = PROGRAM_OBJECT[program];
    assert.ok(obj, `no object has program ${program}`);
    const { retval, dataOut } = this.dps[obj].testRun(program, packet, ctxIn ? { ctxIn } : {});
    this.#reader.drain();
    const events = this.#pending.splice(0).map(decodeEvent);
    return { retval, dataOut: Buffer.from(dataOut), events };
  }

  /**
   * One BPF_PROG_TEST_RUN of packet through program, for benchmarks: the
   * kernel's own result (retval, output, durationNs of this one run). Events
   * stay queued in the ring buffer until discardEvents().
   */
  timedRun(program: string, packet: Buffer): TestRunResult {
    const obj = PROGRAM_OBJECT[program];
    assert.ok(obj, `no object has program ${program}`);
    return this.dps[obj].testRun(program, packet);
  }

  /**
   * Reads and drops the queued events without decoding them; returns how
   * many. A benchmark calls it often enough that the ring buffer never
   * fills: a full one makes reserving fail, which costs less than an event.
   */
  discardEvents(): number {
    this.#reader.drain();
    return this.#pending.splice(0).length;
  }

  ct(via: ObjectName = 'lxc'): CtRow[] {
    return this.ctMap(via)
      .snapshot()
      .map(([key, entry]) => ({ key, daddr: ip4Str(key.daddr), saddr: ip4Str(key.saddr), entry }));
  }

  /** Summed over CPUs, keyed `reason/dir`. */
  metrics(): Map<string, BlMetricsValue> {
    return new Map(
      this.dps.lxc
        .perCpuMap('bl_metrics', BL_METRICS_KEY_CODEC, BL_METRICS_VALUE_CODEC)
        .snapshot()
        .map(([k, v]) => [`${k.reason}/${k.dir}`, v] as const),
    );
  }

  close(): void {
    this.#reader.close();
    this.#cleanup();
  }
}

/** Seconds of CLOCK_MONOTONIC, the clock of bl_ct_entry (process.hrtime is CLOCK_MONOTONIC on Linux). */
export function monotonicSeconds(): number {
  return Number(process.hrtime.bigint() / 1_000_000_000n);
}

/** Ethernet/IPv4 frame from pod `from` (addressed to its gateway MAC) to dst. */
export function fromPod(from: PodSpec, dst: string, proto: number, payload: Buffer, extra: Partial<Ipv4Spec> = {}): Buffer {
  return ipv4Frame({ src: from.ip, dst, proto, payload, ethSrc: from.mac, ethDst: from.nodeMac, ...extra });
}

/** A TCP segment from pod `from` to dst:dport. */
export function tcpFromPod(from: PodSpec, dst: string, flags: number, sport: number, dport: number): Buffer {
  return fromPod(from, dst, 6, tcp(flags, sport, dport, from.ip, dst));
}

export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;
export const TCP_SYN_ACK = 0x12;
export const TCP_FIN_ACK = 0x11;
export const TCP_RST = 0x04;
