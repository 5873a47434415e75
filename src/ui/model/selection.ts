/**
 * What is selected on the service map, and which flows belong to it: the
 * flow table shows only those (client-side), with the same node and edge ids
 * the relay's map gives (src/observer/mapnodes.ts).
 */
import type { Flow } from '../../api/generated/flow/Flow.js';
import type { MapEdge__Output } from '../../api/generated/servicemap/MapEdge.js';
import type { MapNode__Output } from '../../api/generated/servicemap/MapNode.js';
import { flowMapPath, mapEdgeId } from '../../observer/mapnodes.js';

/** A selected node, or a selected edge (merged edges of a collapsed namespace: all of them). */
export type Selection = { kind: 'node'; id: string; node: MapNode__Output } | { kind: 'edge'; id: string; edges: MapEdge__Output[]; source_id: string; destination_id: string };

/** Id prefix of a collapsed namespace's node (`namespace/<ns>`), which stands for every node of the namespace. */
export const NAMESPACE_NODE_PREFIX = 'namespace/';

/** The map ids a flow touches: its nodes (with their namespaces) and edges. */
export interface FlowMapIds {
  nodes: { id: string; namespace: string }[];
  edges: string[];
}

/** The map ids of a flow, computed once per flow held. */
export function flowMapIds(f: Flow): FlowMapIds {
  const p = flowMapPath(f);
  return { nodes: p.nodes.map((n) => ({ id: n.id, namespace: n.namespace })), edges: p.edges.map((e) => e.id) };
}

/** A Service a direct edge's packets may have gone through: the Service's node and its two edges. */
export interface ServiceHop {
  service: string;
  in: string;
  out: string;
}

/**
 * Where the map saw Services between two nodes: the id of the direct edge
 * `client>backend:proto/port` → the Services the map has on a path client →
 * Service → backend with that protocol and port. A packet of a connection
 * the socket layer translated names no Service (it goes pod to pod), but the
 * relay's map puts it on the Service's path; this lets the table find it
 * there too.
 */
export type ServiceIndex = ReadonlyMap<string, readonly ServiceHop[]>;

type EdgeLike = { id?: string; source_id?: string; destination_id?: string; protocol?: string; port?: number };

/** The ServiceIndex of a map's edges. */
export function serviceIndex(edges: readonly EdgeLike[]): ServiceIndex {
  const into = new Map<string, EdgeLike[]>();
  const outOf = new Map<string, EdgeLike[]>();
  for (const e of edges) {
    const key = (svc: string) => `${svc}|${e.protocol}/${e.port}`;
    if (e.destination_id?.startsWith('service/')) into.set(key(e.destination_id), [...(into.get(key(e.destination_id)) ?? []), e]);
    if (e.source_id?.startsWith('service/')) outOf.set(key(e.source_id), [...(outOf.get(key(e.source_id)) ?? []), e]);
  }
  const index = new Map<string, ServiceHop[]>();
  for (const [k, ins] of into) {
    for (const a of ins) {
      for (const b of outOf.get(k) ?? []) {
        const direct = mapEdgeId(a.source_id!, b.destination_id!, a.protocol ?? '', a.port ?? 0);
        index.set(direct, [...(index.get(direct) ?? []), { service: a.destination_id!, in: a.id!, out: b.id! }]);
      }
    }
  }
  return index;
}

const NO_SERVICES: ServiceIndex = new Map();

/** A predicate over flows' map ids for one selection (ids prepared once, not per flow). */
export function selectionMatcher(sel: Selection, services: ServiceIndex = NO_SERVICES): (ids: FlowMapIds) => boolean {
  const hops = (ids: FlowMapIds) => (ids.edges.length === 1 ? (services.get(ids.edges[0]!) ?? []) : []);
  if (sel.kind === 'node') {
    if (sel.id.startsWith(NAMESPACE_NODE_PREFIX)) {
      const ns = sel.id.slice(NAMESPACE_NODE_PREFIX.length);
      return (ids) => ids.nodes.some((n) => n.namespace === ns) || hops(ids).some((h) => h.service.startsWith(`service/${ns}/`));
    }
    return (ids) => ids.nodes.some((n) => n.id === sel.id) || hops(ids).some((h) => h.service === sel.id);
  }
  const wanted = new Set(sel.edges.map((e) => e.id));
  return (ids) => ids.edges.some((e) => wanted.has(e)) || hops(ids).some((h) => wanted.has(h.in) || wanted.has(h.out));
}

/** Whether a flow belongs to the selected node or edge (services: the map's, for translated connections). */
export function flowMatchesSelection(f: Flow, sel: Selection, services?: ServiceIndex): boolean {
  return selectionMatcher(sel, services)(flowMapIds(f));
}

/** The chip's words for a selection: `workload default/tiefighter`, `default/tiefighter → default/deathstar`. */
export function selectionLabel(sel: Selection): string {
  const short = (id: string) => id.replace(/^[a-z]+\//, '').replace(/^\//, '');
  if (sel.kind === 'node') return `${(sel.node.kind ?? '').toLowerCase()} ${short(sel.id)}`;
  return `${short(sel.source_id)} → ${short(sel.destination_id)}`;
}

/** A map node's labels as SuggestPolicy takes them: `k8s:app=x` → `{'k8s:app': 'x'}` (value-less labels: ''). */
export function labelsMap(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const i = l.indexOf('=');
    if (i < 0) out[l] = '';
    else out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}
