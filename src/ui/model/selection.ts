import type { MapEdge__Output } from '../../api/generated/servicemap/MapEdge.js';
import type { MapNode__Output } from '../../api/generated/servicemap/MapNode.js';
/** What the user picked on the map: one node, or one (possibly merged) edge. */
export type Selection =
  | { kind: 'node'; id: string; node: MapNode__Output }
  | { kind: 'edge'; id: string; edges: MapEdge__Output[]; source_id: string; destination_id: string };
