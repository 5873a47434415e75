/**
 * What is selected on the service map, and which flows belong to it: the
 * flow table shows only those (client-side), with the same node and edge ids
 * the relay's map gives (src/observer/mapnodes.ts).
 */
import type { Flow } from '../../api/generated/flow/Flow.js';
import type { MapEdge__Output } from '../../api/generated/servicemap/MapEdge.js';
import type { MapNode__Output } from '../../api/generated/servicemap/MapNode.js';
import { flowMapPath } from '../../observer/mapnodes.js';

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

/** A predicate over flows' map ids for one selection (ids prepared once, not per flow). */
export function selectionMatcher(sel: Selection): (ids: FlowMapIds) => boolean {
  if (sel.kind === 'node') {
    if (sel.id.startsWith(NAMESPACE_NODE_PREFIX)) {
      const ns = sel.id.slice(NAMESPACE_NODE_PREFIX.length);
      return (ids) => ids.nodes.some((n) => n.namespace === ns);
    }
    return (ids) => ids.nodes.some((n) => n.id === sel.id);
  }
  const wanted = new Set(sel.edges.map((e) => e.id));
  return (ids) => ids.edges.some((e) => wanted.has(e));
}

/** Whether a flow belongs to the selected node or edge. */
export function flowMatchesSelection(f: Flow, sel: Selection): boolean {
  return selectionMatcher(sel)(flowMapIds(f));
}

/** The chip's words for a selection: `workload default/tiefighter`, `default/tiefighter → default/deathstar`. */
export function selectionLabel(sel: Selection): string {
  const short = (id: string) => id.replace(/^[a-z]+\//, '').replace(/^\//, '');
  if (sel.kind === 'node') return `${sel.node.kind.toLowerCase()} ${short(sel.id)}`;
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
