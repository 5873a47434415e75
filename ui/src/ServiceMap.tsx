/// <reference types="vite/client" />
// The service map: who talks to whom, drawn with React Flow and laid out by
// ELK (layered, left to right, namespaces as groups). The graph itself (groups,
// collapsing, merged edges, labels, search) comes from src/ui/model/graph.ts;
// this file only draws it and keeps the layout steady under live updates: ELK
// runs again only when the layout key changes (nodes, groups, collapsing),
// never for counters, and positions the user dragged are kept.
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent as ReactKeyboardEvent } from 'react';
import {
  Controls,
  EdgeLabelRenderer,
  Handle,
  MarkerType,
  MiniMap,
  Panel,
  Position,
  ReactFlow,
  ReactFlowProvider,
  getNodesBounds,
  useReactFlow,
} from '@xyflow/react';
import type { Edge, EdgeProps, Node, NodeChange, NodeProps, XYPosition } from '@xyflow/react';
import ELK from 'elkjs/lib/elk.bundled.js';
import { toPng, toSvg } from 'html-to-image';
import '@xyflow/react/dist/style.css';
import './servicemap.css';
import type { GetServiceMapResponse__Output } from '../../src/api/generated/servicemap/GetServiceMapResponse.js';
import type { Selection } from '../../src/ui/model/selection.js';
import {
  VERDICT_COLOURS,
  boxesOf,
  buildViewGraph,
  edgeCurve,
  elkGraph,
  labelSize,
  layoutKey,
  matchNodes,
  placeLabels,
} from '../../src/ui/model/graph.js';
import type { Box, ElkOutput, Point, ViewEdge, ViewGroup, ViewNode } from '../../src/ui/model/graph.js';
import { downloadUrl } from './download.js';

export interface ServiceMapProps {
  map: GetServiceMapResponse__Output | null;
  selection: Selection | null;
  onSelect(sel: Selection | null): void;
}

const elk = new ELK();

type NodeState = { selected: boolean; match: boolean | null };
type MapNodeData = { view: ViewNode; state: NodeState; onToggle: (ns: string) => void };
type GroupData = { group: ViewGroup; onToggle: (ns: string) => void };
type EdgeData = { view: ViewEdge; selected: boolean; dim: boolean; labelAt: Point | null };
type MapFlowNode = Node<MapNodeData, 'mapnode'> | Node<MapNodeData, 'nscollapsed'> | Node<GroupData, 'nsgroup'>;
type MapFlowEdge = Edge<EdgeData, 'mapedge'>;

const KIND_ICONS: Record<ViewNode['kind'], string> = {
  workload: 'W',
  service: 'S',
  reserved: 'R',
  fqdn: 'D',
  ip: 'IP',
  namespace: 'NS',
};

function subtitle(n: ViewNode): string {
  if (n.kind === 'namespace') return `namespace · ${n.members} ${n.members === 1 ? 'member' : 'members'}`;
  return n.namespace ? `${n.kind} · ${n.namespace}` : n.kind;
}

function NodeBody({ view, state }: { view: ViewNode; state: NodeState }) {
  return (
    <div
      className={`sm-node sm-kind-${view.kind}${state.match === false ? ' sm-dim' : ''}`}
      data-testid="map-node"
      data-node-id={view.id}
      data-kind={view.kind}
      data-selected={state.selected ? 'true' : 'false'}
      data-match={state.match === null ? undefined : String(state.match)}
      aria-label={view.ariaLabel}
      title={view.id}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} className="sm-handle" />
      <span className="sm-node-icon" aria-hidden="true">{KIND_ICONS[view.kind]}</span>
      <span className="sm-node-text">
        <span className="sm-node-name">{view.name}</span>
        <span className="sm-node-sub">{subtitle(view)}</span>
      </span>
      {view.inbound && <span className="sm-node-verdict" data-verdict={view.inbound} title={`incoming: ${view.inbound}`} />}
      <Handle type="source" position={Position.Right} isConnectable={false} className="sm-handle" />
    </div>
  );
}

const MapNodeView = memo(function MapNodeView({ data }: NodeProps<Node<MapNodeData, 'mapnode'>>) {
  return <NodeBody view={data.view} state={data.state} />;
});

/** A collapsed namespace: one node, still a namespace (with its expand button). */
const CollapsedNamespaceView = memo(function CollapsedNamespaceView({ data }: NodeProps<Node<MapNodeData, 'nscollapsed'>>) {
  const ns = data.view.namespace;
  return (
    <div className="sm-ns-collapsed" data-testid="map-namespace" data-namespace={ns} data-collapsed="true">
      <NodeBody view={data.view} state={data.state} />
      <button
        type="button"
        className="sm-collapse nodrag"
        data-testid="collapse-namespace"
        aria-label={`expand ${ns}`}
        title={`expand ${ns}`}
        onClick={(e) => {
          e.stopPropagation();
          data.onToggle(ns);
        }}
      >
        +
      </button>
    </div>
  );
});

const GroupView = memo(function GroupView({ data }: NodeProps<Node<GroupData, 'nsgroup'>>) {
  const g = data.group;
  if (g.outside) {
    return (
      <div className="sm-group sm-group-outside" data-testid="map-outside">
        <div className="sm-group-header">
          <span className="sm-group-title">{g.title}</span>
        </div>
      </div>
    );
  }
  return (
    <div className="sm-group" data-testid="map-namespace" data-namespace={g.namespace} data-collapsed="false">
      <div className="sm-group-header">
        <button
          type="button"
          className="sm-collapse nodrag"
          data-testid="collapse-namespace"
          aria-label={`collapse ${g.namespace}`}
          title={`collapse ${g.namespace}`}
          onClick={(e) => {
            e.stopPropagation();
            data.onToggle(g.namespace);
          }}
        >
          −
        </button>
        <span className="sm-group-title">{g.title}</span>
        <span className="sm-group-count">{g.children.length}</span>
      </div>
    </div>
  );
});

/** A loop above a node for traffic that stays inside it (a collapsed namespace talking to itself). */
function loopPath(sx: number, sy: number, tx: number, ty: number): [string, number, number] {
  const top = Math.min(sy, ty) - 70;
  return [`M ${sx},${sy} C ${sx + 60},${top} ${tx - 60},${top} ${tx},${ty}`, (sx + tx) / 2, top + 18];
}

const MapEdgeView = memo(function MapEdgeView(p: EdgeProps<MapFlowEdge>) {
  const d = p.data!;
  const e = d.view;
  let path: string, lx: number, ly: number;
  // The middle of the curve (for a loop, its top).
  let mx = (p.sourceX + p.targetX) / 2;
  let my = (p.sourceY + p.targetY) / 2;
  if (p.source === p.target) {
    [path, lx, ly] = loopPath(p.sourceX, p.sourceY, p.targetX, p.targetY);
    [mx, my] = [lx, ly - 12];
  } else {
    const [a, b, c, t] = edgeCurve({ x: p.sourceX, y: p.sourceY }, { x: p.targetX, y: p.targetY });
    path = `M ${a.x},${a.y} C ${b.x},${b.y} ${c.x},${c.y} ${t.x},${t.y}`;
    // The spot placeLabels chose on this same curve (middle if nothing else is known).
    lx = d.labelAt?.x ?? (a.x + t.x) / 2;
    ly = d.labelAt?.y ?? (a.y + t.y) / 2;
  }
  const colour = VERDICT_COLOURS[e.verdict];
  const width = 1.5 + Math.min(3, Math.log10(1 + e.requests));
  return (
    <>
      <g
        className={`sm-edge${d.selected ? ' sm-edge-selected' : ''}${d.dim ? ' sm-dim' : ''}`}
        data-testid="map-edge"
        data-edge-id={e.id}
        data-source={e.source}
        data-target={e.target}
        data-verdict={e.verdict}
        data-selected={d.selected ? 'true' : 'false'}
        stroke={colour}
      >
        <title>{`${e.ariaLabel}\n${e.flows} flows: ${e.forwarded} forwarded, ${e.dropped} dropped${e.audit ? `, ${e.audit} audit` : ''}`}</title>
        <path d={path} className="sm-edge-path" fill="none" stroke={colour} strokeWidth={d.selected ? width + 2 : width} markerEnd={p.markerEnd} />
        <path d={path} className="sm-edge-hit" fill="none" stroke="transparent" strokeWidth={18} />
        {/* A target at the middle: gives a straight edge a box with height (clickable, "visible") whose centre is on the line. */}
        <rect className="sm-edge-hit" x={mx - 9} y={my - 9} width={18} height={18} fill="transparent" stroke="none" />
      </g>
      <EdgeLabelRenderer>
        <div
          className={`sm-edge-label sm-verdict-${e.verdict}${d.selected ? ' sm-edge-label-selected' : ''}${d.dim ? ' sm-dim' : ''}`}
          style={{ transform: `translate(-50%, -50%) translate(${lx}px, ${ly}px)` }}
          data-edge-label={e.id}
        >
          {e.label.map((line, i) => (
            <div key={i} className={i === 0 ? 'sm-edge-proto' : i === 2 ? 'sm-edge-errors' : 'sm-edge-rate'}>
              {line}
            </div>
          ))}
        </div>
      </EdgeLabelRenderer>
    </>
  );
});

const nodeTypes = { mapnode: MapNodeView, nscollapsed: CollapsedNamespaceView, nsgroup: GroupView };
const edgeTypes = { mapedge: MapEdgeView };

const KIND_MINIMAP: Record<string, string> = {
  workload: '#1565c0',
  service: '#6a1b9a',
  reserved: '#546e7a',
  fqdn: '#00838f',
  ip: '#6d4c41',
  namespace: '#37474f',
};

function minimapColour(n: Node): string {
  if (n.type === 'nsgroup') return 'rgba(120, 144, 156, 0.15)';
  const v = (n.data as MapNodeData).view;
  return KIND_MINIMAP[v.kind] ?? '#90a4ae';
}

/**
 * Keeps the previous object for an id when what it shows (its signature) is
 * unchanged: React Flow then skips that node or edge, so a live update that
 * only moves a few counters re-renders only those.
 */
class Reuse<T> {
  private prev = new Map<string, { sig: string; item: T }>();
  private next = new Map<string, { sig: string; item: T }>();
  get(id: string, sig: string, make: () => T): T {
    const old = this.prev.get(id);
    const item = old && old.sig === sig ? old.item : make();
    this.next.set(id, { sig, item });
    return item;
  }
  /** Ends a pass: what was not asked for is forgotten. */
  done(): void {
    this.prev = this.next;
    this.next = new Map();
  }
}

/** The map: see the file's header. */
export function ServiceMap(p: ServiceMapProps) {
  return (
    <ReactFlowProvider>
      <ServiceMapFlow {...p} />
    </ReactFlowProvider>
  );
}

interface Layout {
  key: string;
  boxes: Map<string, Box>;
}

function ServiceMapFlow({ map, selection, onSelect }: ServiceMapProps) {
  const rf = useReactFlow<MapFlowNode, MapFlowEdge>();
  const containerRef = useRef<HTMLDivElement>(null);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const [query, setQuery] = useState('');
  const [layout, setLayout] = useState<Layout | null>(null);
  const [layoutMs, setLayoutMs] = useState<number | null>(null);
  const [dragged, setDragged] = useState<ReadonlyMap<string, XYPosition>>(() => new Map());
  const [exportError, setExportError] = useState<string | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const fitted = useRef(false);

  const view = useMemo(() => buildViewGraph(map, collapsed), [map, collapsed]);
  const key = useMemo(() => layoutKey(view), [view]);
  const viewRef = useRef(view);
  viewRef.current = view;

  // Lay out again only when the key changes; a stale result is dropped.
  useEffect(() => {
    if (layout?.key === key) return;
    let stale = false;
    const started = performance.now();
    elk
      .layout(elkGraph(viewRef.current))
      .then((res) => {
        if (stale) return;
        setLayoutMs(Math.round(performance.now() - started));
        setLayoutError(null);
        const boxes = boxesOf(res as ElkOutput);
        // A graph that lost nodes (a filter, another namespace picked, the relay
        // back after a restart) may leave the viewport on empty space: fit it
        // once more. Live updates only add nodes and keep the user's view.
        if (layout && [...layout.boxes.keys()].some((id) => !boxes.has(id))) fitted.current = false;
        setLayout({ key, boxes });
      })
      .catch((err: unknown) => {
        if (!stale) setLayoutError(`layout failed: ${err instanceof Error ? err.message : String(err)}`);
      });
    return () => {
      stale = true;
    };
  }, [key]);

  const onToggle = useCallback((ns: string) => {
    fitted.current = false;
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(ns)) next.delete(ns);
      else next.add(ns);
      return next;
    });
  }, []);

  const matches = useMemo(() => matchNodes(view, query), [view, query]);

  const nodeCache = useRef(new Reuse<MapFlowNode>()).current;
  const edgeCache = useRef(new Reuse<MapFlowEdge>()).current;

  const nodes = useMemo((): MapFlowNode[] => {
    if (!layout) return [];
    const out: MapFlowNode[] = [];
    const placed = (id: string, box: Box): XYPosition => dragged.get(id) ?? { x: box.x, y: box.y };
    for (const g of view.groups) {
      const box = layout.boxes.get(g.id);
      if (!box) continue;
      const at = placed(g.id, box);
      const sig = JSON.stringify([at, box.width, box.height, g.title, g.children.length]);
      out.push(nodeCache.get(g.id, sig, () => ({
        id: g.id,
        type: 'nsgroup',
        position: at,
        width: box.width,
        height: box.height,
        measured: { width: box.width, height: box.height },
        data: { group: g, onToggle },
        selectable: false,
        focusable: false,
        dragHandle: '.sm-group-header',
        style: { pointerEvents: 'none' },
        // Below edges and their labels (children still draw above: z = parent + 1).
        zIndex: -1,
      })));
    }
    for (const n of view.nodes) {
      const box = layout.boxes.get(n.id);
      if (!box) continue;
      if (n.group !== null && !layout.boxes.has(n.group)) continue;
      const selected = selection?.kind === 'node' && selection.id === n.id;
      const match = matches === null ? null : matches.has(n.id);
      const at = placed(n.id, box);
      const sig = JSON.stringify([at, n.width, n.name, n.kind, n.namespace, n.members, n.inbound, n.ariaLabel, n.group, selected, match]);
      const make = (): MapFlowNode => {
        const common = {
          id: n.id,
          position: at,
          width: n.width,
          height: n.height,
          // Sizes and handles are fixed by the layout: React Flow needs no
          // measuring pass (and fitView, which waits for one, runs at once).
          measured: { width: n.width, height: n.height },
          handles: [
            { type: 'target' as const, position: Position.Left, x: 0, y: n.height / 2 - 0.5, width: 1, height: 1, id: null },
            { type: 'source' as const, position: Position.Right, x: n.width - 1, y: n.height / 2 - 0.5, width: 1, height: 1, id: null },
          ],
          data: { view: n, state: { selected, match }, onToggle },
          selected,
          ariaLabel: n.ariaLabel,
        };
        if (n.kind === 'namespace') return { ...common, type: 'nscollapsed' };
        return { ...common, type: 'mapnode', parentId: n.group ?? undefined, extent: n.group ? 'parent' : undefined };
      };
      out.push(nodeCache.get(n.id, sig, make));
    }
    nodeCache.done();
    return out;
  }, [view, layout, dragged, selection, matches, onToggle, nodeCache]);

  // Labels are placed once for all edges (on each curve, away from nodes and other labels).
  const labelSpots = useMemo(() => {
    const abs = new Map<string, Box>();
    for (const n of nodes) {
      const parent = n.parentId ? abs.get(n.parentId) : undefined;
      abs.set(n.id, { x: n.position.x + (parent?.x ?? 0), y: n.position.y + (parent?.y ?? 0), width: n.width ?? 0, height: n.height ?? 0 });
    }
    const requests = [];
    for (const e of view.edges) {
      const s = abs.get(e.source);
      const t = abs.get(e.target);
      if (!s || !t || e.source === e.target) continue;
      const size = labelSize(e.label);
      requests.push({ id: e.id, curve: edgeCurve({ x: s.x + s.width, y: s.y + s.height / 2 }, { x: t.x, y: t.y + t.height / 2 }), ...size });
    }
    const obstacles = nodes.filter((n) => n.type !== 'nsgroup').map((n) => abs.get(n.id)!);
    return placeLabels(requests, obstacles);
  }, [nodes, view]);

  const edges = useMemo((): MapFlowEdge[] => {
    const drawn = new Set(nodes.map((n) => n.id));
    const out = view.edges
      .filter((e) => drawn.has(e.source) && drawn.has(e.target))
      .map((e) => {
        const selected = selection?.kind === 'edge' && selection.source_id === e.source && selection.destination_id === e.target;
        const dim = matches !== null && !matches.has(e.source) && !matches.has(e.target);
        const labelAt = labelSpots.get(e.id) ?? null;
        const sig = JSON.stringify([e.ariaLabel, e.label, e.verdict, e.flows, e.forwarded, e.dropped, e.audit, e.requests, selected, dim, labelAt]);
        return edgeCache.get(e.id, sig, (): MapFlowEdge => ({
          id: e.id,
          type: 'mapedge',
          source: e.source,
          target: e.target,
          data: { view: e, selected, dim, labelAt },
          selected,
          ariaLabel: e.ariaLabel,
          markerEnd: { type: MarkerType.ArrowClosed, color: VERDICT_COLOURS[e.verdict], width: 16, height: 16 },
        }));
      });
    edgeCache.done();
    return out;
  }, [view, nodes, selection, matches, labelSpots, edgeCache]);

  // Fit the viewport when the first non-empty layout is drawn, and after the
  // user collapses or expands a namespace; never for live updates.
  useEffect(() => {
    if (fitted.current || !layout || layout.boxes.size === 0) return;
    fitted.current = true;
    requestAnimationFrame(() => void rf.fitView({ padding: 0.08, maxZoom: 1.2, minZoom: 0.5 }));
  }, [layout, rf]);

  const onNodesChange = useCallback((changes: NodeChange<MapFlowNode>[]) => {
    const moved = changes.filter((c) => c.type === 'position' && c.position);
    if (moved.length === 0) return;
    setDragged((prev) => {
      const next = new Map(prev);
      for (const c of moved) if (c.type === 'position' && c.position) next.set(c.id, c.position);
      return next;
    });
  }, []);

  const selectNode = useCallback(
    (id: string) => {
      const n = viewRef.current.nodes.find((x) => x.id === id);
      if (n) onSelect({ kind: 'node', id: n.id, node: n.node });
    },
    [onSelect],
  );
  const selectEdge = useCallback(
    (id: string) => {
      const e = viewRef.current.edges.find((x) => x.id === id);
      if (e) onSelect({ kind: 'edge', id: e.id, edges: e.edges, source_id: e.source, destination_id: e.target });
    },
    [onSelect],
  );

  // Enter/Space on a focused node or edge selects it (React Flow focuses them; selection is ours).
  const onKeyDown = useCallback(
    (ev: ReactKeyboardEvent<HTMLDivElement>) => {
      if (ev.key !== 'Enter' && ev.key !== ' ') return;
      const t = ev.target as Element;
      const nodeEl = t.closest('.react-flow__node');
      if (nodeEl && nodeEl === t) {
        const id = nodeEl.getAttribute('data-id');
        if (id) {
          ev.preventDefault();
          selectNode(id);
        }
        return;
      }
      const edgeEl = t.closest('.react-flow__edge');
      if (edgeEl) {
        const id = edgeEl.getAttribute('data-id');
        if (id) {
          ev.preventDefault();
          selectEdge(id);
        }
      }
    },
    [selectNode, selectEdge],
  );

  const centreFirstMatch = useCallback(() => {
    const m = matchNodes(viewRef.current, query);
    if (!m || m.size === 0) return;
    const first = viewRef.current.nodes.find((n) => m.has(n.id) && rf.getNode(n.id));
    if (first) void rf.fitView({ nodes: [{ id: first.id }], duration: 300, maxZoom: 1.2, padding: 0.6 });
  }, [query, rf]);

  const exportImage = useCallback(
    async (format: 'svg' | 'png') => {
      setExportError(null);
      const viewport = containerRef.current?.querySelector<HTMLElement>('.react-flow__viewport');
      const all = rf.getNodes();
      if (!viewport || all.length === 0) return;
      const b = getNodesBounds(all);
      const pad = 24;
      // Whole graph at zoom 1 (capped so a huge map still fits a canvas).
      const zoom = Math.min(1, 8000 / Math.max(b.width + 2 * pad, b.height + 2 * pad));
      const width = Math.ceil((b.width + 2 * pad) * zoom);
      const height = Math.ceil((b.height + 2 * pad) * zoom);
      const opts = {
        backgroundColor: '#ffffff',
        width,
        height,
        style: { width: `${width}px`, height: `${height}px`, transform: `translate(${(pad - b.x) * zoom}px, ${(pad - b.y) * zoom}px) scale(${zoom})` },
        filter: (el: HTMLElement) => !el.classList?.contains('react-flow__minimap') && !el.classList?.contains('react-flow__controls') && !el.classList?.contains('react-flow__panel'),
      };
      try {
        const url = format === 'svg' ? await toSvg(viewport, opts) : await toPng(viewport, { ...opts, pixelRatio: 1 });
        downloadUrl(`service-map.${format}`, url);
      } catch (err) {
        setExportError(`export failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    [rf],
  );

  const matchCount = matches?.size ?? null;
  return (
    <div className="sm-root" ref={containerRef} onKeyDown={onKeyDown} data-testid="service-map" data-layout-ms={layoutMs ?? undefined}>
      <ReactFlow<MapFlowNode, MapFlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onNodeClick={(_, n) => {
          if (n.type !== 'nsgroup') selectNode(n.id);
        }}
        onEdgeClick={(_, e) => selectEdge(e.id)}
        onPaneClick={() => onSelect(null)}
        nodesConnectable={false}
        edgesReconnectable={false}
        deleteKeyCode={null}
        selectionKeyCode={null}
        multiSelectionKeyCode={null}
        minZoom={0.1}
        maxZoom={2.5}
        attributionPosition="top-right"
        aria-label="service map"
      >
        <Panel position="top-left" className="sm-toolbar">
          <input
            type="search"
            className="sm-search"
            data-testid="map-search"
            placeholder="Search the map"
            aria-label="search the map"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                centreFirstMatch();
              }
            }}
          />
          {matchCount !== null && <span className="sm-match-count">{matchCount === 1 ? '1 match' : `${matchCount} matches`}</span>}
          <button type="button" data-testid="export-svg" onClick={() => void exportImage('svg')} title="Download the map as SVG">
            SVG
          </button>
          <button type="button" data-testid="export-png" onClick={() => void exportImage('png')} title="Download the map as PNG">
            PNG
          </button>
          <span className="sm-legend" aria-label="edge colours">
            <span className="sm-legend-item" data-verdict="forwarded">forwarded</span>
            <span className="sm-legend-item" data-verdict="dropped">dropped</span>
            <span className="sm-legend-item" data-verdict="mixed">mixed</span>
          </span>
          {exportError && <span className="sm-export-error" role="alert">{exportError}</span>}
        </Panel>
        <Controls showInteractive={false} fitViewOptions={{ padding: 0.08, maxZoom: 1.2 }} />
        <MiniMap pannable zoomable nodeColor={minimapColour} nodeStrokeWidth={0} ariaLabel="service map overview" style={{ width: 120, height: 80 }} />
      </ReactFlow>
      {layoutError && (
        <div className="sm-empty sm-layout-error" role="alert">
          {layoutError}
        </div>
      )}
      {view.nodes.length === 0 && (
        <div className="sm-empty" data-testid="map-empty">
          No traffic on the map yet
        </div>
      )}
    </div>
  );
}
