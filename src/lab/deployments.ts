/**
 * The core of the lab's Deployment controller, pure: given a Deployment and
 * the pods it owns, what to create, what to delete and what status to write.
 *
 * Simplified from Kubernetes: there are no ReplicaSets, the Deployment owns its
 * pods directly. What kubectl shows still looks like the real thing: pods are
 * named `<deployment>-<pod-template-hash>-<5 chars>`, carry the
 * `pod-template-hash` label, and the status has the usual counters and the
 * Available / Progressing conditions (reasons and messages as Kubernetes writes
 * them, the ReplicaSet named `<deployment>-<hash>` as if it existed).
 *
 * Rollout follows RollingUpdate (maxSurge / maxUnavailable) or Recreate.
 * Readiness stands for availability (minReadySeconds is ignored).
 */
import { canonicalJSON } from '../common/canonical.js';
import type { Deployment, IntOrString, OwnerReference, PodSpec, PodTemplateSpec } from '../k8s/types.js';
import type { ObjectInput, StoreObject } from '../store/store.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** k8s.io/apimachinery/pkg/util/rand's alphabet: no vowels, no confusable characters. */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** Kubernetes truncates a generateName base to 63 - 5 characters before adding the random suffix. */
const MAX_GENERATED_BASE = 58;

// ---- pod-template-hash ----


/** 32-bit FNV-1a over the UTF-8 bytes of `s` (Kubernetes hashes templates with FNV-32a). */
function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A stable hash of a pod template, rendered as Kubernetes renders
 * pod-template-hash: the decimal form of a 32-bit FNV-1a hash with each digit
 * mapped through rand.SafeEncodeString (so, like the real labels, only the
 * characters `4-9bcdf` occur). Zero-padded to 10 digits, it is always 10
 * characters. The input is hashed as canonical JSON, so key order does not matter.
 */
export function podTemplateHash(template: unknown): string {
  const digits = String(fnv32a(canonicalJSON(template))).padStart(10, '0');
  let out = '';
  for (let i = 0; i < digits.length; i++) out += SAFE_ALPHABET[digits.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

// ---- rollout parameters ----

/** An int, or a percentage string (`25%`) of `total`, rounded up or down. Bad values count as 0. */
export function resolveIntOrPercent(v: IntOrString | undefined, total: number, roundUp: boolean, dflt: IntOrString): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return Number.isFinite(x) ? Math.max(0, Math.trunc(x)) : 0;
  const m = /^(\d+)%$/.exec(x.trim());
  if (m) {
    const p = (Number(m[1]) * total) / 100;
    return roundUp ? Math.ceil(p) : Math.floor(p);
  }
  if (/^\d+$/.test(x.trim())) return Number(x.trim());
  return 0;
}

/**
 * maxSurge (rounded up) and maxUnavailable (rounded down) for `replicas`,
 * defaults 25% each. Both zero is not allowed: maxUnavailable becomes 1
 * (Kubernetes' ResolveFenceposts). maxUnavailable never exceeds replicas.
 * Recreate has neither.
 */
export function rolloutBounds(d: Pick<Deployment, 'spec'>, replicas: number): { maxSurge: number; maxUnavailable: number } {
  if (d.spec.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: 0 };
  const ru = d.spec.strategy?.rollingUpdate ?? {};
  const maxSurge = resolveIntOrPercent(ru.maxSurge, replicas, true, '25%');
  let maxUnavailable = resolveIntOrPercent(ru.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

// ---- pods ----

interface PodView {
  metadata: StoreObject['metadata'] & { deletionTimestamp?: string; ownerReferences?: OwnerReference[] };
  spec?: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

const view = (p: StoreObject): PodView => p as unknown as PodView;

/** The pod's Ready condition is True. */
export function podReady(p: StoreObject): boolean {
  return (view(p).status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Finished for good: phase Failed or Succeeded. */
export function podFinished(p: StoreObject): boolean {
  const ph = view(p).status?.phase;
  return ph === 'Failed' || ph === 'Succeeded';
}

export function podTerminating(p: StoreObject): boolean {
  return !!view(p).metadata.deletionTimestamp;
}

/** The pods among `pods` whose controller owner reference is `d` (by uid), in d's namespace (missing = `default`). */
export function podsOwnedBy(d: StoreObject, pods: StoreObject[]): StoreObject[] {
  return pods.filter(
    (p) =>
      (p.metadata.namespace ?? 'default') === (d.metadata.namespace ?? 'default') &&
      (view(p).metadata.ownerReferences ?? []).some((r) => r.controller && r.kind === 'Deployment' && r.uid === d.metadata.uid),
  );
}

/**
 * Deletion preference, most deletable first (a simplified ActivePods order):
 * not ready before ready, unscheduled before scheduled, newer before older.
 */
function deletionOrder(a: StoreObject, b: StoreObject): number {
  const ra = podReady(a) ? 1 : 0, rb = podReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const na = view(a).spec?.nodeName ? 1 : 0, nb = view(b).spec?.nodeName ? 1 : 0;
  if (na !== nb) return na - nb;
  const ta = a.metadata.creationTimestamp ?? '', tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? 1 : -1;
  return a.metadata.name < b.metadata.name ? 1 : a.metadata.name > b.metadata.name ? -1 : 0;
}

// ---- reconcile ----

export interface DeploymentCondition {
  type: 'Available' | 'Progressing';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

export interface DeploymentStatus {
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
  conditions: DeploymentCondition[];
}

export interface ReconcileResult {
  /** Pods to create. Apply `delete` first, then `create`, to stay within maxSurge. */
  create: ObjectInput[];
  /** Names of pods (in the Deployment's namespace) to delete. */
  delete: string[];
  /** The Deployment's status as it will be once the above is done (created pods not ready yet). */
  status: DeploymentStatus;
}

/**
 * One reconcile pass. `pods` are the pods the Deployment owns (see
 * podsOwnedBy); `rand` yields 5-character name suffixes (retried on a clash);
 * `now` stamps condition times (RFC 3339).
 */
export function reconcileDeployment(
  dep: StoreObject,
  pods: StoreObject[],
  rand: () => string,
  now: string = new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
): ReconcileResult {
  const d = dep as unknown as Pick<Deployment, 'spec'> & { status?: { conditions?: DeploymentCondition[] } };
  const name = dep.metadata.name;
  const replicas = Math.max(0, d.spec.replicas ?? 1);
  const template: PodTemplateSpec = d.spec.template ?? ({ spec: { containers: [] } } as PodTemplateSpec);
  const hash = podTemplateHash(template);
  const recreate = d.spec.strategy?.type === 'Recreate';
  const { maxSurge, maxUnavailable } = rolloutBounds(d, replicas);

  const isNew = (p: StoreObject) => p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash;
  const toDelete = new Set<string>();
  const finished = pods.filter((p) => podFinished(p) && !podTerminating(p));
  for (const p of finished) toDelete.add(p.metadata.name);
  const active = pods.filter((p) => !podFinished(p) && !podTerminating(p));
  const oldActive = active.filter((p) => !isNew(p));
  const newActive = active.filter(isNew);

  const del = (p: StoreObject) => toDelete.add(p.metadata.name);
  const remaining = (list: StoreObject[]) => list.filter((p) => !toDelete.has(p.metadata.name));
  let createCount = 0;

  if (recreate) {
    // Kill every old pod; start new ones only once no old pod is left, terminating ones included.
    oldActive.forEach(del);
    const oldLeft = pods.some((p) => !isNew(p) && !podFinished(p));
    if (!oldLeft) {
      if (newActive.length < replicas) createCount = replicas - newActive.length;
      else [...newActive].sort(deletionOrder).slice(0, newActive.length - replicas).forEach(del);
    }
  } else {
    const minAvailable = replicas - maxUnavailable;
    // Old pods that are not ready contribute nothing to availability: they go first, unconditionally.
    oldActive.filter((p) => !podReady(p)).forEach(del);
    // Ready old pods, as long as availability stays at or above replicas - maxUnavailable.
    let available = active.filter(podReady).length;
    for (const p of [...oldActive.filter(podReady)].sort(deletionOrder)) {
      if (available - 1 < minAvailable) break;
      del(p);
      available--;
    }
    const oldLeft = remaining(oldActive).length;
    const newLeft = newActive.length;
    if (oldLeft === 0 && newLeft > replicas) {
      [...newActive].sort(deletionOrder).slice(0, newLeft - replicas).forEach(del);
    } else {
      // Surge: up to replicas + maxSurge pods in all, at most replicas new ones.
      const total = oldLeft + newLeft;
      createCount = Math.max(0, Math.min(replicas + maxSurge - total, replicas - newLeft));
    }
  }

  // New pods.
  const taken = new Set(pods.map((p) => p.metadata.name));
  const create: ObjectInput[] = [];
  for (let i = 0; i < createCount; i++) {
    const podName = uniqueName(name, hash, rand, taken);
    taken.add(podName);
    create.push(newPod(dep, template, hash, podName));
  }

  // Status, as it will be once this pass's deletes and creates are done.
  const after = remaining(active);
  const updated = after.filter(isNew).length + create.length;
  const total = after.length + create.length;
  const ready = after.filter(podReady).length;
  const oldAfter = after.filter((p) => !isNew(p)).length;
  const generation = dep.metadata.generation ?? 1;
  const rsName = `${name}-${hash}`;
  const minAvailableOk = ready >= replicas - maxUnavailable;
  const complete = updated === replicas && total === replicas && ready === replicas && oldAfter === 0;
  const prev = d.status?.conditions ?? [];
  const status: DeploymentStatus = {
    observedGeneration: generation,
    replicas: total,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: ready,
    unavailableReplicas: Math.max(0, total - ready),
    conditions: [
      condition(prev, now, 'Available', minAvailableOk ? 'True' : 'False',
        minAvailableOk ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        minAvailableOk ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.'),
      condition(prev, now, 'Progressing', 'True',
        complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
        complete ? `ReplicaSet "${rsName}" has successfully progressed.` : `ReplicaSet "${rsName}" is progressing.`),
    ],
  };
  // Deletes in a stable order: as listed in `pods`.
  const deleteNames = pods.map((p) => p.metadata.name).filter((n) => toDelete.has(n));
  return { create, delete: deleteNames, status };
}

/** A condition, keeping the previous one's times when nothing (status, reason) changed. */
function condition(
  prev: DeploymentCondition[], now: string, type: DeploymentCondition['type'], status: DeploymentCondition['status'], reason: string, message: string,
): DeploymentCondition {
  const old = prev.find((c) => c.type === type);
  const lastTransitionTime = old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now;
  const lastUpdateTime = old && old.status === status && old.reason === reason && old.lastUpdateTime ? old.lastUpdateTime : now;
  return { type, status, reason, message, lastUpdateTime, lastTransitionTime };
}

/** `<deployment>-<hash>-` (cut to Kubernetes' 58-character generateName base) plus a 5-character suffix. */
export function podGenerateName(deployment: string, hash: string): string {
  const base = `${deployment}-${hash}-`;
  return base.length > MAX_GENERATED_BASE ? base.slice(0, MAX_GENERATED_BASE) : base;
}

function uniqueName(deployment: string, hash: string, rand: () => string, taken: Set<string>): string {
  const base = podGenerateName(deployment, hash);
  for (let i = 0; i < 100; i++) {
    const n = base + rand();
    if (!taken.has(n)) return n;
  }
  throw new Error(`deployment ${deployment}: no unused pod name after 100 tries (rand keeps repeating)`);
}

/** The pod a Deployment creates from its template. */
function newPod(dep: StoreObject, template: PodTemplateSpec, hash: string, podName: string): ObjectInput {
  const tm = template.metadata ?? {};
  const ownerReferences: OwnerReference[] = [{
    apiVersion: 'apps/v1', kind: 'Deployment', name: dep.metadata.name, uid: dep.metadata.uid, controller: true, blockOwnerDeletion: true,
  }];
  const metadata: ObjectInput['metadata'] & { generateName: string; ownerReferences: OwnerReference[] } = {
    name: podName,
    generateName: podGenerateName(dep.metadata.name, hash),
    labels: { ...(tm.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash },
    ownerReferences,
  };
  metadata.namespace = dep.metadata.namespace || 'default';
  if (tm.annotations && Object.keys(tm.annotations).length) metadata.annotations = { ...tm.annotations };
  const spec = structuredClone(template.spec ?? { containers: [] }) as PodSpec;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}
