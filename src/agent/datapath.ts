/**
 * The one interface between the agent and the datapath. The kernel
 * implementation lives in src/datapath/; tests of agent logic use a fake, so
 * they need no root and no kernel.
 */
import type { AttachmentStatus, MapStatus } from './types.js';

/** One row of `beeline bpf metrics list`: verdict counters per reason and direction. */
export interface MetricRow {
  /** 0 = forwarded, else a drop reason (Cilium's numbers). */
  reason: number;
  reasonName: string;
  direction: 'ingress' | 'egress' | 'unknown';
  packets: bigint;
  bytes: bigint;
}

export interface DatapathInfo {
  mode: string;
  attachments: AttachmentStatus[];
  maps: MapStatus[];
  events: { read: number; lost: number };
}

export interface NodeDatapath {
  /** Load (or reuse pinned maps), configure, attach to the node's uplink. */
  start(): Promise<void>;
  info(): DatapathInfo;
  metrics(): MetricRow[];
  /** Detach readers and release handles; pinned maps and tc attachments stay, so traffic keeps flowing across an agent restart. */
  close(): Promise<void>;
}
