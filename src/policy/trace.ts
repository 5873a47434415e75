/**
 * `beeline policy trace`: what the datapath would decide for one packet,
 * computed from the very map entries computeEndpoint emits, through the same
 * lookup the datapath performs (lookupPolicy): egress at the source endpoint
 * (when it is a local endpoint) and ingress at the destination endpoint.
 */
import type { CookieTable } from './cookies.js';
import { originText } from './cookies.js';
import { lookupPolicy, type MatchType } from './lookup.js';
import type { PolicyRepository } from './repository.js';
import type { Direction, EndpointInfo, EndpointPolicy, L7Parser, Origin, PolicyMapEntry } from './types.js';

/** One side of a trace: a local endpoint (its policy is computed) or just an identity (remote pod, world, host…). */
export type TraceParty = { endpoint: EndpointInfo } | { identity: number };

export interface TraceRequest {
  source: TraceParty;
  destination: TraceParty;
  /** IANA protocol number (6 TCP, 17 UDP, 132 SCTP, 1 ICMP). */
  protocol: number;
  /** Destination port (ICMP: the type). */
  port: number;
}

/** The verdict of one direction at one endpoint. */
export interface TraceStep {
  direction: Direction;
  endpointId: number;
  /** The peer identity looked up. */
  peerIdentity: number;
  /** The direction is looked up in the policy map. */
  enforced: boolean;
  /** It drops what nothing allows (133); false: only denies drop (every selecting rule says enableDefaultDeny false). */
  defaultDeny: boolean;
  verdict: 'allowed' | 'denied';
  /** 181 policy deny, 133 default deny; undefined when allowed. */
  dropReason: number | undefined;
  match: MatchType;
  /** The deciding map entry, if any. */
  entry: PolicyMapEntry | undefined;
  /** Origins that decided: the entry's cookie; for a default deny, the policies that enforce the direction. */
  origins: Origin[];
  /** Printable forms of `origins`. */
  by: string[];
  /**
   * The deciding entry redirects the connection to the node proxy (its
   * proxyPort), which enforces the L7 rules of `by` (the printable origins
   * of the redirect's sources for this peer and port); undefined: no redirect.
   */
  redirect: { proxyPort: number; parser: L7Parser; by: string[] } | undefined;
  /** Allowed only mutually authenticated (lookupPolicy's authRequired; else the datapath drops it with 189); absent: false. */
  authRequired?: boolean;
}

export interface TraceResult {
  /** Egress at the source, when the source is a local endpoint. */
  egress: TraceStep | undefined;
  /** Ingress at the destination, when the destination is a local endpoint. */
  ingress: TraceStep | undefined;
  /** True when every direction traced allows. */
  allowed: boolean;
}

const identityOf = (p: TraceParty) => ('endpoint' in p ? p.endpoint.identity : p.identity);

/** Decides one direction from an endpoint's computed policy (exported for callers that already hold it). */
export function traceStep(policy: EndpointPolicy, cookies: CookieTable, endpointId: number, direction: Direction, peerIdentity: number, protocol: number, port: number): TraceStep {
  const enforced = direction === 'ingress' ? policy.ingressEnforced : policy.egressEnforced;
  const defaultDeny = direction === 'ingress' ? policy.ingressDefaultDeny : policy.egressDefaultDeny;
  const r = lookupPolicy(policy.entries, direction, peerIdentity, protocol, port, enforced);
  const origins = r.entry ? cookies.origins(r.entry.cookie) : [];
  let redirect: TraceStep['redirect'];
  const e = r.entry;
  if (r.allowed && e && e.proxyPort) {
    // The proxy looks up the peer's own redirect first, then identity 0's, as the datapath did; the deciding entry is that one.
    const l7 = policy.l7.find((x) => x.direction === direction && x.identity === e.identity && x.protocol === e.protocol && x.port === e.port && x.portPrefixLen === e.portPrefixLen);
    const sources = !l7 ? [] : l7.parser === 'dns' ? l7.dns ?? [] : l7.parser === 'kafka' ? l7.kafka ?? [] : l7.http;
    redirect = { proxyPort: e.proxyPort, parser: l7?.parser ?? 'http', by: sources.map((h) => originText(h.origin)) };
  }
  return {
    direction, endpointId, peerIdentity, enforced, defaultDeny,
    verdict: r.allowed ? 'allowed' : 'denied', dropReason: r.dropReason, match: r.match, entry: r.entry,
    origins, by: origins.map(originText), redirect, ...(r.authRequired ? { authRequired: true } : {}),
  };
}

/** Traces one packet through the policy of its source (egress) and destination (ingress). */
export function tracePolicy(repo: PolicyRepository, req: TraceRequest): TraceResult {
  let egress: TraceStep | undefined;
  let ingress: TraceStep | undefined;
  if ('endpoint' in req.source) {
    const pol = repo.computeEndpoint(req.source.endpoint);
    egress = traceStep(pol, repo.cookies, req.source.endpoint.id, 'egress', identityOf(req.destination), req.protocol, req.port);
  }
  if ('endpoint' in req.destination) {
    const pol = repo.computeEndpoint(req.destination.endpoint);
    ingress = traceStep(pol, repo.cookies, req.destination.endpoint.id, 'ingress', identityOf(req.source), req.protocol, req.port);
  }
  return { egress, ingress, allowed: (egress?.verdict ?? 'allowed') === 'allowed' && (ingress?.verdict ?? 'allowed') === 'allowed' };
}
