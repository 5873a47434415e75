/**
 * The node's Observer gRPC service (Hubble's observer.Observer): GetFlows
 * over the flow ring (and the flow history before it), ServerStatus and
 * GetNodes. Serve it with startGrpcServer(addresses, [observerService(node)]).
 *
 * GetFlows follows Hubble's local observer: `first` starts at the oldest
 * flow, `number` (0: no limit) takes the last N matching flows (or the first
 * N with `first` / `since`), `since` takes precedence over `number` and
 * starts at the first flow at or after it, a flow after `until` ends the
 * stream, `follow` then keeps streaming new flows, `first` with `follow` is
 * INVALID_ARGUMENT, and lost events are always delivered and never counted
 * in `number`.
 */
import { status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { observerServiceDefinition } from '../api/grpc.js';
import { FlowFilterError } from '../common/errors.js';
import { compileFlowFilters } from './filter.js';
import type { FlowPipeline, FlowSubscription } from './pipeline.js';
import { RingLoss, ringTime, type RingTime } from './ring.js';
import { flowTimeNs, type Flow, type FlowHistoryReader, type FlowPredicate, type GetFlowsRequest__Output, type GetFlowsResponse, type ServerStatusResponse } from './types.js';
import type { GetNodesResponse } from '../api/generated/observer/GetNodesResponse.js';

/** What the Observer service serves. */
export interface ObserverServiceNode {
  pipeline: FlowPipeline;
  /** This node's name (GetFlowsResponse.node_name of lost events, GetNodes). */
  nodeName: string;
  /** Reported by ServerStatus and GetNodes. */
  version: string;
  /** Flows older than the ring, for GetFlows with `since` before the ring's oldest flow. */
  history?: FlowHistoryReader;
  /** When the agent started, ms since the epoch (Date.now()): uptime_ns. */
  startedAt: number;
  /** Where this Observer is reached (GetNodes address). */
  address?: string;
}

/** A google.protobuf.Timestamp as grpc-js hands it over (seconds as a string: longs as strings). */
interface TimestampLike { seconds?: string | number | null; nanos?: number | null }

function timestampNs(t: TimestampLike): bigint {
  return BigInt(String(t.seconds ?? 0)) * 1_000_000_000n + BigInt(t.nanos ?? 0);
}

function nowTimestamp(): { seconds: string; nanos: number } {
  const ms = Date.now();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

/** The ring's loss as a GetFlowsResponse. */
function lostResponse(loss: RingLoss, nodeName: string): GetFlowsResponse {
  return { lost_events: { source: loss.source, num_events_lost: String(loss.count), cpu: null }, node_name: nodeName, time: nowTimestamp() };
}

/**
 * The Observer service for startGrpcServer: `{ definition, implementation }`.
 */
export function observerService(node: ObserverServiceNode): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
  const { pipeline, nodeName } = node;
  const ring = pipeline.ring;
  const uptimeNs = () => String(BigInt(Math.max(0, Date.now() - node.startedAt)) * 1_000_000n);

  const ServerStatus = (_call: ServerUnaryCall<unknown, ServerStatusResponse>, callback: sendUnaryData<ServerStatusResponse>) => {
    callback(null, {
      num_flows: String(ring.length),
      max_flows: String(ring.capacity),
      seen_flows: String(pipeline.seen),
      uptime_ns: uptimeNs(),
      version: node.version,
    });
  };

  const GetNodes = (_call: ServerUnaryCall<unknown, GetNodesResponse>, callback: sendUnaryData<GetNodesResponse>) => {
    callback(null, {
      nodes: [{
        name: nodeName,
        version: node.version,
        address: node.address ?? '',
        state: 'NODE_CONNECTED',
        tls: { enabled: false, server_name: '' },
        uptime_ns: uptimeNs(),
        num_flows: String(ring.length),
        max_flows: String(ring.capacity),
        seen_flows: String(pipeline.seen),
      }],
    });
  };

  const GetFlows = (call: ServerWritableStream<GetFlowsRequest__Output, GetFlowsResponse>) => {
    const req = call.request;
    if (req.first && req.follow) {
      call.emit('error', { code: status.INVALID_ARGUMENT, details: 'first cannot be specified with follow' });
      return;
    }
    let match: FlowPredicate;
    try {
      match = compileFlowFilters(req.whitelist ?? [], req.blacklist ?? []);
    } catch (e) {
      const details = e instanceof FlowFilterError ? e.message : `invalid filter: ${(e as Error).message}`;
      call.emit('error', { code: status.INVALID_ARGUMENT, details });
      return;
    }
    new FlowsStream(call, req, match, node).start();
  };

  return { definition: observerServiceDefinition(), implementation: { GetFlows, GetNodes, ServerStatus } };
}

/** One GetFlows call: history (when asked for), then the ring, with the writer's backpressure. */
class FlowsStream {
  private readonly follow: boolean;
  private readonly number: number;
  private readonly sinceNs: bigint | undefined;
  private readonly untilNs: bigint | undefined;
  private readonly since: RingTime | undefined;
  private readonly until: RingTime | undefined;
  private sent = 0;
  private done = false;
  private sub: FlowSubscription | undefined;
  private drainWaiter: (() => void) | undefined;

  constructor(
    private readonly call: ServerWritableStream<GetFlowsRequest__Output, GetFlowsResponse>,
    private readonly req: GetFlowsRequest__Output,
    private readonly match: FlowPredicate,
    private readonly node: ObserverServiceNode,
  ) {
    this.follow = req.follow === true;
    this.number = Number(req.number ?? 0);
    this.sinceNs = req.since ? timestampNs(req.since) : undefined;
    this.untilNs = req.until ? timestampNs(req.until) : undefined;
    this.since = this.sinceNs !== undefined ? ringTime(this.sinceNs) : undefined;
    this.until = this.untilNs !== undefined ? ringTime(this.untilNs) : undefined;
  }

  start(): void {
    const release = () => this.finish(false);
    this.call.on('cancelled', release);
    this.call.on('close', release);
    this.call.on('error', release);
    const history = this.node.history;
    const ringOldest = this.node.pipeline.ring.oldestNs();
    if (this.sinceNs !== undefined && history && (ringOldest === undefined || this.sinceNs < ringOldest)) {
      this.fromHistory(history).catch((e: unknown) => {
        if (this.done) return;
        this.done = true;
        this.call.emit('error', { code: status.INTERNAL, details: `read flow history: ${(e as Error).message}` });
      });
    } else this.fromRing(this.ringStart());
  }

  /** Where the ring part starts (no history involved), as Hubble's newRingReader. */
  private ringStart(): number {
    const ring = this.node.pipeline.ring;
    if (this.since) return ring.seqAtOrAfter(this.since);
    if (this.req.first) return ring.oldestSeq;
    if (this.follow && this.number === 0) return ring.nextSeq;
    return ring.seqOfLastMatches(this.number, this.match, this.until);
  }

  /**
   * History from `since` up to the ring's oldest flow, then the ring. If the
   * ring wraps while history is read, history is read again up to the new
   * oldest flow, so the hand-off loses and repeats nothing.
   */
  private async fromHistory(history: FlowHistoryReader): Promise<void> {
    const ring = this.node.pipeline.ring;
    let from = this.sinceNs!;
    // An empty ring: history up to now, then every flow the ring gets from here on.
    const emptyFrom = ring.oldestNs() === undefined ? ring.nextSeq : undefined;
    let boundary = ring.oldestNs() ?? BigInt(Date.now()) * 1_000_000n;
    for (;;) {
      if (this.untilNs === undefined || from <= this.untilNs) {
        for await (const flow of history.read({ sinceNs: from, untilNs: this.untilNs, beforeNs: boundary }, this.match)) {
          if (this.done) return;
          if (this.untilNs !== undefined && flowTimeNs(flow) > this.untilNs) return this.end();
          if (!this.writeFlow(flow)) {
            if (this.done) return;
            await this.drained();
            if (this.done) return;
          }
        }
      }
      if (this.done) return;
      const oldest = ring.oldestNs();
      if (oldest === undefined || oldest <= boundary || emptyFrom !== undefined) break;
      from = boundary;
      boundary = oldest;
    }
    this.fromRing(emptyFrom ?? ring.seqAtOrAfter(ringTime(boundary)));
  }

  private fromRing(from: number): void {
    if (this.done) return;
    // Non-follow with a count already reached (history gave them all).
    if (!this.follow && this.number > 0 && this.sent >= this.number) return this.end();
    this.sub = this.node.pipeline.subscribe({ from, follow: this.follow, onCaughtUp: () => this.end() }, (item) => {
      if (this.done) return false;
      if (item instanceof RingLoss) return this.write(lostResponse(item, this.node.nodeName));
      if (this.until && compareFlowTime(item, this.until) > 0) {
        this.end();
        return false;
      }
      if (this.since && compareFlowTime(item, this.since) < 0) return true;
      if (!this.match(item)) return true;
      return this.writeFlow(item);
    });
  }

  /** Writes a flow; false when the caller must wait for 'drain' (or the stream ended). */
  private writeFlow(flow: Flow): boolean {
    const more = this.write({ flow, node_name: flow.node_name || this.node.nodeName, time: flow.time ?? null });
    this.sent++;
    if (!this.follow && this.number > 0 && this.sent >= this.number) {
      this.end();
      return false;
    }
    return more;
  }

  private write(resp: GetFlowsResponse): boolean {
    if (this.done) return false;
    const more = this.call.write(resp);
    if (!more && this.sub && !this.drainWaiter) {
      const sub = this.sub;
      this.drainWaiter = () => {
        this.drainWaiter = undefined;
        sub.resume();
      };
      this.call.once('drain', this.drainWaiter);
    }
    return more;
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const onDrain = () => { this.call.off('cancelled', onDrain); resolve(); };
      this.call.once('drain', onDrain);
      this.call.once('cancelled', onDrain);
    });
  }

  private end(): void {
    if (this.done) return;
    this.finish(true);
  }

  private finish(endCall: boolean): void {
    const wasDone = this.done;
    this.done = true;
    this.sub?.close();
    if (this.drainWaiter) {
      this.call.off('drain', this.drainWaiter);
      this.drainWaiter = undefined;
    }
    if (endCall && !wasDone) this.call.end();
  }
}

/** <0, 0, >0 as the flow's time is before, at, after t. */
function compareFlowTime(f: Flow, t: RingTime): number {
  const ts = f.time;
  const s = ts ? (typeof ts.seconds === 'number' ? ts.seconds : Number(String(ts.seconds ?? 0))) : 0;
  if (s !== t.sec) return s < t.sec ? -1 : 1;
  return (ts?.nanos ?? 0) - t.nanos;
}
