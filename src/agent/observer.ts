/**
 * The agent's flow observer: bl_events records → decode queue → Flows
 * (enriched from the agent's caches) → the ring, the Observer gRPC API (unix
 * socket and the node's TCP port), Hubble's metrics, and the flow history
 * files. One per agent; started after the datapath, stopped before it.
 */
import { dirname, join } from 'node:path';
import type { Logger } from '../common/log.js';
import { startGrpcServer, type GrpcServerHandle } from '../api/grpc.js';
import { decodeMonitorEvent } from '../observer/event.js';
import { flowFromEvent } from '../observer/flow.js';
import { FlowPipeline, type FlowPipelineStats } from '../observer/pipeline.js';
import { observerService } from '../observer/server.js';
import { compileFlowFilters } from '../observer/filter.js';
import { FlowExporter, type FlowExportStatus } from '../observer/history.js';
import { DEFAULT_METRICS, FlowMetrics, startMetricsServer, type AgentHealthSource } from '../observer/metrics.js';
import type { FlowEnricher, FlowFilter } from '../observer/types.js';
import { startHttpAccessReceiver, type HttpAccessReceiver, type HttpAccessReceiverStats } from '../l7/http/receiver.js';
import type { Flow } from '../observer/types.js';
import type { NodeDatapath } from './datapath.js';
import type { ObserverConfig } from './types.js';

/** What `GET /v1/observer` reports. */
export interface ObserverStatus {
  enabled: boolean;
  socket?: string;
  listen?: string;
  metrics?: string[];
  ring: { flows: number; capacity: number };
  pipeline?: FlowPipelineStats;
  export?: FlowExportStatus;
  /** The node proxy's HTTP records (L7 flows), when the receiver runs. */
  httpAccessLog?: HttpAccessReceiverStats;
}

/**
 * How old the BPF maps' entry counts in the metrics may be (ms). Counting
 * walks every key of every map (the conntrack table alone can hold
 * millions); with this bound the walks are at most one per 10 s, however
 * many Prometheus servers scrape and however often.
 */
export const MAP_ENTRIES_MAX_AGE_MS = 10_000;

/** `host:port` (the last colon splits: `[::1]:4244` too). */
function hostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  const host = text.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port: Number(text.slice(i + 1)) };
}

export class AgentObserver {
  readonly pipeline: FlowPipeline | undefined;
  readonly metrics: FlowMetrics | undefined;
  readonly exporter: FlowExporter | undefined;
  #grpc: GrpcServerHandle | undefined;
  #metricsServer: { close(): Promise<void> } | undefined;
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #kernelLostSeen = 0;
  #queueLostSeen = 0;
  #flushSeen: string | undefined;
  #http: HttpAccessReceiver | undefined;
  readonly #socket: string | undefined;
  /** Clients of the raw records (`monitor`): the observer is the ring buffer's one reader. */
  readonly #raw = new Set<(record: Buffer) => void>();

  constructor(
    private readonly cfg: ObserverConfig,
    private readonly ctx: { nodeName: string; version: string; agentSocket: string; datapath: NodeDatapath; enricher: FlowEnricher; health: AgentHealthSource; log: Logger; policyFlush?: () => { at: string; ms: number } | undefined },
  ) {
    if (cfg.enabled === false) return;
    this.#socket = cfg.socket ?? join(dirname(ctx.agentSocket), 'observer.sock');
    const enricher = ctx.enricher;
    this.pipeline = new FlowPipeline({
      decode: (record) => flowFromEvent(decodeMonitorEvent(record), enricher),
      // Kernel stamps from two CPUs can be a few microseconds out of order in
      // the ring buffer, and the proxy's L7 records arrive when their exchange
      // is over: the ring, the history and the relay's merge want each node's
      // flows in time order, so a flow is never older than the one before.
      monotonicTime: true,
      ...(cfg.ringSize ? { ringCapacity: cfg.ringSize } : {}),
      ...(cfg.queueSize ? { queueSize: cfg.queueSize } : {}),
      onError: (err, where) => ctx.log.debug('flow pipeline', { where, error: (err as Error).message }),
      // Past its rate the agent stops reading; the kernel drops and counts, and decoding goes on at full speed.
      onPressure: (paused) => ctx.datapath.pauseEvents?.(paused),
    });
    this.metrics = new FlowMetrics(cfg.metrics?.families ?? DEFAULT_METRICS, { health: ctx.health, mapsMaxAgeMs: MAP_ENTRIES_MAX_AGE_MS });
    if (cfg.export) {
      const allow = (cfg.export.allowlist ?? []) as FlowFilter[];
      const deny = (cfg.export.denylist ?? []) as FlowFilter[];
      this.exporter = new FlowExporter({
        path: cfg.export.path,
        nodeName: ctx.nodeName,
        ...(cfg.export.maxSizeBytes ? { maxSizeBytes: cfg.export.maxSizeBytes } : {}),
        ...(cfg.export.maxBackups !== undefined ? { maxBackups: cfg.export.maxBackups } : {}),
        allowlist: allow,
        denylist: deny,
        ...(allow.length || deny.length ? { match: compileFlowFilters(allow, deny) } : {}),
      });
    }
    const metrics = this.metrics;
    const exporter = this.exporter;
    this.pipeline.onFlow((flow) => {
      metrics.process(flow);
      exporter?.export(flow);
    });
  }

  /** Starts reading the datapath's events and serving; a port that cannot be bound is fatal (the caller exits). */
  async start(startedAt: number): Promise<void> {
    const p = this.pipeline;
    if (!p) return;
    this.#unsubscribe = this.ctx.datapath.subscribe((rec) => {
      p.push(rec);
      for (const l of this.#raw) l(rec);
    });
    this.#kernelLostSeen = this.ctx.datapath.eventCounters().lost;
    // Losses are counted where they happen; once a second they reach the flow stream and the metrics.
    this.#timer = setInterval(() => this.#countLosses(), 1000);
    this.#timer.unref();
    const addresses = [`unix://${this.#socket}`, ...(this.cfg.listen ? [this.cfg.listen] : [])];
    this.#grpc = await startGrpcServer(addresses, [observerService({ pipeline: p, nodeName: this.ctx.nodeName, version: this.ctx.version, startedAt, address: `unix://${this.#socket}`, ...(this.exporter ? { history: this.exporter.history } : {}) })]);
    const m = this.cfg.metrics;
    if (m && (m.listen || m.socket)) {
      this.#metricsServer = await startMetricsServer(this.metrics!, { ...(m.listen ? { tcp: hostPort(m.listen) } : {}), ...(m.socket ? { unix: m.socket } : {}) });
    }
    this.ctx.log.info('observer serving', { grpc: this.#grpc.addresses, metrics: m?.listen ?? m?.socket ?? 'off', ring: p.ring.capacity, export: this.cfg.export?.path ?? 'off' });
  }

  #countLosses(): void {
    const p = this.pipeline!;
    const kernel = this.ctx.datapath.eventCounters().lost;
    if (kernel > this.#kernelLostSeen) {
      const n = kernel - this.#kernelLostSeen;
      p.addKernelLost(n);
      this.metrics?.observeLost('perf_event_ring_buffer', n);
    }
    this.#kernelLostSeen = kernel;
    const queue = p.stats().lost.OBSERVER_EVENTS_QUEUE;
    if (queue > this.#queueLostSeen) this.metrics?.observeLost('observer_events_queue', queue - this.#queueLostSeen);
    this.#queueLostSeen = queue;
    const flush = this.ctx.policyFlush?.();
    if (flush && flush.at !== this.#flushSeen) {
      this.#flushSeen = flush.at;
      this.metrics?.observePolicyRegeneration(flush.ms / 1000);
    }
  }

  /**
   * Hands a flow made outside the datapath (an L7 flow from the node
   * proxy's record) to the pipeline: ring, metrics, history, subscribers,
   * in time order with the datapath's flows. Never waits; false when the
   * observer is disabled or its queue was full (counted as lost).
   */
  ingestFlow(flow: Flow): boolean {
    return this.pipeline?.ingestFlow(flow) ?? false;
  }

  /**
   * Starts receiving the node proxy's HTTP records (TCP, one JSON
   * HttpAccessRecord per line) at `address:port` and feeding their L7
   * flows into the pipeline; its counters appear in status().httpAccessLog.
   * Without flows (observer disabled) nothing is started. A second call
   * replaces nothing: it throws.
   * @throws HttpAccessLogListenError when the address cannot be bound.
   */
  async startHttpAccessReceiver(listen: { address: string; port: number; mtlsListener?: { ip: string; port: number } }): Promise<HttpAccessReceiver | undefined> {
    const p = this.pipeline;
    if (!p) return undefined;
    if (this.#http) throw new Error(`observer: the HTTP access log receiver already runs on ${this.#http.stats().listen}`);
    this.#http = await startHttpAccessReceiver({ ...listen, enricher: this.ctx.enricher, ingest: (f) => p.ingestFlow(f), nodeName: this.ctx.nodeName, log: this.ctx.log });
    return this.#http;
  }

  /**
   * Where the in-agent proxies (DNS, Kafka) hand their L7 flows: the
   * pipeline and the enricher they are built with. Undefined without flows.
   */
  flowSink(): { ingest: (flows: Flow[]) => void; enricher: FlowEnricher } | undefined {
    const p = this.pipeline;
    if (!p) return undefined;
    return { ingest: (flows) => { for (const f of flows) p.ingestFlow(f); }, enricher: this.ctx.enricher };
  }

  /**
   * The datapath's records as they are read, before decoding (what
   * `beeline monitor` prints); returns the unsubscribe. Without flows
   * (observer disabled) the datapath is subscribed to directly.
   */
  subscribeRaw(listener: (record: Buffer) => void): () => void {
    if (!this.pipeline) return this.ctx.datapath.subscribe(listener);
    this.#raw.add(listener);
    return () => this.#raw.delete(listener);
  }

  status(): ObserverStatus {
    const p = this.pipeline;
    if (!p) return { enabled: false, ring: { flows: 0, capacity: 0 } };
    return {
      enabled: true,
      ...(this.#socket ? { socket: this.#socket } : {}),
      ...(this.cfg.listen ? { listen: this.cfg.listen } : {}),
      ...(this.metrics ? { metrics: this.metrics.status() } : {}),
      ring: { flows: p.ring.length, capacity: p.ring.capacity },
      pipeline: p.stats(),
      ...(this.exporter ? { export: this.exporter.status() } : {}),
      ...(this.#http ? { httpAccessLog: this.#http.stats() } : {}),
    };
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await this.#http?.close();
    if (this.#timer) clearInterval(this.#timer);
    await this.#grpc?.close();
    await this.#metricsServer?.close();
    await this.exporter?.close();
    this.pipeline?.close();
  }
}
