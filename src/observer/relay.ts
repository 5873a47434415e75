/**
 * The relay (hubble-relay's part): one Observer endpoint for the whole
 * cluster. Every GetFlows is fanned out to each node's Observer and the
 * answers merged into one time-ordered stream; ServerStatus and GetNodes
 * aggregate the nodes' own. Peers are looked up on every request, so nodes
 * that join or leave need no restart.
 *
 * Ordering: each node sends its flows oldest first, so the merge is a k-way
 * merge over a priority queue: a response goes out once every node still
 * streaming has sent something at least as new (nothing older can come), or
 * once it has waited `sortBufferMs` (a quiet node must not hold the stream
 * back), or when the buffer holds `maxSortBuffer` responses. That is
 * hubble-relay's bounded sort buffer and drain timeout, made exact when the
 * nodes are busy.
 */
import { status as GrpcStatus, type ServerUnaryCall, type ServerWritableStream, type ServiceError, type ClientReadableStream, type sendUnaryData, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { observerClient, passThroughObserverClient, serviceMapServiceDefinition } from '../api/grpc.js';
import { passThroughObserverDefinition } from '../api/passthrough.js';
import type { ObserverClient } from '../api/generated/observer/Observer.js';
import type { GetFlowsRequest, GetFlowsRequest__Output } from '../api/generated/observer/GetFlowsRequest.js';
import type { GetFlowsResponse, GetFlowsResponse__Output } from '../api/generated/observer/GetFlowsResponse.js';
import type { ServerStatusResponse, ServerStatusResponse__Output } from '../api/generated/observer/ServerStatusResponse.js';
import type { GetNodesResponse } from '../api/generated/observer/GetNodesResponse.js';
import type { Node } from '../api/generated/observer/Node.js';
import type { NodeState } from '../api/generated/relay/NodeState.js';
import type { Timestamp } from '../api/generated/google/protobuf/Timestamp.js';
import { logger, type Logger } from '../common/log.js';
import { PriorityQueue } from './queue.js';
import { serviceMapImplementation } from './servicemap.js';

/** A node the relay reads from: its name and its Observer's gRPC address. */
export interface RelayPeer {
  name: string;
  /** `unix:///path/observer.sock` or `host:port`. */
  address: string;
}

export interface RelayOptions {
  /** The nodes to fan out to, asked on every request (keep it cheap). */
  peers: () => RelayPeer[] | Promise<RelayPeer[]>;
  /** Reported by ServerStatus (the relay's own version). */
  version: string;
  /** How long a response may wait in the sort buffer for an older one from a quieter node (hubble-relay: 1 s). */
  sortBufferMs?: number;
  /** Responses held for sorting before the oldest is sent regardless (hubble-relay: 100). */
  maxSortBuffer?: number;
  /** How long a node may take to answer before it counts as unavailable (hubble-relay: 5 s). */
  dialTimeoutMs?: number;
  /** While following: how often nodes that were unavailable, failed or are new are tried again. */
  peerRetryMs?: number;
  /** node_name on the relay's own node_status events. */
  name?: string;
  log?: Logger;
}

/** Where merged responses go: the gRPC call, or an in-process consumer (the service map). */
export type { FlowSink, FlowFanOut } from './types.js';
import type { FlowSink, FlowFanOut } from './types.js';

/** One node's ServerStatus, or why it has none. */
export type PeerStatus = { peer: RelayPeer; ok: true; status: ServerStatusResponse__Output } | { peer: RelayPeer; ok: false; error: string };

export const RELAY_DEFAULTS = { sortBufferMs: 1000, maxSortBuffer: 100, dialTimeoutMs: 5000, peerRetryMs: 5000 } as const;

// A fresh channel per request with its own subchannels: a node that was down
// a moment ago is dialled now, not after grpc-js's shared reconnect backoff.
const PEER_CHANNEL = { 'grpc.use_local_subchannel_pool': 1 } as const;

export class Relay {
  readonly opts: Required<Omit<RelayOptions, 'log'>> & { log: Logger };

  constructor(opts: RelayOptions) {
    this.opts = {
      sortBufferMs: RELAY_DEFAULTS.sortBufferMs,
      maxSortBuffer: RELAY_DEFAULTS.maxSortBuffer,
      dialTimeoutMs: RELAY_DEFAULTS.dialTimeoutMs,
      peerRetryMs: RELAY_DEFAULTS.peerRetryMs,
      name: 'relay',
      log: logger('relay'),
      // An option given as undefined keeps its default.
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    } as Relay['opts'];
  }

  private readonly started = Date.now();

  /** The Observer service to hand startGrpcServer. */
  service(): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
    return {
      // GetFlows passes the nodes' responses through as they encoded them (src/api/passthrough.ts).
      definition: passThroughObserverDefinition(),
      implementation: {
        GetFlows: (call: ServerWritableStream<GetFlowsRequest__Output, GetFlowsResponse>) => this.serveFlows(call),
        ServerStatus: (_call: ServerUnaryCall<unknown, ServerStatusResponse>, cb: sendUnaryData<ServerStatusResponse>) => {
          this.serverStatus().then((r) => cb(null, r), (e: Error) => cb(grpcError(GrpcStatus.INTERNAL, e.message)));
        },
        GetNodes: (_call: ServerUnaryCall<unknown, GetNodesResponse>, cb: sendUnaryData<GetNodesResponse>) => {
          this.nodes().then((r) => cb(null, { nodes: r }), (e: Error) => cb(grpcError(GrpcStatus.INTERNAL, e.message)));
        },
      },
    };
  }

  /** The ServiceMap service (src/observer/servicemap.ts), fed by this relay's merged flows. */
  serviceMapService(): { definition: ServiceDefinition; implementation: UntypedServiceImplementation } {
    return { definition: serviceMapServiceDefinition(), implementation: serviceMapImplementation((req, sink) => this.flows(req, sink)) };
  }

  /** Every node's ServerStatus, asked in parallel within dialTimeoutMs. */
  async peerStatuses(): Promise<PeerStatus[]> {
    const peers = await this.listPeers();
    return Promise.all(
      peers.map(async (peer) => {
        const client = observerClient(peer.address, PEER_CHANNEL);
        try {
          return { peer, ok: true as const, status: await askStatus(client, this.opts.dialTimeoutMs) };
        } catch (e) {
          return { peer, ok: false as const, error: errorText(e) };
        } finally {
          client.close();
        }
      }),
    );
  }

  /** The cluster's status: flow counts summed, the longest uptime, which nodes answered. */
  async serverStatus(): Promise<ServerStatusResponse> {
    const all = await this.peerStatuses();
    let num = 0n, max = 0n, seen = 0n, uptime = 0n;
    const unavailable: string[] = [];
    for (const s of all) {
      if (!s.ok) {
        unavailable.push(s.peer.name);
        continue;
      }
      num += BigInt(s.status.num_flows);
      max += BigInt(s.status.max_flows);
      seen += BigInt(s.status.seen_flows);
      if (BigInt(s.status.uptime_ns) > uptime) uptime = BigInt(s.status.uptime_ns);
    }
    return {
      num_flows: String(num),
      max_flows: String(max),
      seen_flows: String(seen),
      uptime_ns: String(uptime),
      num_connected_nodes: { value: all.length - unavailable.length },
      num_unavailable_nodes: { value: unavailable.length },
      unavailable_nodes: unavailable.sort(),
      version: this.opts.version,
    };
  }

  /** One Node per peer, sorted by name, with that node's own status when it answered. */
  async nodes(): Promise<Node[]> {
    const all = await this.peerStatuses();
    return all
      .map((s): Node => {
        const base = { name: s.peer.name, address: s.peer.address, tls: { enabled: false, server_name: '' } };
        if (!s.ok) return { ...base, state: 'NODE_UNAVAILABLE' };
        return { ...base, state: 'NODE_CONNECTED', version: s.status.version, uptime_ns: s.status.uptime_ns, num_flows: s.status.num_flows, max_flows: s.status.max_flows, seen_flows: s.status.seen_flows };
      })
      .sort((a, b) => (a.name! < b.name! ? -1 : a.name! > b.name! ? 1 : 0));
  }

  /** Starts a fan-out of req to every node, merged into sink. */
  flows(req: GetFlowsRequest, sink: FlowSink): FlowFanOut {
    const f = new FanOut(this, req, sink);
    return { done: f.run(), cancel: () => f.cancel() };
  }

  /** How long this relay has run. */
  uptimeMs(): number {
    return Date.now() - this.started;
  }

  /** @internal peers(), never throwing: a failing lookup is logged and means no peers. */
  async listPeers(): Promise<RelayPeer[]> {
    try {
      const peers = await this.opts.peers();
      const seen = new Set<string>();
      return peers.filter((p) => (seen.has(p.name) ? false : (seen.add(p.name), true)));
    } catch (e) {
      this.opts.log.warn('listing peers failed', { error: errorText(e) });
      return [];
    }
  }

  private serveFlows(call: ServerWritableStream<GetFlowsRequest__Output, GetFlowsResponse>): void {
    const sink: FlowSink = {
      send: (r) => call.write(r),
      drained: () => new Promise<void>((resolve) => {
        const done = () => {
          call.off('drain', done);
          call.off('cancelled', done);
          resolve();
        };
        call.on('drain', done);
        call.on('cancelled', done);
      }),
    };
    const f = this.flows(call.request, sink);
    call.on('cancelled', () => f.cancel());
    f.done.then(
      () => {
        if (!call.cancelled) call.end();
      },
      (e: Error) => {
        if (!call.cancelled) call.destroy(grpcError(GrpcStatus.INTERNAL, e.message));
      },
    );
  }
}

function grpcError(code: GrpcStatus, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: undefined as never });
}

/** The words of a gRPC or other error, without grpc-js's "14 UNAVAILABLE: " prefix. */
function errorText(e: unknown): string {
  const se = e as Partial<ServiceError>;
  // grpc-js appends an empty "Resolution note:" to connection failures.
  if (typeof se?.details === 'string' && se.details) return se.details.replace(/\s*Resolution note:\s*$/, '');
  return e instanceof Error ? e.message : String(e);
}

function askStatus(client: ObserverClient, timeoutMs: number): Promise<ServerStatusResponse__Output> {
  return new Promise((resolve, reject) => client.ServerStatus({}, { deadline: Date.now() + timeoutMs }, (err, r) => (err || !r ? reject(err ?? new Error('empty ServerStatus')) : resolve(r))));
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** A protobuf Timestamp of nanoseconds since the epoch. */
export function timestampOfNs(ns: bigint): Timestamp {
  return { seconds: String(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) };
}

/** Nanoseconds since the epoch of a Timestamp (undefined when absent). */
export function nsOfTimestamp(t: Timestamp | null | undefined): bigint | undefined {
  if (!t) return undefined;
  return BigInt(String(t.seconds ?? 0)) * 1_000_000_000n + BigInt(t.nanos ?? 0);
}

/** A response's time: its own, else its flow's, else now (the relay's events). */
function responseNs(r: GetFlowsResponse__Output): bigint {
  const t = nsOfTimestamp(r.time) ?? nsOfTimestamp(r.flow?.time);
  return t && t > 0n ? t : nowNs();
}

interface Item {
  r: GetFlowsResponse__Output;
  t: bigint;
  seq: number;
  arrivedMs: number;
}

/** Past this many times maxSortBuffer, the oldest goes out even if a node may still send older (memory bound). */
const HARD_CAP = 4;

const older = (a: Item, b: Item) => a.t < b.t || (a.t === b.t && a.seq < b.seq);
const newer = (a: Item, b: Item) => older(b, a);

interface Upstream {
  peer: RelayPeer;
  client: ObserverClient;
  call: ClientReadableStream<GetFlowsResponse__Output>;
  ended: boolean;
  /** Time of the newest response so far: the node sends nothing older. */
  last?: bigint;
  lastMsgMs: number;
  /** Following with `number`: the node has sent a flow newer than the request (its history is over). */
  live: boolean;
  /** Read paused (a full consumer, or this node running ahead of a full sort buffer). */
  paused: boolean;
}

/** One GetFlows request's fan-out and merge. */
class FanOut {
  private readonly opts: Relay['opts'];
  private readonly follow: boolean;
  private readonly limit: number;
  private readonly first: boolean;
  private readonly t0 = nowNs();
  private readonly upstreams = new Map<string, Upstream>();
  /** Last state reported per node, so following never repeats one. */
  private readonly reported = new Map<string, NodeState>();
  private readonly queue = new PriorityQueue<Item>(older);
  /** `number` set: the N newest (or, with `first`, oldest) history flows; undefined once sent. */
  private history?: PriorityQueue<Item>;
  /** Ready for the consumer, in order (from outHead on). */
  private out: GetFlowsResponse[] = [];
  private outHead = 0;
  private seq = 0;
  private collecting = true;
  private blocked = false;
  /** When a full consumer last let go: time paused does not count as waiting for a slow node. */
  private unblockedMs = 0;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private retry?: NodeJS.Timeout;
  private resolveDone!: () => void;
  private readonly done = new Promise<void>((r) => (this.resolveDone = r));

  constructor(private readonly relay: Relay, private readonly req: GetFlowsRequest, private readonly sink: FlowSink) {
    this.opts = relay.opts;
    this.follow = !!req.follow;
    this.limit = Number(req.number ?? 0);
    this.first = !!req.first;
    // The N newest overall are among the N newest of each node: each node
    // gets the same `number`, the relay keeps the best N of their union.
    if (this.limit > 0) this.history = new PriorityQueue<Item>(this.first ? newer : older);
  }

  async run(): Promise<void> {
    await this.collect(this.req);
    this.collecting = false;
    if (this.follow && !this.closed) this.scheduleRetry();
    this.pump();
    return this.done;
  }

  cancel(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop();
    this.resolveDone();
  }

  private stop(): void {
    clearTimeout(this.timer);
    clearTimeout(this.retry);
    for (const up of this.upstreams.values()) {
      if (!up.ended) up.call.cancel();
      up.client.close();
    }
  }

  /** Probes the nodes not streaming yet, reports who answered, then starts their streams. */
  private async collect(req: GetFlowsRequest): Promise<void> {
    const peers = (await this.relay.listPeers()).filter((p) => !this.upstreams.has(p.name));
    const probed = await Promise.all(
      peers.map(async (peer) => {
        const client = passThroughObserverClient(peer.address, PEER_CHANNEL);
        try {
          await askStatus(client, this.opts.dialTimeoutMs);
          return { peer, client, error: undefined };
        } catch (e) {
          // A node without ServerStatus still answers GetFlows.
          if ((e as ServiceError).code === GrpcStatus.UNIMPLEMENTED) return { peer, client, error: undefined };
          client.close();
          return { peer, client, error: errorText(e) };
        }
      }),
    );
    if (this.closed) {
      for (const p of probed) p.client.close();
      return;
    }
    const connected = probed.filter((p) => !p.error);
    const newlyConnected = connected.filter((p) => this.reported.get(p.peer.name) !== 'NODE_CONNECTED').map((p) => p.peer.name);
    if (newlyConnected.length) this.status('NODE_CONNECTED', newlyConnected);
    for (const p of probed) {
      if (!p.error) continue;
      if (this.reported.get(p.peer.name) !== 'NODE_UNAVAILABLE') this.status('NODE_UNAVAILABLE', [p.peer.name], `${p.peer.name}: ${p.error}`);
      this.opts.log.debug('node unavailable', { node: p.peer.name, address: p.peer.address, error: p.error });
    }
    for (const p of connected) this.start(p.peer, p.client, req);
    this.flushOut();
  }

  private status(state: NodeState, names: string[], message = ''): void {
    for (const n of names) this.reported.set(n, state);
    this.out.push({ node_name: this.opts.name, time: timestampOfNs(nowNs()), node_status: { state_change: state, node_names: names, message } });
  }

  private start(peer: RelayPeer, client: ObserverClient, req: GetFlowsRequest): void {
    const call = client.GetFlows(req);
    const up: Upstream = { peer, client, call, ended: false, lastMsgMs: Date.now(), live: false, paused: false };
    this.upstreams.set(peer.name, up);
    this.throttle();
    call.on('data', (r: GetFlowsResponse__Output) => this.onData(up, r));
    call.on('error', (e: ServiceError) => this.onEnd(up, e));
    call.on('end', () => this.onEnd(up));
  }

  private onData(up: Upstream, r: GetFlowsResponse__Output): void {
    if (this.closed || up.ended) return;
    const item: Item = { r, t: responseNs(r), seq: this.seq++, arrivedMs: Date.now() };
    up.lastMsgMs = item.arrivedMs;
    if (up.last === undefined || item.t > up.last) up.last = item.t;
    if (this.history && r.response_types === 'flow') {
      if (this.follow && item.t > this.t0) up.live = true;
      else {
        this.history.push(item);
        if (this.history.size > this.limit) this.history.pop();
        this.pump();
        return;
      }
    }
    this.queue.push(item);
    this.pump();
  }

  private onEnd(up: Upstream, err?: ServiceError): void {
    if (up.ended) return;
    up.ended = true;
    up.client.close();
    if (this.closed) return;
    if (err) {
      const why = errorText(err);
      this.opts.log.warn('node stream failed', { node: up.peer.name, address: up.peer.address, error: why });
      this.status('NODE_ERROR', [up.peer.name], `${up.peer.name}: ${why}`);
    }
    // Following: a node that failed or stopped is tried again by the retry loop.
    if (this.follow) this.upstreams.delete(up.peer.name);
    this.pump();
  }

  /** Every node is done streaming: nothing more will come (following without `until` never ends). */
  private finished(): boolean {
    if (this.collecting) return false;
    for (const up of this.upstreams.values()) if (!up.ended) return false;
    return !this.follow || this.req.until != null;
  }

  /** Has every node sent its history (the `number` part of a followed request)? */
  private historyOver(now: number): boolean {
    if (this.collecting) return false;
    if (this.queue.size >= this.opts.maxSortBuffer) return true;
    for (const up of this.upstreams.values()) {
      if (up.ended || up.live) continue;
      // A node with no more history goes quiet (or, not following, ends).
      if (!this.follow || now - up.lastMsgMs < this.opts.sortBufferMs) return false;
    }
    return true;
  }

  /** Could a node still streaming send something older than t? */
  private safe(t: bigint): boolean {
    for (const up of this.upstreams.values()) {
      if (up.ended) continue;
      if (up.last === undefined || up.last < t) return false;
    }
    return true;
  }

  /** Moves what is ready from the buffers to the consumer, then ends or re-arms the timer. */
  private pump(): void {
    if (this.closed || this.collecting) return;
    const now = Date.now();
    const finished = this.finished();
    if (this.history) {
      if (!finished && !this.historyOver(now)) {
        this.arm(this.nextHistoryCheck());
        this.flushOut();
        return;
      }
      const picked = this.history.drain().sort((a, b) => (older(a, b) ? -1 : 1));
      this.history = undefined;
      for (const it of picked) this.out.push(it.r);
    }
    while (!this.blocked && this.queue.size > 0) {
      const top = this.queue.peek()!;
      const ready = finished || this.queue.size > HARD_CAP * this.opts.maxSortBuffer || this.waitedSince(top) + this.opts.sortBufferMs <= now || this.safe(top.t);
      if (!ready) break;
      this.out.push(this.queue.pop()!.r);
      this.flushOut();
    }
    this.flushOut();
    this.throttle();
    if (finished && this.queue.size === 0 && this.outHead === this.out.length) {
      this.closed = true;
      this.stop();
      this.resolveDone();
      return;
    }
    const top = this.queue.peek();
    this.arm(top && !this.blocked ? this.waitedSince(top) + this.opts.sortBufferMs : Infinity);
  }

  private waitedSince(it: Item): number {
    return Math.max(it.arrivedMs, this.unblockedMs);
  }

  private nextHistoryCheck(): number {
    let at = Infinity;
    for (const up of this.upstreams.values()) if (!up.ended && !up.live) at = Math.min(at, up.lastMsgMs + this.opts.sortBufferMs);
    return this.follow ? at : Infinity;
  }

  /** One timer for the next moment something may become ready (Infinity: none); kept when unchanged. */
  private arm(atMs: number): void {
    if (atMs === this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = atMs;
    if (!Number.isFinite(atMs)) return;
    this.timer = setTimeout(() => {
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, atMs - Date.now()) + 1);
  }

  /** Writes the queued responses while the consumer takes them; a full consumer pauses every node. */
  private flushOut(): void {
    while (!this.blocked && this.outHead < this.out.length && !this.closed) {
      const r = this.out[this.outHead++]!;
      if (this.outHead === this.out.length) {
        this.out = [];
        this.outHead = 0;
      } else if (this.outHead > 1024 && this.outHead * 2 > this.out.length) {
        this.out = this.out.slice(this.outHead);
        this.outHead = 0;
      }
      if (this.sink.send(r)) continue;
      this.blocked = true;
      this.throttle();
      void this.sink.drained().then(() => {
        this.blocked = false;
        this.unblockedMs = Date.now();
        this.throttle();
        this.flushOut();
        this.pump();
      });
    }
  }

  /**
   * Flow control. A full consumer pauses every node. A full sort buffer
   * pauses the nodes that are ahead (they sent something at least as new as
   * the oldest buffered response) so the laggards can catch up and the
   * merge stays exact; the drain timeout still bounds how long they wait.
   */
  private throttle(): void {
    const top = this.queue.peek();
    const full = top !== undefined && this.queue.size >= this.opts.maxSortBuffer;
    for (const up of this.upstreams.values()) {
      if (up.ended) continue;
      const pause = this.blocked || (full && up.last !== undefined && up.last >= top.t);
      if (pause === up.paused) continue;
      up.paused = pause;
      if (pause) up.call.pause();
      else up.call.resume();
    }
  }

  private scheduleRetry(): void {
    this.retry = setTimeout(() => {
      // Nodes that join later (or come back) stream from now on: their past
      // would arrive behind flows already sent.
      const req: GetFlowsRequest = { ...this.req, number: 0, first: false, since: timestampOfNs(nowNs()) };
      void this.collect(req).then(() => {
        if (this.closed) return;
        this.pump();
        this.scheduleRetry();
      });
    }, this.opts.peerRetryMs);
  }
}
