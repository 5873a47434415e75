/**
 * Cilium's label selectors over security identities, and the selector cache.
 *
 * A selector key may carry a label source (`k8s:app`, `reserved:host`,
 * `any:app`); without one, or with `any`, a label of any source matches.
 * The cache maps each distinct selector (by a canonical key) to the set of
 * identities it selects; it is filled once per selector and then kept up to
 * date identity by identity, so computing many endpoints never rescans every
 * identity for every rule.
 */
import { K8sLabel, type Label, type LabelSet } from '../identity/labels.js';
import { LOCAL_IDENTITY_FLAG } from '../identity/reserved.js';
import type { LabelSelector, SelectorOperator } from '../k8s/types.js';

/** One requirement: `source` '' matches any source. */
export interface Requirement {
  source: string;
  key: string;
  operator: SelectorOperator;
  values: string[];
}

/** A selector compiled for matching identities' label sets. */
export interface CompiledSelector {
  reqs: Requirement[];
  /** Only pod (cluster-scope) identities: the `{}` peer selector, which never selects reserved or CIDR identities. */
  podOnly: boolean;
  /** Canonical text: equal selectors share one cache slot. */
  key: string;
}

/** Labels of one identity indexed by key (a canonical label set has one label per key). */
export type LabelIndex = ReadonlyMap<string, Label>;

export function indexLabels(labels: LabelSet): LabelIndex {
  return new Map(labels.map((l) => [l.key, l]));
}

/** `k8s:app` → {source: 'k8s', key: 'app'}; `app` and `any:app` → source ''. */
export function splitSelectorKey(text: string): { source: string; key: string } {
  const i = text.indexOf(':');
  if (i <= 0) return { source: '', key: text };
  const source = text.slice(0, i);
  return { source: source === 'any' ? '' : source, key: text.slice(i + 1) };
}

/** True when a pod identity (not reserved 1-10, not a node-local CIDR identity). */
export function isPodIdentity(id: number): boolean {
  return id > 10 && id < LOCAL_IDENTITY_FLAG;
}

/** Builds a compiled selector from requirements (sorted for a canonical key). */
export function makeSelector(reqs: Requirement[], podOnly: boolean): CompiledSelector {
  const sorted = reqs
    .map((r) => ({ ...r, values: [...new Set(r.values)].sort() }))
    .sort((a, b) => cmp(`${a.source}:${a.key}|${a.operator}|${a.values.join(',')}`, `${b.source}:${b.key}|${b.operator}|${b.values.join(',')}`));
  const key = JSON.stringify([podOnly ? 1 : 0, sorted.map((r) => [r.source, r.key, r.operator, r.values])]);
  return { reqs: sorted, podOnly, key };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Compiles a selector as written in a policy. `defaultSource` is given to keys
 * without a source ('' = any; Kubernetes NetworkPolicy uses 'k8s');
 * `keyPrefix` is put in front of every key (namespaceSelector →
 * `io.cilium.k8s.namespace.labels.`). Operators are assumed valid (admission).
 */
export function selectorRequirements(sel: LabelSelector, opts: { defaultSource?: string; keyPrefix?: string } = {}): Requirement[] {
  const out: Requirement[] = [];
  const mk = (k: string, operator: SelectorOperator, values: string[]): Requirement => {
    const s = splitSelectorKey(k);
    const source = k.includes(':') ? s.source : opts.defaultSource ?? '';
    return { source, key: (opts.keyPrefix ?? '') + s.key, operator, values };
  };
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) out.push(mk(k, 'In', [String(v ?? '')]));
  for (const e of sel.matchExpressions ?? []) out.push(mk(e.key, e.operator, (e.values ?? []).map(String)));
  return out;
}

/** True when the requirement names the pod namespace label (then a namespaced policy does not add its own namespace). */
export function namesNamespace(sel: LabelSelector): boolean {
  const keys = [...Object.keys(sel.matchLabels ?? {}), ...(sel.matchExpressions ?? []).map((e) => e.key)];
  return keys.some((k) => splitSelectorKey(k).key === K8sLabel.podNamespace);
}

/** The requirement `k8s:io.kubernetes.pod.namespace=<ns>`. */
export function namespaceRequirement(namespace: string): Requirement {
  return { source: 'k8s', key: K8sLabel.podNamespace, operator: 'In', values: [namespace] };
}

function reqMatches(r: Requirement, labels: LabelIndex): boolean {
  const l = labels.get(r.key);
  const present = l !== undefined && (r.source === '' || r.source === l.source);
  switch (r.operator) {
    case 'In': return present && r.values.includes(l!.value);
    case 'NotIn': return !present || !r.values.includes(l!.value);
    case 'Exists': return present;
    case 'DoesNotExist': return !present;
    default: return false;
  }
}

/** True when the identity `id` with these labels is selected. */
export function selectorMatches(sel: CompiledSelector, id: number, labels: LabelIndex): boolean {
  if (sel.podOnly && !isPodIdentity(id)) return false;
  return sel.reqs.every((r) => reqMatches(r, labels));
}

/** The identities known to the engine and, per selector, the ones it selects. */
export class SelectorCache {
  private readonly identities = new Map<number, LabelIndex>();
  private readonly cache = new Map<string, { sel: CompiledSelector; ids: Set<number> }>();
  private podIds: number[] | undefined;

  /** Replaces all identities; drops every cached selection. */
  setIdentities(ids: Iterable<[number, LabelSet]>): void {
    this.identities.clear();
    for (const [id, labels] of ids) this.identities.set(id, indexLabels(labels));
    this.cache.clear();
    this.podIds = undefined;
  }

  /**
   * Adds or changes one identity, updating every cached selection. Returns
   * the keys of the cached selectors whose selection changed (the rules
   * that use them are the only ones an incremental update recomputes).
   */
  upsertIdentity(id: number, labels: LabelSet): string[] {
    const idx = indexLabels(labels);
    this.identities.set(id, idx);
    const changed: string[] = [];
    for (const [key, c] of this.cache) {
      if (selectorMatches(c.sel, id, idx)) {
        if (!c.ids.has(id)) { c.ids.add(id); changed.push(key); }
      } else if (c.ids.delete(id)) changed.push(key);
    }
    this.podIds = undefined;
    return changed;
  }

  /** Removes one identity; returns the keys of the cached selectors that had selected it. */
  deleteIdentity(id: number): string[] {
    if (!this.identities.delete(id)) return [];
    const changed: string[] = [];
    for (const [key, c] of this.cache) if (c.ids.delete(id)) changed.push(key);
    this.podIds = undefined;
    return changed;
  }

  labels(id: number): LabelIndex | undefined {
    return this.identities.get(id);
  }

  has(id: number): boolean {
    return this.identities.has(id);
  }

  /** Every known identity id, ascending. */
  ids(): number[] {
    return [...this.identities.keys()].sort((a, b) => a - b);
  }

  /** Known pod identities, ascending. */
  podIdentities(): readonly number[] {
    this.podIds ??= this.ids().filter(isPodIdentity);
    return this.podIds;
  }

  /** The identities `sel` selects (a live set: do not modify). */
  select(sel: CompiledSelector): ReadonlySet<number> {
    let c = this.cache.get(sel.key);
    if (!c) {
      const ids = new Set<number>();
      for (const [id, idx] of this.identities) if (selectorMatches(sel, id, idx)) ids.add(id);
      c = { sel, ids };
      this.cache.set(sel.key, c);
    }
    return c.ids;
  }

  /** Number of distinct cached selectors (for tests and diagnostics). */
  get cachedSelectors(): number {
    return this.cache.size;
  }
}
