/**
 * Cilium's label model, pure. A label is `source:key=value` (pkg/labels):
 * the source says where it came from (`k8s`, `reserved`, `cidr`, …), and a
 * security identity is one numeric id per distinct *set* of identity-relevant
 * labels. This file turns a pod (its labels, its namespace and the
 * namespace's labels, its service account) into that set the way Cilium does,
 * drops the labels Cilium's default filter ignores (pkg/labelsfilter), and
 * gives a canonical sorted form plus a stable string key for the store.
 */
import { IdentityInvalidError } from '../common/errors.js';

/** Label sources Cilium uses (pkg/labels: LabelSource*). */
export const LabelSource = {
  /** Kubernetes labels of the pod and the synthesised `io.kubernetes.…`/`io.cilium.k8s.…` ones. */
  k8s: 'k8s',
  /** Reserved identities' labels: `reserved:host`, `reserved:world`, … */
  reserved: 'reserved',
  /** CIDR identities: `cidr:10.0.0.0/8`. */
  cidr: 'cidr',
  /** A label parsed without a source. */
  unspec: 'unspec',
  /** Matches any source in selectors. */
  any: 'any',
  container: 'container',
  fqdn: 'fqdn',
} as const;

/** One label. `value` is '' for value-less labels such as `reserved:host` or `cidr:10.0.0.0/8`. */
export interface Label {
  readonly source: string;
  readonly key: string;
  readonly value: string;
}

/** A label set in canonical form: one label per key, sorted by key (then source). */
export type LabelSet = readonly Label[];

/** Cilium's label keys for what is known about a pod beyond its own labels (pkg/k8s/apis/cilium.io/const.go). */
export const K8sLabel = {
  /** The pod's namespace. */
  podNamespace: 'io.kubernetes.pod.namespace',
  /** Prefix of the namespace's labels: `io.cilium.k8s.namespace.labels.<key>`. */
  namespaceLabels: 'io.cilium.k8s.namespace.labels',
  /** The pod's service account. */
  serviceAccount: 'io.cilium.k8s.policy.serviceaccount',
  /** The cluster's name (Cilium's default is `default`). */
  cluster: 'io.cilium.k8s.policy.cluster',
  /** The label the API server puts on every namespace (Kubernetes ≥ 1.21). */
  metadataName: 'kubernetes.io/metadata.name',
} as const;

/** Cilium's default cluster name (option --cluster-name). */
export const DEFAULT_CLUSTER_NAME = 'default';

/** `k8s:app=web` text; value-less labels print without `=`. */
export function formatLabel(l: Label): string {
  return l.value === '' ? `${l.source}:${l.key}` : `${l.source}:${l.key}=${l.value}`;
}

/**
 * Parses `source:key=value`, `source:key`, `key=value` (source `unspec`).
 * As in Cilium the source is the text before the first `:` when that comes
 * before any `=`; `cidr:` labels keep their whole prefix (it has no `=`).
 */
export function parseLabel(text: string): Label {
  if (text.length === 0) throw new IdentityInvalidError('parse label: empty label', 'write it as source:key=value, e.g. k8s:app=web');
  const eq = text.indexOf('=');
  const colon = text.indexOf(':');
  let source: string = LabelSource.unspec;
  let rest = text;
  if (colon > 0 && (eq < 0 || colon < eq)) {
    source = text.slice(0, colon);
    rest = text.slice(colon + 1);
  }
  const i = rest.indexOf('=');
  const key = i < 0 ? rest : rest.slice(0, i);
  const value = i < 0 ? '' : rest.slice(i + 1);
  if (key.length === 0) throw new IdentityInvalidError(`parse label '${text}': empty key`, 'write it as source:key=value, e.g. k8s:app=web');
  return { source, key, value };
}

/**
 * The canonical form of a label set: one label per key (Cilium keys its label
 * map by key, so a later label with the same key replaces an earlier one),
 * sorted by key. Order of the input does not matter.
 */
export function canonicalLabels(labels: Iterable<Label | string>): LabelSet {
  const byKey = new Map<string, Label>();
  for (const l of labels) {
    const label = typeof l === 'string' ? parseLabel(l) : { source: l.source, key: l.key, value: l.value };
    byKey.set(label.key, label);
  }
  return [...byKey.values()].sort((a, b) => cmp(a.key, b.key) || cmp(a.source, b.source));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The stable string of a label set, used as its key in the store: each label
 * as `source:key=value;` in canonical order (Cilium's FormatForKVStore /
 * SortedList format). Two sets are the same identity iff their keys are equal.
 */
export function labelSetKey(labels: Iterable<Label | string>): string {
  return canonicalLabels(labels)
    .map((l) => `${l.source}:${l.key}=${l.value};`)
    .join('');
}

/** Inverse of labelSetKey. */
export function parseLabelSetKey(key: string): LabelSet {
  if (key === '') return [];
  if (!key.endsWith(';')) throw new IdentityInvalidError(`parse label set '${key}': it does not end in ';'`);
  return canonicalLabels(
    key
      .slice(0, -1)
      .split(';')
      .map((t) => {
        const l = parseLabel(t);
        return { source: l.source, key: l.key, value: l.value };
      }),
  );
}

/** The labels as text lines, canonical order (as `cilium identity list` prints them). */
export function formatLabelSet(labels: LabelSet): string[] {
  return labels.map(formatLabel);
}

// ---------------------------------------------------------------------------
// The identity-relevant label filter (Cilium pkg/labelsfilter)

/** One pattern of the filter: `[source:][!]regexp`, matched at the start of the key. */
export interface LabelPrefix {
  /** '' matches any source. */
  readonly source: string;
  /** The pattern text as written, without `!`. */
  readonly prefix: string;
  /** True: labels it matches are excluded (unless a longer include matches). */
  readonly ignore: boolean;
  readonly expr: RegExp;
}

/** Parses a filter pattern as Cilium's parseLabelPrefix does: `source:` up to the first `:`, a leading `!` inverts. */
export function parseLabelPrefix(text: string): LabelPrefix {
  const i = text.indexOf(':');
  let source = '';
  let prefix = text;
  if (i >= 0) {
    source = text.slice(0, i);
    prefix = text.slice(i + 1);
  }
  if (prefix.length === 0) throw new IdentityInvalidError(`label filter '${text}': empty prefix`);
  let ignore = false;
  if (prefix.startsWith('!')) {
    ignore = true;
    prefix = prefix.slice(1);
  }
  let expr: RegExp;
  try {
    expr = new RegExp(prefix);
  } catch (e) {
    throw new IdentityInvalidError(`label filter '${text}': ${(e as Error).message}`);
  }
  return { source, prefix, ignore, expr };
}

const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Cilium's default identity-relevant label patterns (defaultLabelPrefixCfg in
 * pkg/labelsfilter/filter.go), in its order. Includes win over ignores when
 * they match a longer part of the key, so `io.kubernetes.pod.namespace`
 * stays while every other `io.kubernetes…` label (e.g. `io.kubernetes.pod.uid`) goes.
 */
export const DEFAULT_LABEL_PREFIXES: readonly string[] = [
  'reserved:.*',
  quote(K8sLabel.podNamespace),
  quote(K8sLabel.namespaceLabels),
  quote('app.kubernetes.io'),
  quote(K8sLabel.cluster),
  '!io\\.kubernetes',
  '!kubernetes\\.io',
  '!' + quote('statefulset.kubernetes.io/pod-name'),
  '!' + quote('apps.kubernetes.io/pod-index'),
  '!' + quote('batch.kubernetes.io/job-completion-index'),
  '!.*beta\\.kubernetes\\.io',
  '!k8s\\.io',
  '!pod-template-generation',
  '!pod-template-hash',
  '!controller-revision-hash',
  '!annotation.*',
  '!etcd_node',
];

/** A compiled label filter. */
export interface LabelFilter {
  readonly prefixes: readonly LabelPrefix[];
  /** True when an include pattern was added by the user: then only included labels pass (Cilium's whitelist mode). */
  readonly allowList: boolean;
}

/**
 * Compiles Cilium's default patterns plus `extra` ones (the agent's
 * --labels option). As in Cilium, any extra *include* pattern switches the
 * filter to allow-list mode; the defaults alone do not.
 */
export function labelFilter(extra: readonly string[] = []): LabelFilter {
  const prefixes = DEFAULT_LABEL_PREFIXES.map(parseLabelPrefix);
  let allowList = false;
  for (const e of extra) {
    if (e.length === 0) continue;
    const p = parseLabelPrefix(e);
    if (!p.ignore) allowList = true;
    prefixes.push(p);
  }
  return { prefixes, allowList };
}

export const DEFAULT_LABEL_FILTER: LabelFilter = labelFilter();

/** Length of the match at the start of the key, or -1 (Go's FindStringIndex must start at 0, like Cilium checks). */
function matchLength(p: LabelPrefix, l: Label): number {
  if (p.source !== '' && p.source !== l.source) return -1;
  const m = p.expr.exec(l.key);
  if (!m || m.index !== 0) return -1;
  return m[0].length;
}

/**
 * Splits labels into the identity-relevant ones and the rest, by Cilium's
 * rule: a label passes when no include pattern is configured by the user and
 * no ignore pattern matches, or when the longest include match is longer
 * than the shortest ignore match.
 */
export function filterLabels(labels: Iterable<Label>, filter: LabelFilter = DEFAULT_LABEL_FILTER): { identity: LabelSet; info: LabelSet } {
  const identity: Label[] = [];
  const info: Label[] = [];
  for (const l of labels) {
    let included = 0;
    let ignored = 0;
    for (const p of filter.prefixes) {
      const n = matchLength(p, l);
      if (n < 0) continue;
      if (p.ignore) {
        if (ignored === 0 || n < ignored) ignored = n;
      } else if (n > included) {
        included = n;
      }
    }
    if ((!filter.allowList && ignored === 0) || included > ignored) identity.push(l);
    else info.push(l);
  }
  return { identity: canonicalLabels(identity), info: canonicalLabels(info) };
}

/** What is known about a pod that matters for its identity. */
export interface PodIdentitySource {
  namespace: string;
  /** The pod's own labels (metadata.labels). */
  labels?: Record<string, string>;
  /** Its namespace's labels (metadata.labels of the Namespace). */
  namespaceLabels?: Record<string, string>;
  /** spec.serviceAccountName; Kubernetes defaults it to `default`. */
  serviceAccount?: string;
  /** The cluster name; Cilium's default is `default`. */
  cluster?: string;
}

/**
 * All labels Cilium derives for a pod, before filtering: the pod's labels,
 * `io.kubernetes.pod.namespace`, the namespace's labels under
 * `io.cilium.k8s.namespace.labels.` (with `kubernetes.io/metadata.name`,
 * which the API server puts on every namespace), the service account and
 * the cluster, all with source `k8s`.
 */
export function podLabels(pod: PodIdentitySource): Label[] {
  if (!pod.namespace) throw new IdentityInvalidError('pod labels: the pod has no namespace');
  const k8s = (key: string, value: string): Label => ({ source: LabelSource.k8s, key, value });
  const out: Label[] = [];
  for (const [k, v] of Object.entries(pod.labels ?? {})) out.push(k8s(k, v));
  const ns = { [K8sLabel.metadataName]: pod.namespace, ...(pod.namespaceLabels ?? {}) };
  for (const [k, v] of Object.entries(ns)) out.push(k8s(`${K8sLabel.namespaceLabels}.${k}`, v));
  out.push(k8s(K8sLabel.podNamespace, pod.namespace));
  out.push(k8s(K8sLabel.serviceAccount, pod.serviceAccount || 'default'));
  out.push(k8s(K8sLabel.cluster, pod.cluster || DEFAULT_CLUSTER_NAME));
  return out;
}

/** The security-relevant labels of a pod: podLabels through the filter, canonical. */
export function podIdentityLabels(pod: PodIdentitySource, filter: LabelFilter = DEFAULT_LABEL_FILTER): LabelSet {
  return filterLabels(podLabels(pod), filter).identity;
}
