/**
 * The service map: who talks to whom, built from flows. A pure builder
 * (flows in, graph out) plus the ServiceMap gRPC service the relay serves
 * over its own merged GetFlows.
 *
 * Nodes: pods grouped by their workload (Endpoint.workloads[0], else the pod
 * itself); Services (destination_service: client → Service → backend, both
 * edges); reserved identities (world, host, remote-node, health,
 * kube-apiserver, from `reserved:` labels); outside peers known by DNS name
 * (destination_names / source_names) as FQDN; anything else by its address.
 * Ids are stable: `kind/namespace/name` (`workload/shop/web`, `reserved//world`).
 *
 * What an edge counts (`flows`): connections and requests, not packets, as
 * Hubble's UI shows them. A forwarded or audited L3/L4 flow counts when it
 * starts a connection: a TCP SYN without ACK, the first packet of any other
 * protocol (trace_reason NEW), or a policy-verdict event; the same start seen
 * again within 10 s (both nodes' observation points, the verdict next to its
 * trace, a retransmitted SYN) counts once. A drop always counts: every dropped
 * packet is a failed attempt; a start the source's node let out and the
 * destination's node dropped counts as that drop only. An L7 request record counts on its protocol's
 * edge (http/dns/kafka); its response (reversed to client → server) brings the
 * status class and latency. Replies and mid-connection packets count nothing
 * and make no edge, but move an existing edge's last_seen. The packets of a
 * connection the socket layer translated (they go pod to pod and carry no
 * Service) are put on the path through the Service the translation named.
 */
import { status as GrpcStatus, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Flow } from '../api/generated/flow/Flow.js';
import type { Endpoint } from '../api/generated/flow/Endpoint.js';
import type { GetFlowsRequest } from '../api/generated/observer/GetFlowsRequest.js';
import type { GetServiceMapRequest__Output } from '../api/generated/servicemap/GetServiceMapRequest.js';
import type { GetServiceMapResponse } from '../api/generated/servicemap/GetServiceMapResponse.js';
import type { MapEdge } from '../api/generated/servicemap/MapEdge.js';
import type { MapNode } from '../api/generated/servicemap/MapNode.js';
import type { FlowFanOut, FlowSink } from './types.js';
import { flowTimeNs } from './types.js';
import { l4Of, l7Protocol, mapEdgeId, nodeRef, serviceRef, type L4, type NodeRef } from './mapnodes.js';

export interface ServiceMapOptions {
  /** Only flows with a source or destination (or destination Service) in these namespaces; empty: all. */
  namespaces?: string[];
}

/** Repeats of a connection start within this window count once. */
const DEDUP_NS = 10_000_000_000n;
/** Latency samples kept per edge (a uniform sample beyond that). */
const MAX_SAMPLES = 10_000;
/** How long a socket-level translation puts its connection's packets on the Service's path. */
const TRANSLATION_NS = 5n * 60n * 1_000_000_000n;
/** Connection starts remembered for dedup before the oldest are forgotten. */
const MAX_STARTS = 100_000;

interface NodeAcc {
  node: MapNode & { id: string; labels: string[] };
  identities: Set<number>;
}

interface EdgeAcc {
  id: string;
  source_id: string;
  destination_id: string;
  protocol: string;
  port: number;
  flows: number;
  forwarded: number;
  dropped: number;
  audit: number;
  requests: number;
  responses: number;
  status: Map<string, number>;
  latencies: number[];
  latencySeen: number;
  dropReasons: Set<string>;
  lastSeen: bigint;
}

/** Builds a service map incrementally: add() flows, build() a graph whenever needed. */
export class ServiceMapBuilder {
  private readonly namespaces?: Set<string>;
  private readonly nodes = new Map<string, NodeAcc>();
  private readonly edges = new Map<string, EdgeAcc>();
  /** Connection starts seen lately: when, and the edges they were counted on as forwarded (none once dropped). */
  private readonly starts = new Map<string, { t: bigint; edges: EdgeAcc[] }>();
  /**
   * Socket-level translations lately seen: `client|backend|port` → the
   * Service, and how many of its connections no packet has claimed yet. The
   * packets of a connection the socket layer translated carry no Service
   * (they go pod to pod), so they are put on the Service's path by these.
   */
  private readonly translations = new Map<string, { service: { name: string; namespace: string }; t: bigint; pending: number; edges: EdgeAcc[] }>();
  private flowCount = 0;

  constructor(opts: ServiceMapOptions = {}) {
    if (opts.namespaces?.length) this.namespaces = new Set(opts.namespaces);
  }

  /** Takes one flow into the graph (ignored when outside the namespaces). */
  add(f: Flow): void {
    if (this.namespaces && !this.inNamespaces(f)) return;
    this.flowCount++;
    const t = flowTimeNs(f);
    const l7 = f.l7;
    const reply = f.is_reply ? !!f.is_reply.value : !!f.reply;
    const l4 = l4Of(f);
    if (l7 && (l7.type === 'REQUEST' || l7.type === 'RESPONSE')) {
      const proto = l7Protocol(l7);
      if (l7.type === 'REQUEST') {
        for (const e of this.edgesOf(f.source, f.destination, f, 'source', proto, l4.dport, t)) {
          e.requests++;
          this.countVerdict(e, f);
        }
      } else {
        // A response travels server → client; the edge is the client's request.
        for (const e of this.edgesOf(f.destination, f.source, f, 'destination', proto, l4.sport, t)) {
          e.responses++;
          const code = l7.http?.code ?? 0;
          if (code > 0) e.status.set(`${Math.floor(code / 100)}xx`, (e.status.get(`${Math.floor(code / 100)}xx`) ?? 0) + 1);
          const ns = Number(String(l7.latency_ns ?? 0));
          if (ns > 0) addSample(e, ns / 1e6);
          if (f.verdict === 'DROPPED') this.countVerdict(e, f);
        }
      }
      return;
    }
    if (reply && f.verdict !== 'DROPPED') {
      // A reply belongs to the connection its request opened: only last_seen moves.
      this.edgesOf(f.destination, f.source, f, 'destination', l4.proto, l4.sport, t, false);
      return;
    }
    // Packets in the middle of a connection (or of one whose start is out of the window) make no edge of their own.
    const counts = this.countsAsConnection(f, l4, t);
    const edges = this.edgesOf(f.source, f.destination, f, 'source', l4.proto, l4.dport, t, counts);
    if (!counts) return;
    const start = this.starts.get(this.startKey(f, l4));
    if (start && f.verdict !== 'DROPPED' && !start.edges.length) start.edges = edges;
    const sockStart = f.Type === 'SOCK' && f.verdict === 'TRANSLATED' && !!f.destination_service?.name;
    if (sockStart) {
      const x = this.translation(f.IP?.source, f.IP?.destination, l4.dport, t, f.destination_service!)!;
      x.pending++;
      x.edges = edges;
    } else if (!f.destination_service?.name) {
      // The first packet of a translated connection is the connection the translation already counted.
      const x = this.translation(f.IP?.source, f.IP?.destination, l4.dport, t);
      if (x && x.pending > 0) {
        x.pending--;
        if (f.verdict !== 'DROPPED') {
          if (start) start.edges = x.edges;
          return;
        }
        for (const e of x.edges) uncountForwarded(e);
      }
    }
    for (const e of edges) this.countVerdict(e, f);
  }

  /** The translation of `client → backend:port` seen lately (recorded when `service` is given). */
  private translation(client: string | undefined, backend: string | undefined, port: number, t: bigint, service?: { name?: string; namespace?: string }) {
    const key = `${client}|${backend}|${port}`;
    let x = this.translations.get(key);
    if (x && t - x.t > TRANSLATION_NS) {
      this.translations.delete(key);
      x = undefined;
    }
    if (service) {
      if (!x || x.service.name !== service.name || x.service.namespace !== (service.namespace ?? '')) x = { service: { name: service.name ?? '', namespace: service.namespace ?? '' }, t, pending: 0, edges: [] };
      x.t = t;
      this.translations.delete(key);
      this.translations.set(key, x);
      if (this.translations.size > MAX_STARTS) this.translations.delete(this.translations.keys().next().value!);
    }
    return x;
  }

  /** The graph of everything added so far; ids sorted for stable output. */
  build(window: { sinceNs?: bigint; untilNs?: bigint } = {}): GetServiceMapResponse {
    const nodes = [...this.nodes.values()]
      .map((n): MapNode => ({ ...n.node, identities: [...n.identities].sort((a, b) => a - b) }))
      .sort((a, b) => cmp(a.id!, b.id!));
    const edges = [...this.edges.values()]
      .map((e): MapEdge => {
        const lat = [...e.latencies].sort((a, b) => a - b);
        return {
          id: e.id,
          source_id: e.source_id,
          destination_id: e.destination_id,
          protocol: e.protocol,
          port: e.port,
          flows: String(e.flows),
          forwarded: String(e.forwarded),
          dropped: String(e.dropped),
          audit: String(e.audit),
          // Without request records (only responses seen), each response stands for its request.
          requests: String(Math.max(e.requests, e.responses)),
          status: Object.fromEntries([...e.status].sort((a, b) => cmp(a[0], b[0])).map(([k, v]) => [k, String(v)])),
          latency_p50_ms: percentile(lat, 50),
          latency_p95_ms: percentile(lat, 95),
          latency_p99_ms: percentile(lat, 99),
          drop_reasons: [...e.dropReasons].sort(),
          last_seen: e.lastSeen > 0n ? timestampOf(e.lastSeen) : null,
        };
      })
      .sort((a, b) => cmp(a.id!, b.id!));
    return {
      nodes,
      edges,
      since: window.sinceNs !== undefined ? timestampOf(window.sinceNs) : null,
      until: window.untilNs !== undefined ? timestampOf(window.untilNs) : null,
      flows: String(this.flowCount),
    };
  }

  private inNamespaces(f: Flow): boolean {
    const ns = this.namespaces!;
    return ns.has(f.source?.namespace ?? '') || ns.has(f.destination?.namespace ?? '') || ns.has(f.destination_service?.namespace ?? '');
  }

  private countVerdict(e: EdgeAcc, f: Flow): void {
    e.flows++;
    if (f.verdict === 'DROPPED') {
      e.dropped++;
      const why = f.drop_reason_desc;
      if (why && why !== 'DROP_REASON_UNKNOWN') e.dropReasons.add(String(why));
    } else if (f.verdict === 'AUDIT') e.audit++;
    else if (f.verdict === 'FORWARDED' || f.verdict === 'TRANSLATED' || f.verdict === 'REDIRECTED' || f.verdict === 'TRACED') e.forwarded++;
  }

  /**
   * Whether a flow starts a connection that counts. A drop always counts; a
   * start the source's node let out (counted forwarded) and the
   * destination's node then dropped (the same packet, its second
   * observation point) is one dropped connection: the forwarded count moves
   * to the drop, so an edge whose every connection was refused shows only
   * drops (Hubble UI's red edge).
   */
  private countsAsConnection(f: Flow, l4: L4, t: bigint): boolean {
    const dropped = f.verdict === 'DROPPED';
    const policyVerdict = f.event_type?.type === 5;
    // A socket-level Service translation is one connect() (or one unconnected datagram): a start, named by its socket.
    const sock = f.Type === 'SOCK';
    const start = sock ? f.verdict === 'TRANSLATED' : policyVerdict || (l4.proto === 'tcp' ? !!l4.syn && !l4.ack : f.trace_reason === 'NEW');
    if (!start) return dropped;
    const key = this.startKey(f, l4);
    const prev = this.starts.get(key);
    this.starts.delete(key);
    const recent = prev !== undefined && !(t - prev.t > DEDUP_NS || prev.t - t > DEDUP_NS);
    // The edges a forwarded start counted on are filled in by add(), once made.
    this.starts.set(key, { t, edges: dropped || !recent ? [] : prev.edges });
    if (this.starts.size > MAX_STARTS) this.starts.delete(this.starts.keys().next().value!);
    if (dropped) {
      if (recent) {
        for (const e of prev.edges) uncountForwarded(e);
      }
      return true;
    }
    return !recent;
  }

  /** What names one connection start: its socket for a socket-level translation, else its 5-tuple. */
  private startKey(f: Flow, l4: L4): string {
    return f.Type === 'SOCK' ? `sock|${f.socket_cookie}|${f.IP?.destination}|${l4.dport}` : `${f.IP?.source}|${l4.sport}|${f.IP?.destination}|${l4.dport}|${l4.proto}`;
  }

  /** The edge(s) a flow from src to dst makes: through its Service when it has one. */
  private edgesOf(src: Endpoint | null | undefined, dst: Endpoint | null | undefined, f: Flow, srcSide: 'source' | 'destination', protocol: string, port: number, t: bigint, create = true): EdgeAcc[] {
    const ips = f.IP;
    const srcIP = srcSide === 'source' ? ips?.source : ips?.destination;
    const dstIP = srcSide === 'source' ? ips?.destination : ips?.source;
    const srcNames = srcSide === 'source' ? f.source_names : f.destination_names;
    const dstNames = srcSide === 'source' ? f.destination_names : f.source_names;
    const a = this.node(nodeRef(src, srcIP, srcNames), create);
    const b = this.node(nodeRef(dst, dstIP, dstNames), create);
    const svc = f.destination_service?.name ? f.destination_service : this.translation(srcIP, dstIP, port, t)?.service;
    const pairs: [string, string][] = [];
    if (svc?.name) {
      const s = this.node(serviceRef(svc), create);
      pairs.push([a, s], [s, b]);
    } else pairs.push([a, b]);
    const out: EdgeAcc[] = [];
    for (const [x, y] of pairs) {
      const e = this.edge(x, y, protocol, port, t, create);
      if (e) out.push(e);
    }
    return out;
  }

  /** The node's id; the node is made when `create`, else only an existing one learns the identity. */
  private node(ref: NodeRef, create = true): string {
    let n = this.nodes.get(ref.id);
    if (!n) {
      if (!create) return ref.id;
      n = { node: { id: ref.id, kind: ref.kind, name: ref.name, namespace: ref.namespace, labels: ref.labels }, identities: new Set() };
      this.nodes.set(ref.id, n);
    }
    if (ref.identity) n.identities.add(ref.identity);
    return ref.id;
  }

  /** The edge, made when `create`; an existing one's last_seen moves. */
  private edge(src: string, dst: string, protocol: string, port: number, t: bigint, create = true): EdgeAcc | undefined {
    const id = mapEdgeId(src, dst, protocol, port);
    let e = this.edges.get(id);
    if (!e) {
      if (!create) return undefined;
      e = { id, source_id: src, destination_id: dst, protocol, port, flows: 0, forwarded: 0, dropped: 0, audit: 0, requests: 0, responses: 0, status: new Map(), latencies: [], latencySeen: 0, dropReasons: new Set(), lastSeen: 0n };
      this.edges.set(id, e);
    }
    if (t > e.lastSeen) e.lastSeen = t;
    return e;
  }
}

/** A connection counted as forwarded turned out dropped: it counts as the drop only. */
function uncountForwarded(e: EdgeAcc): void {
  if (e.forwarded > 0) {
    e.forwarded--;
    e.flows--;
  }
}

/** The service map of some flows (see the file comment for what counts). */
export function buildServiceMap(flows: Iterable<Flow>, opts: ServiceMapOptions = {}): GetServiceMapResponse {
  const b = new ServiceMapBuilder(opts);
  for (const f of flows) b.add(f);
  return b.build();
}

function addSample(e: EdgeAcc, ms: number): void {
  e.latencySeen++;
  if (e.latencies.length < MAX_SAMPLES) e.latencies.push(ms);
  else {
    // Reservoir sampling: every response equally likely to be kept.
    const j = Math.floor(Math.random() * e.latencySeen);
    if (j < MAX_SAMPLES) e.latencies[j] = ms;
  }
}

/** Nearest-rank percentile of sorted samples (0 when none). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function timestampOf(ns: bigint) {
  return { seconds: String(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) };
}

function nsOf(t: { seconds?: unknown; nanos?: number } | null | undefined): bigint | undefined {
  if (!t) return undefined;
  return BigInt(String(t.seconds ?? 0)) * 1_000_000_000n + BigInt(t.nanos ?? 0);
}

/** Default window of GetServiceMap / WatchServiceMap without `since`. */
export const SERVICE_MAP_WINDOW_MS = 5 * 60_000;
export const SERVICE_MAP_INTERVAL_MS = 2000;

/** Starts a merged GetFlows into a sink: the relay's fan-out (Relay.flows). */
export type FlowSource = (req: GetFlowsRequest, sink: FlowSink) => FlowFanOut;

/** The ServiceMap service over a flow source (the relay's own merge). */
export function serviceMapImplementation(source: FlowSource): UntypedServiceImplementation {
  const window = (req: GetServiceMapRequest__Output) => {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const untilNs = nsOf(req.until);
    const sinceNs = nsOf(req.since) ?? (untilNs ?? nowNs) - BigInt(SERVICE_MAP_WINDOW_MS) * 1_000_000n;
    return { sinceNs, untilNs, nowNs };
  };
  const feed = (b: ServiceMapBuilder): FlowSink => ({
    send: (r) => {
      if (r.flow) b.add(r.flow);
      return true;
    },
    drained: () => Promise.resolve(),
  });
  const filters = (req: GetServiceMapRequest__Output) => ({ whitelist: req.whitelist, blacklist: req.blacklist });

  return {
    GetServiceMap: (call: ServerUnaryCall<GetServiceMapRequest__Output, GetServiceMapResponse>, cb: sendUnaryData<GetServiceMapResponse>) => {
      const req = call.request;
      const w = window(req);
      const until = w.untilNs ?? w.nowNs;
      const b = new ServiceMapBuilder({ namespaces: req.namespaces });
      const run = source({ ...filters(req), since: timestampOf(w.sinceNs), until: timestampOf(until), follow: false }, feed(b));
      call.on('cancelled', () => run.cancel());
      run.done.then(
        () => cb(null, b.build({ sinceNs: w.sinceNs, untilNs: until })),
        (e: Error) => cb({ code: GrpcStatus.INTERNAL, details: e.message, name: 'Error', message: e.message }),
      );
    },
    WatchServiceMap: (call: ServerWritableStream<GetServiceMapRequest__Output, GetServiceMapResponse>) => {
      const req = call.request;
      const w = window(req);
      const interval = req.interval_ms > 0 ? req.interval_ms : SERVICE_MAP_INTERVAL_MS;
      const b = new ServiceMapBuilder({ namespaces: req.namespaces });
      let run: FlowFanOut | undefined;
      let timer: NodeJS.Timeout | undefined;
      let ended = false;
      let full = false;
      const finish = () => {
        if (ended) return;
        ended = true;
        clearInterval(timer);
        run?.cancel();
        if (!call.cancelled) {
          snapshot();
          call.end();
        }
      };
      const snapshot = () => {
        // A slow reader gets the latest graph when it catches up, not a backlog.
        if (full || call.cancelled) return;
        const untilNs = BigInt(Date.now()) * 1_000_000n;
        if (!call.write(b.build({ sinceNs: w.sinceNs, untilNs: w.untilNs !== undefined && w.untilNs < untilNs ? w.untilNs : untilNs }))) {
          full = true;
          call.once('drain', () => (full = false));
        }
      };
      call.on('cancelled', () => {
        ended = true;
        clearInterval(timer);
        run?.cancel();
      });
      // The window so far first (one graph), then follow from there.
      const startNs = w.untilNs !== undefined && w.untilNs < w.nowNs ? w.untilNs : w.nowNs;
      run = source({ ...filters(req), since: timestampOf(w.sinceNs), until: timestampOf(startNs), follow: false }, feed(b));
      run.done.then(() => {
        if (ended) return;
        snapshot();
        if (w.untilNs !== undefined && w.untilNs <= startNs) return finish();
        run = source({ ...filters(req), since: timestampOf(startNs), ...(w.untilNs !== undefined ? { until: timestampOf(w.untilNs) } : {}), follow: true }, feed(b));
        timer = setInterval(snapshot, interval);
        run.done.then(finish, finish);
      }, finish);
    },
  };
}
