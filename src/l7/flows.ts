/**
 * What every L7 flow of the node proxy shares (HTTP ./http/flows.ts, Kafka
 * ./kafka/flows.ts, DNS ./dns/flows.ts): the peers resolved through the
 * agent's caches (resolveEndpoint with the proxy's identities winning,
 * serviceByFrontend, namesForIP), the deciding policies as
 * ingress_allowed_by / egress_allowed_by by the record's direction, and the
 * fields Hubble's L7 parser fills alike for every protocol (event type 129,
 * drop_reason 0, is_reply, uuid, node_name), in the order the flows were
 * written before this module (the JSON `observe` prints is unchanged).
 * Each protocol's module adds its l7 record, verdict, time and Summary.
 */
import type { Endpoint } from '../api/generated/flow/Endpoint.js';
import type { Flow } from '../api/generated/flow/Flow.js';
import type { Layer7 } from '../api/generated/flow/Layer7.js';
import type { Policy } from '../api/generated/flow/Policy.js';
import type { TrafficDirection } from '../api/generated/flow/TrafficDirection.js';
import type { Verdict } from '../api/generated/flow/Verdict.js';
import { decidingPolicy } from '../agent/flows.js';
import { flowUuid, resolveEndpoint } from '../observer/flow.js';
import type { FlowEnricher } from '../observer/types.js';
import type { Origin } from '../policy/types.js';

/** Cilium's monitor message type of L7 records (MessageTypeAccessLog): Hubble's event_type.type of every L7 flow. */
export const MESSAGE_TYPE_ACCESS_LOG = 129;

/** What an L7 flow converter asks of the agent. */
export interface L7FlowContext {
  /** The agent's caches (endpoints, identities, Services, names); nodeName names the node. */
  enricher: FlowEnricher;
  /** The flows' node_name (default enricher.nodeName). */
  nodeName?: string;
  /** The flows' uuid (default flowUuid, as datapath flows). */
  uuid?: () => string;
}

/** One peer of an exchange as the proxy recorded it. */
export interface L7Peer {
  /** Address. */
  ip: string;
  /** Port. */
  port: number;
  /** The identity the proxy looked up for the address (0: unknown, the caches' is used). */
  identity: number;
}

/** A peer resolved through the agent's caches. */
export interface L7ResolvedPeer {
  ip: string;
  port: number;
  endpoint: Endpoint;
  service: { name: string; namespace: string } | undefined;
  names: string[];
}

/** One proxied exchange (client and server resolved once), from which its flows are made by l7Flow. */
export interface L7Exchange {
  client: L7ResolvedPeer;
  server: L7ResolvedPeer;
  /** The transport (l4 of the flows). */
  protocol: 'tcp' | 'udp';
  /** IP version of the exchange (by the client's address). */
  ipVersion: 'IPv4' | 'IPv6';
  /** The flows' traffic_direction; *_allowed_by is chosen by it. */
  direction: TrafficDirection;
  nodeName: string;
  uuid: () => string;
}

/** Resolves both peers of an exchange (endpoints, Services, names) for l7Flow. */
export function l7Exchange(ctx: L7FlowContext, client: L7Peer, server: L7Peer, protocol: 'tcp' | 'udp', direction: 'ingress' | 'egress'): L7Exchange {
  const enricher = ctx.enricher;
  const clientEp = resolveEndpoint(enricher, client.ip, client.identity);
  const serverEp = resolveEndpoint(enricher, server.ip, server.identity);
  const clientService = enricher.serviceByFrontend(client.ip, client.port, protocol);
  const serverService = enricher.serviceByFrontend(server.ip, server.port, protocol);
  return {
    client: { ip: client.ip, port: client.port, endpoint: clientEp, service: clientService, names: enricher.namesForIP(client.ip) },
    server: { ip: server.ip, port: server.port, endpoint: serverEp, service: serverService, names: enricher.namesForIP(server.ip) },
    protocol,
    ipVersion: client.ip.includes(':') ? 'IPv6' : 'IPv4',
    direction: direction === 'ingress' ? 'INGRESS' : 'EGRESS',
    nodeName: ctx.nodeName ?? enricher.nodeName,
    uuid: ctx.uuid ?? flowUuid,
  };
}

/** The two ends of a proxied TCP connection as the HTTP and Kafka proxies record them. */
export interface L7ConnectionEnds {
  /** ingress: the proxy at the destination endpoint's node; egress: at the source endpoint's node. */
  direction: 'ingress' | 'egress';
  /** The client's address and port as the proxy accepted the connection (the source pod's own: redirection is transparent). */
  srcIp: string;
  srcPort: number;
  /** The original destination: the address and port the client connected to (the transparent listener's local address). */
  dstIp: string;
  dstPort: number;
  /** Security identities of the two ends from the proxy's identity map (the ipcache). */
  srcIdentity: number;
  dstIdentity: number;
}

/** l7Exchange of a TCP connection's record (client = src, server = dst). */
export function l7ConnectionExchange(ctx: L7FlowContext, rec: L7ConnectionEnds): L7Exchange {
  return l7Exchange(ctx, { ip: rec.srcIp, port: rec.srcPort, identity: rec.srcIdentity }, { ip: rec.dstIp, port: rec.dstPort, identity: rec.dstIdentity }, 'tcp', rec.direction);
}

/** What differs between the flows of an exchange. */
export interface L7FlowFields {
  time: { seconds: number; nanos: number };
  verdict: Verdict;
  /** The l7 record (type, latency_ns, the protocol's record). */
  l7: Layer7;
  /** The policies that allowed (request flows only); undefined or empty names none. */
  allowedBy?: Policy[] | undefined;
  /** The policies whose L7 rules the request failed (a denied request, and the proxy's answer to it). */
  deniedBy?: Policy[] | undefined;
  Summary: string;
}

const EVENT_TYPE = Object.freeze({ type: MESSAGE_TYPE_ACCESS_LOG, sub_type: 0 });
const IS_REPLY_TRUE = Object.freeze({ value: true });
const IS_REPLY_FALSE = Object.freeze({ value: false });

/** A flow of an exchange: client → server when !reply, server → client when reply. */
export function l7Flow(ex: L7Exchange, reply: boolean, f: L7FlowFields): Flow {
  const [src, dst] = reply ? [ex.server, ex.client] : [ex.client, ex.server];
  const ports = { source_port: src.port, destination_port: dst.port };
  const allowedBy = f.allowedBy && f.allowedBy.length ? f.allowedBy : undefined;
  const deniedBy = f.deniedBy && f.deniedBy.length ? f.deniedBy : undefined;
  return {
    time: f.time,
    uuid: ex.uuid(),
    verdict: f.verdict,
    drop_reason: 0,
    IP: { source: src.ip, destination: dst.ip, ipVersion: ex.ipVersion },
    l4: ex.protocol === 'tcp' ? { TCP: ports, protocol: 'TCP' } : { UDP: ports, protocol: 'UDP' },
    source: src.endpoint,
    destination: dst.endpoint,
    Type: 'L7',
    node_name: ex.nodeName,
    ...(src.names.length ? { source_names: src.names } : {}),
    ...(dst.names.length ? { destination_names: dst.names } : {}),
    l7: f.l7,
    reply,
    event_type: EVENT_TYPE,
    ...(src.service ? { source_service: src.service } : {}),
    ...(dst.service ? { destination_service: dst.service } : {}),
    traffic_direction: ex.direction,
    policy_match_type: 0,
    is_reply: reply ? IS_REPLY_TRUE : IS_REPLY_FALSE,
    ...(allowedBy ? (ex.direction === 'INGRESS' ? { ingress_allowed_by: allowedBy } : { egress_allowed_by: allowedBy }) : {}),
    ...(deniedBy ? (ex.direction === 'INGRESS' ? { ingress_denied_by: deniedBy } : { egress_denied_by: deniedBy }) : {}),
    Summary: f.Summary,
  };
}

/** A deciding policy as a flow's *_allowed_by entry, with the labels Cilium gives a policy. */
export function allowingPolicy(o: Origin): Policy {
  const p = decidingPolicy(o);
  return { name: p.name, namespace: p.namespace, kind: p.kind, labels: p.labels };
}

/** A record time in microseconds as the flow's time. */
export function timeOfMicros(us: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(us / 1e6);
  return { seconds, nanos: Math.round((us - seconds * 1e6) * 1000) };
}

/** A record time in milliseconds as the flow's time. */
export function timeOfMs(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
