/**
 * The observer's shapes: the generated contract types under the names the
 * pipeline uses, and the seams between its parts.
 */
export type { Flow, Flow__Output } from '../api/generated/flow/Flow.js';
export type { FlowFilter, FlowFilter__Output } from '../api/generated/flow/FlowFilter.js';
export type { Endpoint as FlowEndpoint } from '../api/generated/flow/Endpoint.js';
export type { Policy as FlowPolicy } from '../api/generated/flow/Policy.js';
export type { LostEvent } from '../api/generated/flow/LostEvent.js';
export type { GetFlowsRequest, GetFlowsRequest__Output } from '../api/generated/observer/GetFlowsRequest.js';
export type { GetFlowsResponse, GetFlowsResponse__Output } from '../api/generated/observer/GetFlowsResponse.js';
export type { ServerStatusResponse, ServerStatusResponse__Output } from '../api/generated/observer/ServerStatusResponse.js';
export type { Node as ObserverNode, Node__Output as ObserverNode__Output } from '../api/generated/observer/Node.js';

import type { Flow } from '../api/generated/flow/Flow.js';

/**
 * What the pipeline knows about a local or remote endpoint, from the agent's
 * own caches (endpoints, ipcache, identities). Everything optional: an
 * address nobody knows yields only its identity (world, 2).
 */
export interface EndpointInfo {
  /** Endpoint id on the observing node (0 / absent: not local). */
  id?: number;
  identity: number;
  namespace?: string;
  podName?: string;
  /** `source:key=value`, sorted (k8s:app=web, reserved:host). */
  labels: string[];
  workloads?: { name: string; kind: string }[];
}

/** A policy that decided a flow, as the flow names it (flow.Policy). */
export interface DecidingPolicy {
  name: string;
  namespace: string;
  kind: string;
  labels: string[];
  revision?: number;
}

/**
 * The agent's caches, as the flow converter asks them. Every method is a
 * cheap in-memory lookup: decoding never waits for I/O.
 */
export interface FlowEnricher {
  /** The observing node's name. */
  readonly nodeName: string;
  /** A local endpoint by its endpoint id (bl_notify_hdr.source, dst_id). */
  endpointById(id: number): EndpointInfo | undefined;
  /** Whatever is known for an address: a local or remote endpoint, a reserved identity, a CIDR identity. */
  endpointByIP(ip: string): EndpointInfo | undefined;
  /** Labels of a security identity (reserved ones too). */
  identityLabels(identity: number): string[] | undefined;
  /** The Service a frontend address and port belongs to (translated traffic). */
  serviceByFrontend(ip: string, port: number, protocol: 'tcp' | 'udp'): { name: string; namespace: string } | undefined;
  /** The policies behind a policy-map cookie (datapath bl_policy_entry.cookie). */
  policiesByCookie(cookie: number): DecidingPolicy[];
  /**
   * For a default deny: the policies that made the endpoint default-deny in
   * that direction.
   */
  defaultDenyPolicies(endpointId: number, direction: 'ingress' | 'egress'): DecidingPolicy[];
  /** DNS names learned for an address (the DNS proxy's cache, later). */
  namesForIP(ip: string): string[];
  /**
   * The local endpoint whose processes run in a cgroup (cgroup v2 id, decimal
   * string), with its address: the caller of a socket-level translation.
   */
  endpointByCgroup?(cgroupId: string): { info: EndpointInfo; ip: string } | undefined;
}

/** Nanoseconds since the epoch of a flow's time (0 when it has none). */
export function flowTimeNs(f: Flow): bigint {
  const t = f.time;
  if (!t) return 0n;
  return BigInt(String(t.seconds ?? 0)) * 1_000_000_000n + BigInt(t.nanos ?? 0);
}

/** A compiled whitelist/blacklist (src/observer/filter.ts compileFlowFilters makes them). */
export type FlowPredicate = (f: Flow) => boolean;

/**
 * Flow history on disk (src/observer/history.ts): every flow the node saw,
 * in rotated JSON-lines files (Hubble's export format). The Observer reads
 * from it when a GetFlows range starts before the oldest flow in the ring.
 */
export interface FlowHistoryReader {
  /** Time of the oldest flow the files still hold (undefined: none). */
  oldestNs(): bigint | undefined;
  /**
   * Flows with time in [sinceNs, untilNs) (untilNs undefined: no bound) that
   * match, oldest first. Never yields a flow at or after `beforeNs` (where
   * the ring takes over), so history and ring never repeat a flow.
   */
  read(range: { sinceNs: bigint; untilNs?: bigint; beforeNs?: bigint }, match: FlowPredicate): AsyncIterable<Flow>;
}

/** Where a merged flow stream goes (the relay's fan-out writes into one). */
export interface FlowSink {
  /** Takes one response; false: the consumer is full, send no more until `drained()` resolves. */
  send(r: import('../api/generated/observer/GetFlowsResponse.js').GetFlowsResponse): boolean;
  drained(): Promise<void>;
}

/** A running fan-out: resolves when the merged stream has ended; cancel() ends every upstream call. */
export interface FlowFanOut {
  readonly done: Promise<void>;
  cancel(): void;
}
