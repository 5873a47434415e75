/**
 * The service map's view model: the relay's GetServiceMapResponse in, the
 * graph the map draws out. Pure and DOM-free (compiled for Node and bundled
 * into the web app), so grouping, collapsing, edge merging, labels, rates,
 * search and the ELK layout input are unit-tested without a browser.
 *
 * Shape of the view: namespaces are groups holding their workloads and
 * Services; reserved identities, FQDNs and bare addresses (and anything
 * without a namespace) sit in one group "outside the cluster". A collapsed
 * namespace becomes a single node `namespace/<ns>` and the edges of its
 * members are merged onto it. Edges between the same two drawn nodes are
 * merged too (one line per pair, as Hubble's UI draws them), so a view edge
 * carries the MapEdges it stands for.
 */
import type { GetServiceMapResponse__Output } from '../../api/generated/servicemap/GetServiceMapResponse.js';
import type { MapEdge__Output } from '../../api/generated/servicemap/MapEdge.js';
import type { MapNode__Output } from '../../api/generated/servicemap/MapNode.js';
import type { Timestamp__Output } from '../../api/generated/google/protobuf/Timestamp.js';

/** The `data-kind` of a map node (MapNodeKind in lower case). */
export type NodeKind = 'workload' | 'service' | 'reserved' | 'fqdn' | 'ip';
/** The verdict mix of an edge (or of the edges into a node). */
export type VerdictClass = 'forwarded' | 'dropped' | 'mixed';

/** Stroke colours by verdict mix (the DOM contract's). */
export const VERDICT_COLOURS: Readonly<Record<VerdictClass, string>> = {
  forwarded: '#2e7d32',
  dropped: '#c62828',
  mixed: '#ef6c00',
};

/** The id of the group that holds what is outside every namespace. */
export const OUTSIDE_GROUP_ID = 'group-outside';
/** Height of a node box (the layout and the renderer agree on it). */
export const NODE_HEIGHT = 48;
/** Room above a group's members for its title bar. */
export const GROUP_HEADER = 34;

export interface ViewNode {
  /** MapNode.id, or `namespace/<ns>` for a collapsed namespace. */
  id: string;
  kind: NodeKind | 'namespace';
  name: string;
  namespace: string;
  /** The group it is drawn in (null: top level, a collapsed namespace). */
  group: string | null;
  /** Accessible name, e.g. `workload default/tiefighter`. */
  ariaLabel: string;
  /** The relay's node; synthesized for collapsed namespaces and for ids only edges name. */
  node: MapNode__Output;
  /** Members of a collapsed namespace (1 for an ordinary node). */
  members: number;
  /** Verdict mix of the traffic into it (null: nothing comes in). */
  inbound: VerdictClass | null;
  width: number;
  height: number;
}

export interface ViewGroup {
  /** `group-ns/<ns>`, or OUTSIDE_GROUP_ID. */
  id: string;
  /** The namespace ('' for the outside group). */
  namespace: string;
  title: string;
  outside: boolean;
  /** Member node ids, sorted. */
  children: string[];
}

export interface ViewEdge {
  /** The MapEdge ids it stands for, sorted, joined by `|`. */
  id: string;
  source: string;
  target: string;
  edges: MapEdge__Output[];
  verdict: VerdictClass;
  flows: number;
  forwarded: number;
  dropped: number;
  audit: number;
  /** Requests (L7), else flows: what the rate counts. */
  requests: number;
  /** `http/80`, `dns/53`, `icmp`: one per distinct protocol/port, sorted. */
  protocols: string[];
  /** Requests per second over the map's window; null when the window is unknown. */
  rate: number | null;
  /** Share of HTTP responses with a 4xx or 5xx status (0..1); null without responses. */
  errorShare: number | null;
  /** The label's lines: protocols, rate, error share (when > 0). */
  label: string[];
  /** Accessible name, e.g. `http/80 from workload/default/xwing to service/default/deathstar`. */
  ariaLabel: string;
}

export interface ViewGraph {
  nodes: ViewNode[];
  groups: ViewGroup[];
  edges: ViewEdge[];
  /** until − since in seconds; null when either is missing or the window is empty. */
  windowSeconds: number | null;
  /** Every namespace with nodes in the map (collapsed or not), sorted. */
  namespaces: string[];
}

const KINDS: ReadonlySet<string> = new Set(['workload', 'service', 'reserved', 'fqdn', 'ip']);
const OUTSIDE_KINDS: ReadonlySet<string> = new Set(['reserved', 'fqdn', 'ip']);

/** Group id of a namespace. */
export function namespaceGroupId(ns: string): string {
  return `group-ns/${ns}`;
}

/** Node id of a collapsed namespace. */
export function collapsedNodeId(ns: string): string {
  return `namespace/${ns}`;
}

/** A 64-bit counter in proto-loader form (string), tolerant of numbers and absence. */
function count(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : 0;
  if (typeof v === 'string' && v !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  }
  return 0;
}

function seconds(t: Timestamp__Output | null | undefined): number | null {
  if (!t) return null;
  return count(t.seconds) + count(t.nanos) / 1e9;
}

/** The map's window in seconds, or null when unknown or empty. */
export function windowSeconds(map: Pick<GetServiceMapResponse__Output, 'since' | 'until'> | null): number | null {
  const since = seconds(map?.since);
  const until = seconds(map?.until);
  if (since === null || until === null || until <= since) return null;
  return until - since;
}

/** The view kind of a relay node: its MapNodeKind, else the `kind/` prefix of its id. */
function kindOf(n: Pick<MapNode__Output, 'id' | 'kind'>): NodeKind | null {
  const k = typeof n.kind === 'string' ? n.kind.toLowerCase() : '';
  if (KINDS.has(k)) return k as NodeKind;
  const prefix = (n.id ?? '').split('/')[0] ?? '';
  return KINDS.has(prefix) ? (prefix as NodeKind) : null;
}

/** A node for an id that only edges name (`kind/namespace/name`), or null when the id has no known kind. */
function nodeFromId(id: string): MapNode__Output | null {
  const m = /^([a-z]+)\/([^/]*)\/(.*)$/.exec(id);
  if (!m || !KINDS.has(m[1]!)) return null;
  return { id, kind: m[1]!.toUpperCase() as MapNode__Output['kind'], name: m[3]! || id, namespace: m[2]!, labels: [], identities: [] };
}

/** Width of a node box: room for its name (and kind line) at the renderer's font size. */
export function nodeWidth(name: string, sub: string): number {
  const chars = Math.max(name.length, sub.length * 0.85);
  return Math.round(Math.min(280, Math.max(150, chars * 7.6 + 56)));
}

function verdictOf(forwarded: number, dropped: number): VerdictClass {
  if (dropped > 0 && forwarded > 0) return 'mixed';
  return dropped > 0 ? 'dropped' : 'forwarded';
}

/** `http/80`, or the bare protocol when it has no port (icmp). */
export function protocolLabel(e: Pick<MapEdge__Output, 'protocol' | 'port'>): string {
  const proto = e.protocol || '?';
  return e.port ? `${proto}/${e.port}` : proto;
}

/** A rate for a label: `0.4`, `0.05`, `12`. */
export function formatRate(r: number): string {
  if (r === 0) return '0';
  if (r < 0.1) return r < 0.01 ? '<0.01' : r.toFixed(2);
  if (r < 10) return r.toFixed(1);
  return String(Math.round(r));
}

/** An error share for a label: `25%`, `<1%`. */
export function formatShare(s: number): string {
  const pct = s * 100;
  if (pct > 0 && pct < 1) return '<1%';
  return `${Math.round(pct)}%`;
}

/** Builds a merged view edge from the relay edges between one pair of drawn nodes. */
export function mergeEdges(source: string, target: string, edges: MapEdge__Output[], window: number | null): ViewEdge {
  const sorted = [...edges].sort((a, b) => cmp(a.id, b.id));
  let flows = 0, forwarded = 0, dropped = 0, audit = 0, requests = 0, responses = 0, errors = 0;
  const protocols = new Set<string>();
  for (const e of sorted) {
    const f = count(e.flows);
    const r = count(e.requests);
    flows += f;
    forwarded += count(e.forwarded);
    dropped += count(e.dropped);
    audit += count(e.audit);
    requests += r > 0 ? r : f;
    for (const [cls, n] of Object.entries(e.status ?? {})) {
      const c = count(n);
      responses += c;
      if (cls.startsWith('4') || cls.startsWith('5')) errors += c;
    }
    protocols.add(protocolLabel(e));
  }
  const protos = [...protocols].sort();
  const rate = window === null ? null : requests / window;
  const errorShare = responses > 0 ? errors / responses : null;
  const shown = protos.length > 3 ? [...protos.slice(0, 2), `+${protos.length - 2}`] : protos;
  const label = [shown.join(', ')];
  label.push(rate === null ? `${requests} ${requests === 1 ? 'req' : 'reqs'}` : `${formatRate(rate)} req/s`);
  if (errorShare !== null && errorShare > 0) label.push(`${formatShare(errorShare)} 4xx/5xx`);
  return {
    id: sorted.map((e) => e.id).join('|'),
    source,
    target,
    edges: sorted,
    verdict: verdictOf(forwarded + audit, dropped),
    flows,
    forwarded,
    dropped,
    audit,
    requests,
    protocols: protos,
    rate,
    errorShare,
    label,
    ariaLabel: `${protos.join(', ')} from ${source} to ${target}`,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The view graph of a map with the given namespaces collapsed. Output order
 * is sorted by id everywhere, so the same map gives the same graph (and the
 * same layout). Edges naming ids the map has no node for get a node made from
 * the id (`kind/namespace/name`), or are left out when the id has no kind.
 */
export function buildViewGraph(map: GetServiceMapResponse__Output | null, collapsed: ReadonlySet<string> = new Set()): ViewGraph {
  const window = windowSeconds(map);
  const relayNodes = new Map<string, MapNode__Output>();
  for (const n of map?.nodes ?? []) if (n && n.id) relayNodes.set(n.id, n);
  const rawEdges = (map?.edges ?? []).filter((e) => e && e.source_id && e.destination_id);
  for (const e of rawEdges) {
    for (const id of [e.source_id, e.destination_id]) {
      if (relayNodes.has(id)) continue;
      const made = nodeFromId(id);
      if (made) relayNodes.set(id, made);
    }
  }

  // Where each relay node is drawn: itself, or its collapsed namespace.
  const drawnAs = new Map<string, string>();
  const nodes = new Map<string, ViewNode>();
  const groupMembers = new Map<string, { ns: string; outside: boolean; children: string[] }>();
  const namespaces = new Set<string>();
  for (const id of [...relayNodes.keys()].sort(cmp)) {
    const n = relayNodes.get(id)!;
    const kind = kindOf(n) ?? (n.namespace ? 'workload' : 'ip');
    const ns = n.namespace ?? '';
    const outside = ns === '' || OUTSIDE_KINDS.has(kind);
    if (!outside) namespaces.add(ns);
    if (!outside && collapsed.has(ns)) {
      const cid = collapsedNodeId(ns);
      drawnAs.set(id, cid);
      const c = nodes.get(cid);
      if (c) c.members += 1;
      else {
        nodes.set(cid, {
          id: cid,
          kind: 'namespace',
          name: ns,
          namespace: ns,
          group: null,
          ariaLabel: `namespace ${ns} (collapsed)`,
          node: { id: cid, kind: 'MAP_NODE_UNKNOWN', name: ns, namespace: ns, labels: [], identities: [] },
          members: 1,
          inbound: null,
          width: nodeWidth(ns, 'namespace · 00 members'),
          height: NODE_HEIGHT,
        });
      }
      continue;
    }
    const groupId = outside ? OUTSIDE_GROUP_ID : namespaceGroupId(ns);
    const name = n.name || id;
    drawnAs.set(id, id);
    nodes.set(id, {
      id,
      kind,
      name,
      namespace: ns,
      group: groupId,
      ariaLabel: ns ? `${kind} ${ns}/${name}` : `${kind} ${name}`,
      node: n,
      members: 1,
      inbound: null,
      width: nodeWidth(name, ns ? `${kind} · ${ns}` : kind),
      height: NODE_HEIGHT,
    });
    let g = groupMembers.get(groupId);
    if (!g) groupMembers.set(groupId, (g = { ns: outside ? '' : ns, outside, children: [] }));
    g.children.push(id);
  }

  // Merge the edges per drawn pair.
  const pairs = new Map<string, { source: string; target: string; edges: MapEdge__Output[] }>();
  for (const e of rawEdges) {
    const source = drawnAs.get(e.source_id);
    const target = drawnAs.get(e.destination_id);
    if (!source || !target) continue;
    const key = `${source}\u0000${target}`;
    let p = pairs.get(key);
    if (!p) pairs.set(key, (p = { source, target, edges: [] }));
    p.edges.push(e);
  }
  const edges = [...pairs.values()].map((p) => mergeEdges(p.source, p.target, p.edges, window)).sort((a, b) => cmp(a.id, b.id));

  // Inbound verdict mix per node.
  const inbound = new Map<string, { fwd: number; drop: number }>();
  for (const e of edges) {
    const acc = inbound.get(e.target) ?? { fwd: 0, drop: 0 };
    acc.fwd += e.forwarded + e.audit;
    acc.drop += e.dropped;
    inbound.set(e.target, acc);
  }
  for (const [id, acc] of inbound) {
    const n = nodes.get(id);
    if (n && acc.fwd + acc.drop > 0) n.inbound = verdictOf(acc.fwd, acc.drop);
  }
  for (const n of nodes.values()) {
    if (n.kind === 'namespace') n.ariaLabel = `namespace ${n.name} (collapsed, ${n.members} ${n.members === 1 ? 'member' : 'members'})`;
  }

  const groups: ViewGroup[] = [...groupMembers.entries()]
    .map(([id, g]) => ({ id, namespace: g.ns, title: g.outside ? 'outside the cluster' : g.ns, outside: g.outside, children: g.children }))
    .sort((a, b) => (a.outside !== b.outside ? (a.outside ? 1 : -1) : cmp(a.namespace, b.namespace)));

  return {
    nodes: [...nodes.values()].sort((a, b) => cmp(a.id, b.id)),
    groups,
    edges,
    windowSeconds: window,
    namespaces: [...namespaces].sort(cmp),
  };
}

/**
 * What decides a re-layout: the drawn nodes (with their sizes), the groups
 * and their members. Counters, rates and verdicts are not in it, so the map
 * refreshing every 2 s keeps its layout until something appears, disappears
 * or is collapsed.
 */
export function layoutKey(g: ViewGraph): string {
  return JSON.stringify([
    g.groups.map((gr) => [gr.id, gr.children]),
    g.nodes.map((n) => [n.id, n.group, n.width]),
  ]);
}

/** Ids of the nodes a search matches (name, namespace or id contain the text, any case); null for an empty search. */
export function matchNodes(g: ViewGraph, query: string): Set<string> | null {
  const q = query.trim().toLowerCase();
  if (q === '') return null;
  const out = new Set<string>();
  for (const n of g.nodes) {
    if (n.name.toLowerCase().includes(q) || n.namespace.toLowerCase().includes(q) || n.id.toLowerCase().includes(q)) out.add(n.id);
  }
  return out;
}

/** The subset of ELK's JSON graph that layout input uses (structurally ELK's ElkNode). */
export interface ElkInput {
  id: string;
  width?: number;
  height?: number;
  layoutOptions?: Record<string, string>;
  children?: ElkInput[];
  edges?: { id: string; sources: string[]; targets: string[] }[];
}

/** What ELK gives back, as far as we read it. */
export interface ElkOutput {
  id: string;
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  children?: ElkOutput[];
}

/** A laid-out box; children are relative to their group, as React Flow's parentId wants. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * ELK's layered options, set on the root and on every group: ELK does not
 * inherit them down the hierarchy. Layers are far apart so that edge labels
 * fit between them.
 */
const LAYERED: Readonly<Record<string, string>> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.layered.spacing.nodeNodeBetweenLayers': '130',
  'elk.layered.spacing.edgeNodeBetweenLayers': '40',
  'elk.spacing.nodeNode': '36',
  'elk.spacing.componentComponent': '48',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
};

/** Up to this size the layout runs across the hierarchy (best picture); above it, per group (fast). */
export const HIERARCHICAL_LIMIT = { nodes: 40, edges: 80 };

type ElkEdge = { id: string; sources: string[]; targets: string[] };

/**
 * At most `budget` edges, the busiest first (then by id): layered layout
 * costs grow fast with edges, and a few strong edges per node already give
 * the left-to-right order. Every edge is still drawn; only the layout skips some.
 */
function strongest(edges: ViewEdge[], budget: number): ViewEdge[] {
  if (edges.length <= budget) return edges;
  return [...edges].sort((a, b) => b.requests - a.requests || cmp(a.id, b.id)).slice(0, budget).sort((a, b) => cmp(a.id, b.id));
}

/**
 * ELK input for the view: layered, left to right, nodes and edges in id
 * order so equal graphs give equal layouts; self-loops are left to the
 * renderer. A small map is laid out across the hierarchy (groups are compound
 * nodes, edges go through them). A big one is laid out per group: each
 * group's members with the edges inside it, then the groups (and collapsed
 * namespaces) with one edge per pair of groups, with an edge budget per
 * level; ELK's cost across the hierarchy grows too fast for hundreds of nodes.
 */
export function elkGraph(g: ViewGraph): ElkInput {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const leaf = (n: ViewNode): ElkInput => ({ id: n.id, width: n.width, height: n.height });
  const edges = g.edges.filter((e) => e.source !== e.target);
  const small = g.nodes.length <= HIERARCHICAL_LIMIT.nodes && edges.length <= HIERARCHICAL_LIMIT.edges;
  const toElk = (e: ViewEdge): ElkEdge => ({ id: e.id, sources: [e.source], targets: [e.target] });
  const groupPadding = `[top=${GROUP_HEADER + 12},left=16,bottom=16,right=16]`;
  const rootOptions = { ...LAYERED, 'elk.padding': '[top=16,left=16,bottom=16,right=16]' };

  if (small) {
    const children: ElkInput[] = g.groups.map((gr) => ({
      id: gr.id,
      layoutOptions: { ...LAYERED, 'elk.padding': groupPadding },
      children: gr.children.map((id) => leaf(byId.get(id)!)),
    }));
    for (const n of g.nodes) if (n.group === null) children.push(leaf(n));
    return {
      id: 'root',
      layoutOptions: {
        ...rootOptions,
        'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
        // Keep the (sorted) input order where crossings allow; nested graphs may not set it.
        'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      },
      children,
      edges: edges.map(toElk),
    };
  }

  const fast = { ...LAYERED, 'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF', 'elk.layered.thoroughness': '1', 'elk.edgeRouting': 'POLYLINE' };
  const outer = (id: string): string => byId.get(id)?.group ?? id;
  const inside = new Map<string, ViewEdge[]>();
  const between = new Map<string, ViewEdge>();
  for (const e of edges) {
    const a = outer(e.source);
    const b = outer(e.target);
    if (a === b) {
      const list = inside.get(a);
      if (list) list.push(e);
      else inside.set(a, [e]);
    } else {
      // One edge per pair of groups, weighted by the traffic between them.
      const key = `${a}>${b}`;
      const prev = between.get(key);
      between.set(key, { ...(prev ?? e), id: key, source: a, target: b, requests: (prev?.requests ?? 0) + e.requests });
    }
  }
  const children: ElkInput[] = g.groups.map((gr) => ({
    id: gr.id,
    layoutOptions: { ...fast, 'elk.padding': groupPadding },
    children: gr.children.map((id) => leaf(byId.get(id)!)),
    edges: strongest(inside.get(gr.id) ?? [], Math.round(1.5 * gr.children.length) + 8).map(toElk),
  }));
  for (const n of g.nodes) if (n.group === null) children.push(leaf(n));
  const top = [...between.values()].sort((a, b) => cmp(a.id, b.id));
  return {
    id: 'root',
    layoutOptions: { ...rootOptions, 'elk.hierarchyHandling': 'SEPARATE_CHILDREN' },
    children,
    edges: strongest(top, 2 * children.length + 8).map(toElk),
  };
}

/** The boxes of a laid-out ELK graph by id (groups and nodes; children relative to their parent). */
export function boxesOf(root: ElkOutput): Map<string, Box> {
  const out = new Map<string, Box>();
  const walk = (n: ElkOutput): void => {
    for (const c of n.children ?? []) {
      out.set(c.id, { x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? 0 });
      walk(c);
    }
  };
  walk(root);
  return out;
}

export interface Point {
  x: number;
  y: number;
}

/** The cubic Bézier of an edge from a right-hand source handle to a left-hand target handle (React Flow's curvature 0.25). */
export function edgeCurve(s: Point, t: Point): [Point, Point, Point, Point] {
  const offset = (d: number): number => (d >= 0 ? 0.5 * d : 0.25 * 25 * Math.sqrt(-d));
  return [s, { x: s.x + offset(t.x - s.x), y: s.y }, { x: t.x - offset(t.x - s.x), y: t.y }, t];
}

/** The point at t (0..1) on a cubic Bézier. */
export function pointOnCurve(c: readonly [Point, Point, Point, Point], t: number): Point {
  const u = 1 - t;
  const a = u * u * u, b = 3 * u * u * t, d = 3 * u * t * t, e = t * t * t;
  return { x: a * c[0].x + b * c[1].x + d * c[2].x + e * c[3].x, y: a * c[0].y + b * c[1].y + d * c[2].y + e * c[3].y };
}

/** Estimated box of an edge label (11.5px text), without measuring the DOM. */
export function labelSize(lines: readonly string[]): { width: number; height: number } {
  const longest = Math.max(0, ...lines.map((l) => l.length));
  return { width: Math.ceil(longest * 6.9 + 16), height: lines.length * 14 + 6 };
}

/** One edge label to place: its curve and its size. */
export interface LabelRequest {
  id: string;
  curve: [Point, Point, Point, Point];
  width: number;
  height: number;
}

const LABEL_SPOTS = [0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78];

function overlap(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * Where each edge label goes (its centre): on its curve, at the middle if
 * that spot is free, else at the first of a few spots along the curve that
 * overlaps no node and no label placed before it, else at the spot that
 * overlaps least. Labels are placed in id order, so equal input gives equal
 * output. Obstacles are the drawn nodes (absolute boxes).
 */
export function placeLabels(requests: readonly LabelRequest[], obstacles: readonly Box[]): Map<string, Point> {
  const out = new Map<string, Point>();
  // A coarse grid keeps this near-linear for big maps.
  const CELL = 200;
  const grid = new Map<string, Box[]>();
  const cells = (b: Box): string[] => {
    const keys: string[] = [];
    for (let gx = Math.floor(b.x / CELL); gx <= Math.floor((b.x + b.width) / CELL); gx++)
      for (let gy = Math.floor(b.y / CELL); gy <= Math.floor((b.y + b.height) / CELL); gy++) keys.push(`${gx},${gy}`);
    return keys;
  };
  const add = (b: Box): void => {
    for (const k of cells(b)) {
      const list = grid.get(k);
      if (list) list.push(b);
      else grid.set(k, [b]);
    }
  };
  const cost = (b: Box): number => {
    let sum = 0;
    const seen = new Set<Box>();
    for (const k of cells(b))
      for (const o of grid.get(k) ?? []) {
        if (seen.has(o)) continue;
        seen.add(o);
        sum += overlap(b, o);
      }
    return sum;
  };
  for (const o of obstacles) add(o);
  for (const r of [...requests].sort((a, b) => cmp(a.id, b.id))) {
    let best: { p: Point; box: Box; cost: number } | null = null;
    for (const t of LABEL_SPOTS) {
      const p = pointOnCurve(r.curve, t);
      const box = { x: p.x - r.width / 2, y: p.y - r.height / 2, width: r.width, height: r.height };
      const c = cost(box);
      if (!best || c < best.cost) best = { p, box, cost: c };
      if (c === 0) break;
    }
    out.set(r.id, best!.p);
    add(best!.box);
  }
  return out;
}
