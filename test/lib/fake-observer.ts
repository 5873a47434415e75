/**
 * A node agent's Observer for tests of its clients (the relay, the CLI): real
 * gRPC on a unix socket, serving a list of flows with since/until, number,
 * first and follow, counting calls and cancellations.
 */
import type { ServerUnaryCall, ServerWritableStream, sendUnaryData } from '@grpc/grpc-js';
import { observerServiceDefinition, startGrpcServer, type GrpcServerHandle } from '../../src/api/grpc.js';
import type { Flow } from '../../src/api/generated/flow/Flow.js';
import type { GetFlowsRequest__Output } from '../../src/api/generated/observer/GetFlowsRequest.js';
import type { GetFlowsResponse } from '../../src/api/generated/observer/GetFlowsResponse.js';
import type { ServerStatusResponse } from '../../src/api/generated/observer/ServerStatusResponse.js';
import { nsOfTimestamp, timestampOfNs, type RelayPeer } from '../../src/observer/relay.js';
import { compileFlowFilters } from '../../src/observer/filter.js';

/** Flow times in tests are BASE + milliseconds (a minute ago: inside default windows). */
export const BASE = BigInt(Date.now() - 60_000) * 1_000_000n;

/** Milliseconds since BASE of now: the time of a flow that happens now. */
export function nowMs(): number {
  return Number((BigInt(Date.now()) * 1_000_000n - BASE) / 1_000_000n);
}

/** A flow from node at BASE + ms (Summary `node@ms`). */
export function flow(node: string, ms: number, extra: Partial<Flow> = {}): Flow {
  return { time: timestampOfNs(BASE + BigInt(ms) * 1_000_000n), node_name: node, verdict: 'FORWARDED', Summary: `${node}@${ms}`, ...extra };
}

/**
 * A node's Observer for tests: serves its flows (since/until, number, first,
 * follow), with an optional delay between writes to scramble arrival order.
 */
export class FakeNode {
  readonly flows: Flow[] = [];
  readonly following = new Set<ServerWritableStream<GetFlowsRequest__Output, GetFlowsResponse>>();
  cancelled = 0;
  /** Lost-event notices (at BASE + ms, with a count) served among the flows. */
  readonly lost: { ms: number; n: number }[] = [];
  calls = 0;
  server!: GrpcServerHandle;
  constructor(readonly name: string, readonly address: string, times: number[], readonly delayMs = 0, extra: Partial<Flow> = {}) {
    for (const t of times) this.flows.push(flow(name, t, extra));
  }

  async start(): Promise<this> {
    this.server = await startGrpcServer([this.address], [
      {
        definition: observerServiceDefinition(),
        implementation: {
          GetFlows: (call: ServerWritableStream<GetFlowsRequest__Output, GetFlowsResponse>) => void this.getFlows(call),
          ServerStatus: (_c: ServerUnaryCall<unknown, ServerStatusResponse>, cb: sendUnaryData<ServerStatusResponse>) =>
            cb(null, { num_flows: this.flows.length, max_flows: 100, seen_flows: this.flows.length + 1, uptime_ns: this.flows.length * 1000, version: `v-${this.name}` }),
          GetNodes: (_c: unknown, cb: sendUnaryData<unknown>) => cb(null, { nodes: [] }),
        },
      },
    ]);
    return this;
  }

  private async getFlows(call: ServerWritableStream<GetFlowsRequest__Output, GetFlowsResponse>): Promise<void> {
    this.calls++;
    call.on('cancelled', () => {
      this.cancelled++;
      this.following.delete(call);
    });
    const r = call.request;
    const since = nsOfTimestamp(r.since);
    const until = nsOfTimestamp(r.until);
    const match = compileFlowFilters(r.whitelist, r.blacklist);
    let sel = this.flows.filter((f) => {
      const t = nsOfTimestamp(f.time)!;
      return (since === undefined || t >= since) && (until === undefined || t < until) && match(f);
    });
    const n = Number(r.number);
    if (n > 0) sel = r.first ? sel.slice(0, n) : sel.slice(-n);
    const out: GetFlowsResponse[] = sel.map((f) => ({ flow: f, node_name: this.name, time: f.time }));
    for (const l of this.lost) {
      const time = timestampOfNs(BASE + BigInt(l.ms) * 1_000_000n);
      out.push({ lost_events: { source: 'PERF_EVENT_RING_BUFFER', num_events_lost: l.n }, node_name: this.name, time });
    }
    out.sort((x, y) => (nsOfTimestamp(x.time)! < nsOfTimestamp(y.time)! ? -1 : 1));
    for (const resp of out) {
      if (call.cancelled) return;
      call.write(resp);
      if (this.delayMs) await new Promise((res) => setTimeout(res, this.delayMs));
    }
    if (r.follow) this.following.add(call);
    else call.end();
  }

  /** A new flow, sent to following calls. */
  emit(ms: number): void {
    const f = flow(this.name, ms);
    this.flows.push(f);
    for (const c of this.following) c.write({ flow: f, node_name: this.name, time: f.time });
  }

  get peer(): RelayPeer {
    return { name: this.name, address: this.address };
  }
}

