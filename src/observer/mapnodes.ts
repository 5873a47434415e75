/**
 * Where a flow lands on the service map: its nodes (client, the Service it
 * went through, server) and edges, with the ids the relay's map gives them
 * (`workload/shop/web`, `service/shop/web`, `reserved//world`,
 * `fqdn//api.example.com`, `ip//10.0.0.9`; edges `src>dst:proto/port`).
 * Pure and browser-safe: servicemap.ts names its nodes and edges with it, and
 * the web UI finds a selected node's or edge's flows with the same ids.
 *
 * flowMapPath is what one flow alone says. The relay's map knows more over
 * time (servicemap.ts): the packets of a connection the socket layer
 * translated carry no Service, yet the map puts them on the Service's path;
 * the UI joins them through the map's own edges (src/ui/model/selection.ts).
 */
import type { Endpoint } from '../api/generated/flow/Endpoint.js';
import type { Flow } from '../api/generated/flow/Flow.js';
import type { MapNodeKind } from '../api/generated/servicemap/MapNodeKind.js';

/** Reserved identities by precedence: kube-apiserver endpoints also carry reserved:host or world. */
const RESERVED = ['kube-apiserver', 'host', 'remote-node', 'health', 'ingress', 'world', 'world-ipv4', 'world-ipv6', 'init', 'unmanaged'];

/** One node of the map as a flow's endpoint makes it. */
export type NodeRef = { id: string; kind: MapNodeKind; name: string; namespace: string; labels: string[]; identity?: number };

/** What a flow's endpoint is on the map. */
export function nodeRef(ep: Endpoint | null | undefined, ip: string | undefined, names: string[] | undefined): NodeRef {
  const labels = ep?.labels ?? [];
  const identity = ep?.identity || undefined;
  const ns = ep?.namespace ?? '';
  if (ep?.pod_name) {
    const w = ep.workloads?.[0];
    const name = w?.name || ep.pod_name;
    return { id: `workload/${ns}/${name}`, kind: 'WORKLOAD', name, namespace: ns, labels: labels.filter((l) => !l.startsWith('k8s:io.kubernetes.pod.namespace') && !l.includes('pod-template-hash')), identity };
  }
  const reserved = RESERVED.find((r) => labels.includes(`reserved:${r}`));
  const world = reserved === undefined || reserved.startsWith('world');
  if (names?.length && world) return { id: `fqdn//${names[0]}`, kind: 'FQDN', name: names[0]!, namespace: '', labels: [], identity };
  if (reserved) {
    const name = reserved.startsWith('world') ? 'world' : reserved;
    return { id: `reserved//${name}`, kind: 'RESERVED', name, namespace: '', labels: [`reserved:${name}`], identity };
  }
  const addr = ip || 'unknown';
  return { id: `ip//${addr}`, kind: 'IP', name: addr, namespace: '', labels: labels.filter((l) => l.startsWith('cidr:')), identity };
}

/** The node of a Service a flow went through. */
export function serviceRef(svc: { name?: string; namespace?: string }): NodeRef {
  const ns = svc.namespace ?? '';
  const name = svc.name ?? '';
  return { id: `service/${ns}/${name}`, kind: 'SERVICE', name, namespace: ns, labels: [] };
}

/** The protocol of an L7 record's edge: http, dns, kafka (l7 for others). */
export function l7Protocol(l7: NonNullable<Flow['l7']>): string {
  return l7.record ?? (l7.http ? 'http' : l7.dns ? 'dns' : l7.kafka ? 'kafka' : 'l7');
}

/** A flow's layer 4 as the map reads it. */
export interface L4 {
  proto: string;
  sport: number;
  dport: number;
  syn?: boolean;
  ack?: boolean;
}

export function l4Of(f: Flow): L4 {
  const l4 = f.l4;
  if (l4?.TCP) return { proto: 'tcp', sport: l4.TCP.source_port ?? 0, dport: l4.TCP.destination_port ?? 0, syn: l4.TCP.flags?.SYN, ack: l4.TCP.flags?.ACK };
  if (l4?.UDP) return { proto: 'udp', sport: l4.UDP.source_port ?? 0, dport: l4.UDP.destination_port ?? 0 };
  if (l4?.SCTP) return { proto: 'sctp', sport: l4.SCTP.source_port ?? 0, dport: l4.SCTP.destination_port ?? 0 };
  if (l4?.ICMPv4 || l4?.ICMPv6) return { proto: 'icmp', sport: 0, dport: 0 };
  return { proto: 'ip', sport: 0, dport: 0 };
}

/** The id of the edge from src to dst for a protocol and port. */
export function mapEdgeId(src: string, dst: string, protocol: string, port: number): string {
  return `${src}>${dst}:${protocol}/${port}`;
}

/**
 * What a flow is to the map: an L7 request or response record, a reply of a
 * connection (counted on its request's edge), or any other flow.
 */
export type FlowRole = 'request' | 'response' | 'reply' | 'flow';

/** A flow's place on the map: client → [Service →] server, on one protocol and port. */
export interface FlowMapPath {
  role: FlowRole;
  /** Client, the destination Service when there is one, server. */
  nodes: NodeRef[];
  /** One edge between each consecutive pair of nodes. */
  edges: { id: string; source_id: string; destination_id: string }[];
  protocol: string;
  port: number;
  l4: L4;
}

/**
 * The nodes and edges a flow makes on the map. Replies and L7 responses
 * travel server → client, so they sit on the edge of the request that
 * opened them: client and server swapped, the port their source port.
 */
export function flowMapPath(f: Flow): FlowMapPath {
  const l7 = f.l7;
  const l4 = l4Of(f);
  const reply = f.is_reply ? !!f.is_reply.value : !!f.reply;
  if (l7 && (l7.type === 'REQUEST' || l7.type === 'RESPONSE')) {
    const proto = l7Protocol(l7);
    return l7.type === 'REQUEST' ? path(f, 'request', 'source', proto, l4.dport, l4) : path(f, 'response', 'destination', proto, l4.sport, l4);
  }
  if (reply && f.verdict !== 'DROPPED') return path(f, 'reply', 'destination', l4.proto, l4.sport, l4);
  return path(f, 'flow', 'source', l4.proto, l4.dport, l4);
}

function path(f: Flow, role: FlowRole, clientSide: 'source' | 'destination', protocol: string, port: number, l4: L4): FlowMapPath {
  const fromSource = clientSide === 'source';
  const client = nodeRef(fromSource ? f.source : f.destination, fromSource ? f.IP?.source : f.IP?.destination, fromSource ? f.source_names : f.destination_names);
  const server = nodeRef(fromSource ? f.destination : f.source, fromSource ? f.IP?.destination : f.IP?.source, fromSource ? f.destination_names : f.source_names);
  const svc = f.destination_service;
  const nodes: NodeRef[] = svc?.name ? [client, serviceRef(svc), server] : [client, server];
  const edges = nodes.slice(1).map((n, i) => ({ id: mapEdgeId(nodes[i]!.id, n.id, protocol, port), source_id: nodes[i]!.id, destination_id: n.id }));
  return { role, nodes, edges, protocol, port, l4 };
}
