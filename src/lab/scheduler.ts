/**
 * The lab's scheduler: picks a node for a pod the way kube-scheduler's default
 * filters would (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity),
 * then spreads pods by choosing the feasible node with the fewest pods. Pure:
 * the caller supplies the nodes and the current pod count per node.
 *
 * The error for an unschedulable pod reads like kube-scheduler's FailedScheduling
 * event: `0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.`
 */
import type { Pod, PodSpec } from '../k8s/types.js';
import type { StoreObject } from '../store/store.js';

export interface SchedTaint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | string;
}

export interface SchedNode {
  name: string;
  labels: Record<string, string>;
  ready: boolean;
  unschedulable?: boolean;
  taints?: SchedTaint[];
}

/** core/v1 Toleration. */
export interface Toleration {
  key?: string;
  operator?: 'Equal' | 'Exists';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | '';
  tolerationSeconds?: number;
}

/** core/v1 NodeSelectorRequirement (node affinity). */
export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  /** Only `metadata.name` is a supported field, as in Kubernetes. */
  matchFields?: NodeSelectorRequirement[];
}

/** The parts of a pod's spec the scheduler reads (types.ts's PodSpec plus affinity and tolerations). */
export type SchedPodSpec = Partial<PodSpec> & {
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } } };
  tolerations?: Toleration[];
};

export type ScheduleResult = { node: string } | { error: string; reason: 'NodeNotFound' | 'Unschedulable' };

/** kube-scheduler's per-node filter messages. */
export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
const taintReason = (t: { key: string; value?: string }) => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;

/** Kubernetes' ToleratesTaint: effect (if set) and key (if set) must match; Equal compares values, Exists does not. */
export function toleratesTaint(tol: Toleration, taint: SchedTaint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  switch (tol.operator ?? 'Equal') {
    case 'Exists': return true;
    case 'Equal': return (tol.value ?? '') === (taint.value ?? '');
    default: return false;
  }
}

/** The first NoSchedule/NoExecute taint that no toleration tolerates, if any. */
export function untoleratedTaint(taints: SchedTaint[] | undefined, tolerations: Toleration[] | undefined): SchedTaint | undefined {
  return (taints ?? []).find(
    (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !(tolerations ?? []).some((tol) => toleratesTaint(tol, t)),
  );
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const has = value !== undefined;
  switch (r.operator) {
    case 'In': return has && (r.values ?? []).includes(value);
    case 'NotIn': return !has || !(r.values ?? []).includes(value);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    case 'Gt':
    case 'Lt': {
      // Exactly one integer value; the label must parse as an integer too.
      if (!has || r.values?.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(r.values[0]!)) return false;
      const l = BigInt(value), v = BigInt(r.values[0]!);
      return r.operator === 'Gt' ? l > v : l < v;
    }
    default: return false;
  }
}

/**
 * One nodeSelectorTerm: its expressions (against labels) and fields (only
 * `metadata.name`) are ANDed; a term with neither matches nothing.
 */
export function termMatches(term: NodeSelectorTerm, node: Pick<SchedNode, 'name' | 'labels'>): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.labels ?? {};
  const label = (k: string) => (Object.prototype.hasOwnProperty.call(labels, k) ? labels[k] : undefined);
  return (
    exprs.every((r) => requirementMatches(r, label(r.key))) &&
    fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, node.name))
  );
}

/** spec.nodeSelector and required node affinity (terms ORed) both match the node. */
export function nodeAffinityMatches(spec: SchedPodSpec, node: Pick<SchedNode, 'name' | 'labels'>): boolean {
  const labels = node.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(labels, k) || labels[k] !== v) return false;
  }
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) {
    const terms = required.nodeSelectorTerms ?? [];
    if (!terms.some((t) => termMatches(t, node))) return false;
  }
  return true;
}

/**
 * Why `node` cannot run the pod (kube-scheduler's message for the first
 * failing filter), or undefined when it can. Filter order follows the default
 * profile: unschedulable, not ready (the not-ready taint), taints, affinity.
 */
export function filterNode(spec: SchedPodSpec, node: SchedNode): string | undefined {
  if (node.unschedulable) return REASON_UNSCHEDULABLE;
  if (!node.ready) return taintReason({ key: NOT_READY_TAINT });
  const t = untoleratedTaint(node.taints, spec.tolerations);
  if (t) return taintReason(t);
  if (!nodeAffinityMatches(spec, node)) return REASON_AFFINITY;
  return undefined;
}

/**
 * Chooses a node for `pod`. spec.nodeName, when set, is honoured as is (as in
 * Kubernetes it bypasses the filters) provided the node exists. Otherwise the
 * feasible node with the fewest pods in `podsPerNode` wins, ties by name.
 */
export function schedulePod(pod: StoreObject | Pod, nodes: SchedNode[], podsPerNode: Map<string, number>): ScheduleResult {
  const spec = (pod.spec ?? {}) as SchedPodSpec;
  if (spec.nodeName) {
    const n = nodes.find((x) => x.name === spec.nodeName);
    return n ? { node: n.name } : { error: `spec.nodeName: node ${JSON.stringify(spec.nodeName)} not found`, reason: 'NodeNotFound' };
  }
  if (nodes.length === 0) return { error: '0/0 nodes are available: no nodes available to schedule pods.', reason: 'Unschedulable' };
  const reasons = new Map<string, number>();
  let best: SchedNode | undefined;
  let bestCount = 0;
  for (const n of nodes) {
    const why = filterNode(spec, n);
    if (why) {
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
      continue;
    }
    const c = podsPerNode.get(n.name) ?? 0;
    if (!best || c < bestCount || (c === bestCount && n.name < best.name)) {
      best = n;
      bestCount = c;
    }
  }
  if (best) return { node: best.name };
  // kube-scheduler's FitError: "<count> <reason>" strings, sorted, comma-joined.
  const parts = [...reasons].map(([r, c]) => `${c} ${r}`).sort();
  return { error: `0/${nodes.length} nodes are available: ${parts.join(', ')}.`, reason: 'Unschedulable' };
}

/** A SchedNode from a stored core/v1 Node: Ready condition, spec.unschedulable, spec.taints. */
export function schedNodeOf(node: StoreObject): SchedNode {
  const spec = (node.spec ?? {}) as { unschedulable?: boolean; taints?: SchedTaint[] };
  const status = (node.status ?? {}) as { conditions?: { type: string; status: string }[] };
  const out: SchedNode = {
    name: node.metadata.name,
    labels: { ...(node.metadata.labels ?? {}) },
    ready: (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
  };
  if (spec.unschedulable) out.unschedulable = true;
  if (spec.taints?.length) out.taints = spec.taints.map((t) => ({ ...t }));
  return out;
}
