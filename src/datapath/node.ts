/**
 * The kernel implementation of the agent's NodeDatapath: the host object on
 * the node's uplink. Maps are pinned under the lab's bpffs so that an agent
 * restart reuses them, and tc filters are replaced in place, so traffic keeps
 * flowing while the agent is away.
 */
import { join } from 'node:path';
import type { DatapathInfo, MetricRow, NodeDatapath } from '../agent/datapath.js';
import type { AgentConfig, AttachmentStatus, MapStatus } from '../agent/types.js';
import { UsageError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import {
  BL_DATAPATH_CONFIG_CODEC,
  BL_METRICS_KEY_CODEC,
  BL_METRICS_VALUE_CODEC,
  BPF_OBJECTS,
  BlConfigFlags,
  BlDirection,
  BlTraceAggregation,
  U32_CODEC,
  U64_CODEC,
  blDropReasonName,
  decodeBlNotifyHdr,
  type BlMetricsKey,
  type BlMetricsValue,
} from './generated/abi.js';
import { Datapath, type TcAttachment } from './loader.js';
import type { PerCpuMap } from './maps.js';
import { requireFeatures } from './probes.js';
import type { RingBufferReader } from './ringbuf.js';

/** Cilium's monitor-aggregation level names → the datapath's enum. */
export const MONITOR_AGGREGATION: Record<string, number> = {
  none: BlTraceAggregation.BL_TRACE_AGG_NONE,
  lowest: BlTraceAggregation.BL_TRACE_AGG_LOWEST,
  low: BlTraceAggregation.BL_TRACE_AGG_LOW,
  medium: BlTraceAggregation.BL_TRACE_AGG_MEDIUM,
  maximum: BlTraceAggregation.BL_TRACE_AGG_MAXIMUM,
};

/** Features the host datapath cannot run without; probed before loading so a failure names what is missing. */
const REQUIRED = ['prog_type:sched_cls', 'map_type:ringbuf', 'map_type:percpu_hash', 'map_type:percpu_array', 'bpffs'];

const HOST = BPF_OBJECTS.host;

export function reasonName(reason: number): string {
  return reason === 0 ? 'Forwarded' : (blDropReasonName(reason)?.replace(/^BL_DROP_/, '') ?? `reason ${reason}`);
}

export class KernelDatapath implements NodeDatapath {
  private dp: Datapath | undefined;
  private metricsMap: PerCpuMap<BlMetricsKey, BlMetricsValue> | undefined;
  private lostMap: PerCpuMap<number, bigint> | undefined;
  private events: RingBufferReader | undefined;
  private attachments: TcAttachment[] = [];
  /** Events read by type (trace 4, drop 1, …). The monitor (issue 3) consumes them. */
  readonly eventsByType = new Map<number, number>();

  constructor(
    private readonly config: AgentConfig,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const c = this.config;
    const aggregation = MONITOR_AGGREGATION[c.monitorAggregation];
    if (aggregation === undefined) {
      throw new UsageError(`agent config monitorAggregation: '${c.monitorAggregation}' is not one of ${Object.keys(MONITOR_AGGREGATION).join(', ')}`);
    }
    requireFeatures(REQUIRED, { bpffsPath: c.pinDir });
    const dp = Datapath.open(join(c.bpfObjectDir, HOST.file), { pinDir: c.pinDir });
    this.dp = dp;
    dp.configure(
      'bl_config',
      BL_DATAPATH_CONFIG_CODEC.encode({
        node_id: Number(c.node.replace(/\D/g, '')) || 0,
        flags: BlConfigFlags.BL_CFG_TRACE_NOTIFY | BlConfigFlags.BL_CFG_DROP_NOTIFY,
        host_endpoint_id: 0,
        trace_capture_len: 128,
        trace_aggregation: aggregation,
      }),
    );
    dp.load();
    for (const m of ['bl_metrics', 'bl_events_lost']) {
      this.log.info(dp.isPinned(m) ? 'map reused from pin' : 'map created and pinned', { map: m, pinDir: c.pinDir });
    }
    this.metricsMap = dp.perCpuMap('bl_metrics', BL_METRICS_KEY_CODEC, BL_METRICS_VALUE_CODEC);
    this.lostMap = dp.perCpuMap('bl_events_lost', U32_CODEC, U64_CODEC);
    this.events = dp.ringBuffer('bl_events', (rec) => {
      const type = decodeBlNotifyHdr(rec).type;
      this.eventsByType.set(type, (this.eventsByType.get(type) ?? 0) + 1);
    });
    this.attachments = [
      dp.attachTc(c.uplink, 'ingress', 'bl_from_netdev'),
      dp.attachTc(c.uplink, 'egress', 'bl_to_netdev'),
    ];
    this.log.info('attached', { iface: c.uplink, programs: this.attachments.map((a) => a.program).join(',') });
  }

  info(): DatapathInfo {
    const attachments: AttachmentStatus[] = this.attachments.map((a) => ({ iface: a.ref.ifname, direction: a.ref.point, program: a.program }));
    const maps: MapStatus[] = Object.values(HOST.maps).map((m) => ({
      name: m.name,
      type: m.typeName.replace(/^BPF_MAP_TYPE_/, '').toLowerCase(),
      maxEntries: m.maxEntries,
      entries: m.name === 'bl_metrics' ? (this.metricsMap ? [...this.metricsMap.keys()].length : 0) : m.name === 'bl_events_lost' ? m.maxEntries : 0,
    }));
    let lost = 0n;
    for (const [, v] of this.lostMap?.snapshot() ?? []) lost += v;
    return { mode: 'tc (clsact, direct-action)', attachments, maps, events: { read: this.events?.samples ?? 0, lost: Number(lost) } };
  }

  metrics(): MetricRow[] {
    if (!this.metricsMap) return [];
    const dirName = (d: number): MetricRow['direction'] => (d === BlDirection.BL_DIR_INGRESS ? 'ingress' : d === BlDirection.BL_DIR_EGRESS ? 'egress' : 'unknown');
    return this.metricsMap
      .snapshot()
      .map(([k, v]) => ({ reason: k.reason, reasonName: reasonName(k.reason), direction: dirName(k.dir), packets: v.count, bytes: v.bytes }))
      .sort((a, b) => a.reason - b.reason || a.direction.localeCompare(b.direction));
  }

  async close(): Promise<void> {
    // Filters and pinned maps stay: traffic keeps flowing across an agent restart.
    this.dp?.close();
    this.dp = undefined;
  }
}
