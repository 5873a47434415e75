import { test } from 'node:test';
import { canonicalJSON } from '../common/canonical.js';
import assert from 'node:assert/strict';
import {
  podGenerateName, podsOwnedBy, podTemplateHash, reconcileDeployment, resolveIntOrPercent, rolloutBounds,
  type ReconcileResult,
} from './deployments.js';
import type { Deployment } from '../k8s/types.js';
import type { ObjectInput, StoreObject } from '../store/store.js';

const HASH_RE = /^[bcdfghjklmnpqrstvwxz2456789]{10}$/;

function deployment(spec: Partial<Deployment['spec']> = {}, meta: Partial<StoreObject['metadata']> = {}): StoreObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'dep-uid', resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z', generation: 1, ...meta },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations: { note: 'x' } },
        spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
      },
      ...spec,
    },
  };
}

function counter() {
  let i = 0;
  return () => {
    const s = (i++).toString(36).padStart(5, 'z');
    return s;
  };
}

/** A tiny cluster: applies a reconcile result as the store would. */
class Sim {
  pods: StoreObject[] = [];
  clock = 0;
  rand = counter();
  apply(r: ReconcileResult) {
    this.pods = this.pods.filter((p) => !r.delete.includes(p.metadata.name));
    for (const c of r.create) this.pods.push(this.stored(c));
  }
  stored(c: ObjectInput): StoreObject {
    const ts = new Date(Date.UTC(2024, 0, 1) + 1000 * ++this.clock).toISOString().replace(/\.\d+Z$/, 'Z');
    return { ...structuredClone(c), metadata: { ...structuredClone(c.metadata), uid: `uid-${c.metadata.name}`, resourceVersion: '1', creationTimestamp: ts }, status: { phase: 'Pending' } };
  }
  markReady(filter: (p: StoreObject) => boolean = () => true) {
    for (const p of this.pods) if (filter(p)) p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
  }
  ready = (p: StoreObject) => ((p.status as { conditions?: { type: string; status: string }[] })?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  hashOf = (p: StoreObject) => p.metadata.labels?.['pod-template-hash'];
}

test('hash: stable, key-order independent, 10 characters of the safe alphabet, changes with the template', () => {
  const t = { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } };
  const u = { spec: { containers: [{ image: 'nginx:1', name: 'c' }] }, metadata: { labels: { tier: 'fe', app: 'web' } } };
  const h = podTemplateHash(t);
  assert.match(h, HASH_RE);
  assert.equal(podTemplateHash(u), h);
  assert.equal(podTemplateHash(structuredClone(t)), h);
  assert.notEqual(podTemplateHash({ ...t, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }), h);
  // Pinned: the hash must never change across releases, or every rollout restarts.
  assert.equal(podTemplateHash({}), podTemplateHash({ a: undefined }));
  assert.equal(podTemplateHash({ spec: { containers: [] } }), '44699f6d64');
  for (let i = 0; i < 200; i++) assert.match(podTemplateHash({ i }), HASH_RE);
  assert.equal(canonicalJSON({ b: 1, a: [1, { d: 2, c: undefined }] }), '{"a":[1,{"d":2}],"b":1}');
});

test('maxSurge/maxUnavailable: ints and percents, surge up, unavailable down, never both zero', () => {
  assert.equal(resolveIntOrPercent('25%', 3, true, 0), 1);
  assert.equal(resolveIntOrPercent('25%', 3, false, 0), 0);
  assert.equal(resolveIntOrPercent(2, 3, false, 0), 2);
  assert.equal(resolveIntOrPercent(undefined, 10, true, '25%'), 3);
  assert.deepEqual(rolloutBounds({ spec: deployment().spec as Deployment['spec'] }, 3), { maxSurge: 1, maxUnavailable: 0 });
  assert.deepEqual(rolloutBounds({ spec: deployment().spec as Deployment['spec'] }, 10), { maxSurge: 3, maxUnavailable: 2 });
  const zero = deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } }).spec as Deployment['spec'];
  assert.deepEqual(rolloutBounds({ spec: zero }, 4), { maxSurge: 0, maxUnavailable: 1 });
  const big = deployment({ strategy: { rollingUpdate: { maxUnavailable: 10 } } }).spec as Deployment['spec'];
  assert.equal(rolloutBounds({ spec: big }, 3).maxUnavailable, 3);
});

test('scale from 0 to 3: names, labels, annotations, spec and owner reference like Kubernetes', () => {
  const d = deployment();
  const r = reconcileDeployment(d, [], counter(), '2024-01-01T00:00:00Z');
  assert.equal(r.create.length, 3);
  assert.deepEqual(r.delete, []);
  const hash = podTemplateHash((d.spec as Deployment['spec']).template);
  for (const p of r.create) {
    assert.match(p.metadata.name, new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
    assert.equal(p.apiVersion, 'v1');
    assert.equal(p.kind, 'Pod');
    assert.equal(p.metadata.namespace, 'default');
    assert.deepEqual(p.metadata.labels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(p.metadata.annotations, { note: 'x' });
    assert.deepEqual(p.spec, { containers: [{ name: 'c', image: 'nginx:1' }] });
    assert.deepEqual((p.metadata as Record<string, unknown>).ownerReferences, [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'dep-uid', controller: true, blockOwnerDeletion: true },
    ]);
    assert.equal((p.metadata as Record<string, unknown>).generateName, `web-${hash}-`);
  }
  assert.equal(new Set(r.create.map((p) => p.metadata.name)).size, 3);
  // The pod spec is a copy, not the template itself.
  assert.notEqual(r.create[0]!.spec, (d.spec as Deployment['spec']).template.spec);
  assert.deepEqual({ ...r.status, conditions: undefined }, {
    observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 0, availableReplicas: 0, unavailableReplicas: 3, conditions: undefined,
  });
  assert.deepEqual(r.status.conditions.map((c) => [c.type, c.status, c.reason]), [
    ['Available', 'False', 'MinimumReplicasUnavailable'],
    ['Progressing', 'True', 'ReplicaSetUpdated'],
  ]);
  assert.equal(r.status.conditions[1]!.message, `ReplicaSet "web-${hash}" is progressing.`);
  assert.equal(r.status.conditions[0]!.lastTransitionTime, '2024-01-01T00:00:00Z');

  // Once ready: steady, complete, nothing to do.
  const sim = new Sim();
  sim.apply(r);
  sim.markReady();
  const r2 = reconcileDeployment({ ...d, status: r.status }, sim.pods, sim.rand, '2024-01-01T00:01:00Z');
  assert.deepEqual([r2.create, r2.delete], [[], []]);
  assert.deepEqual(r2.status.conditions.map((c) => [c.type, c.status, c.reason]), [
    ['Available', 'True', 'MinimumReplicasAvailable'],
    ['Progressing', 'True', 'NewReplicaSetAvailable'],
  ]);
  assert.equal(r2.status.availableReplicas, 3);
  assert.equal(r2.status.unavailableReplicas, 0);
  assert.equal(r2.status.conditions[0]!.lastTransitionTime, '2024-01-01T00:01:00Z');
  assert.equal(r2.status.conditions[1]!.lastTransitionTime, '2024-01-01T00:00:00Z', 'Progressing stayed True');
  assert.equal(r2.status.conditions[1]!.lastUpdateTime, '2024-01-01T00:01:00Z', 'reason changed');
});

test('replicas default to 1; a rand that repeats is retried', () => {
  const d = deployment({ replicas: undefined });
  let n = 0;
  const r = reconcileDeployment(d, [], () => (n++ < 3 ? 'aaaaa' : 'bbbbb'));
  assert.equal(r.create.length, 1);
  assert.ok(r.create[0]!.metadata.name.endsWith('-aaaaa'));
  const two = reconcileDeployment(deployment({ replicas: 2 }), [], (() => { const s = ['aaaaa', 'aaaaa', 'ccccc']; let i = 0; return () => s[i++] ?? 'zzzzz'; })());
  assert.deepEqual(two.create.map((p) => p.metadata.name.slice(-5)), ['aaaaa', 'ccccc']);
});

test('long deployment names are cut to the 58-character generateName base', () => {
  const long = 'a'.repeat(60);
  const base = podGenerateName(long, 'bcdfghjklm');
  assert.equal(base.length, 58);
  const r = reconcileDeployment(deployment({ replicas: 1 }, { name: long }), [], () => 'xxxxx');
  assert.equal(r.create[0]!.metadata.name.length, 63);
});

test('scale down: surplus pods go, not-ready first, then newest', () => {
  const sim = new Sim();
  const d = deployment({ replicas: 5 });
  sim.apply(reconcileDeployment(d, [], sim.rand));
  assert.equal(sim.pods.length, 5);
  sim.markReady((p) => p !== sim.pods[4] && p !== sim.pods[0]);
  const [notReadyOld, , , readyNewest2, notReadyNewest] = [sim.pods[0]!, sim.pods[1]!, sim.pods[2]!, sim.pods[3]!, sim.pods[4]!];
  const r = reconcileDeployment(deployment({ replicas: 2 }), sim.pods, sim.rand);
  assert.deepEqual(r.create, []);
  assert.deepEqual(new Set(r.delete), new Set([notReadyOld.metadata.name, notReadyNewest.metadata.name, readyNewest2.metadata.name]));
  sim.apply(r);
  assert.equal(sim.pods.length, 2);
  assert.equal(r.status.replicas, 2);
  assert.equal(r.status.readyReplicas, 2);
  // To zero.
  const z = reconcileDeployment(deployment({ replicas: 0 }), sim.pods, sim.rand);
  assert.equal(z.delete.length, 2);
  assert.equal(z.status.replicas, 0);
  assert.equal(z.status.conditions[0]!.status, 'True');
});

interface RolloutCase { replicas: number; maxSurge?: number | string; maxUnavailable?: number | string }

function rollout(c: RolloutCase): number {
  const sim = new Sim();
  const strategy = { type: 'RollingUpdate' as const, rollingUpdate: { maxSurge: c.maxSurge, maxUnavailable: c.maxUnavailable } };
  const d1 = deployment({ replicas: c.replicas, strategy });
  sim.apply(reconcileDeployment(d1, [], sim.rand));
  sim.markReady();
  assert.equal(sim.pods.length, c.replicas);
  const oldHash = sim.hashOf(sim.pods[0]!);

  const d2 = deployment({
    replicas: c.replicas,
    strategy,
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } },
  }, { generation: 2 });
  const newHash = podTemplateHash((d2.spec as Deployment['spec']).template);
  assert.notEqual(newHash, oldHash);
  const { maxSurge, maxUnavailable } = rolloutBounds({ spec: d2.spec as Deployment['spec'] }, c.replicas);

  let steps = 0;
  for (;;) {
    const r = reconcileDeployment(d2, sim.pods, sim.rand);
    // Deletes first, then creates (the order the controller applies them in).
    sim.pods = sim.pods.filter((p) => !r.delete.includes(p.metadata.name));
    const available = sim.pods.filter(sim.ready).length;
    assert.ok(available >= c.replicas - maxUnavailable, `step ${steps}: ${available} available < ${c.replicas} - ${maxUnavailable}`);
    for (const x of r.create) sim.pods.push(sim.stored(x));
    assert.ok(sim.pods.length <= c.replicas + maxSurge, `step ${steps}: ${sim.pods.length} pods > ${c.replicas} + ${maxSurge}`);
    assert.equal(r.status.replicas, sim.pods.length);
    assert.equal(r.status.updatedReplicas, sim.pods.filter((p) => sim.hashOf(p) === newHash).length);
    assert.equal(r.status.observedGeneration, 2);
    if (r.create.length === 0 && r.delete.length === 0) {
      if (sim.pods.every(sim.ready)) {
        assert.equal(r.status.conditions[1]!.reason, 'NewReplicaSetAvailable');
        break;
      }
      assert.equal(r.status.conditions[1]!.reason, 'ReplicaSetUpdated');
    }
    // Pods become ready between passes.
    sim.markReady();
    assert.ok(++steps < 100, 'rollout did not converge');
  }
  assert.equal(sim.pods.length, c.replicas);
  assert.ok(sim.pods.every((p) => sim.hashOf(p) === newHash));
  return steps;
}

test('rolling update: within replicas-maxUnavailable .. replicas+maxSurge at every step, converges to all new', () => {
  rollout({ replicas: 3 });
  rollout({ replicas: 4 });
  rollout({ replicas: 10 });
  rollout({ replicas: 10, maxSurge: 0, maxUnavailable: 3 });
  rollout({ replicas: 5, maxSurge: 2, maxUnavailable: 0 });
  rollout({ replicas: 5, maxSurge: 0, maxUnavailable: 0 });
  rollout({ replicas: 1, maxSurge: '100%', maxUnavailable: '0%' });
  rollout({ replicas: 1 });
  rollout({ replicas: 6, maxSurge: '50%', maxUnavailable: '50%' });
});

test('rolling update: default 25%/25% on 3 replicas surges one pod at a time', () => {
  const sim = new Sim();
  sim.apply(reconcileDeployment(deployment(), [], sim.rand));
  sim.markReady();
  const d2 = deployment({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } });
  const r = reconcileDeployment(d2, sim.pods, sim.rand);
  assert.equal(r.create.length, 1);
  assert.deepEqual(r.delete, []);
  sim.apply(r);
  // Until the new pod is ready, nothing moves.
  const r2 = reconcileDeployment(d2, sim.pods, sim.rand);
  assert.deepEqual([r2.create.length, r2.delete.length], [0, 0]);
  assert.equal(r2.status.conditions[0]!.status, 'True');
  sim.markReady();
  const r3 = reconcileDeployment(d2, sim.pods, sim.rand);
  assert.equal(r3.delete.length, 1);
  assert.equal(r3.create.length, 1);
});

test('rolling update: not-ready old pods are deleted first and freely', () => {
  const sim = new Sim();
  sim.apply(reconcileDeployment(deployment(), [], sim.rand));
  sim.markReady((p) => p !== sim.pods[1]);
  const d2 = deployment({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } });
  const r = reconcileDeployment(d2, sim.pods, sim.rand);
  assert.deepEqual(r.delete, [sim.pods[1]!.metadata.name]);
  // 2 old left, surge room for 2 new.
  assert.equal(r.create.length, 2);
});

test('Recreate: old pods all go first; new ones only when none is left, even terminating', () => {
  const sim = new Sim();
  const recreate = { type: 'Recreate' as const };
  sim.apply(reconcileDeployment(deployment({ strategy: recreate }), [], sim.rand));
  sim.markReady();
  const d2 = deployment({ strategy: recreate, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } });
  const r = reconcileDeployment(d2, sim.pods, sim.rand);
  assert.equal(r.delete.length, 3);
  assert.deepEqual(r.create, []);
  assert.equal(r.status.conditions[0]!.status, 'False');
  // The store marks them terminating rather than removing them at once.
  for (const p of sim.pods) (p.metadata as unknown as Record<string, unknown>).deletionTimestamp = '2024-01-01T00:10:00Z';
  const r2 = reconcileDeployment(d2, sim.pods, sim.rand);
  assert.deepEqual([r2.create.length, r2.delete.length], [0, 0]);
  sim.pods = [];
  const r3 = reconcileDeployment(d2, sim.pods, sim.rand);
  assert.equal(r3.create.length, 3);
  sim.apply(r3);
  sim.markReady();
  const r4 = reconcileDeployment(d2, sim.pods, sim.rand);
  assert.deepEqual([r4.create.length, r4.delete.length], [0, 0]);
  assert.equal(r4.status.conditions[1]!.reason, 'NewReplicaSetAvailable');
  // Scaling a Recreate deployment down.
  const r5 = reconcileDeployment(deployment({ ...(d2.spec as Deployment['spec']), replicas: 1 }), sim.pods, sim.rand);
  assert.equal(r5.delete.length, 2);
});

test('failed pods are deleted and replaced; terminating pods do not count', () => {
  const sim = new Sim();
  const d = deployment();
  sim.apply(reconcileDeployment(d, [], sim.rand));
  sim.markReady();
  sim.pods[0]!.status = { phase: 'Failed', reason: 'Evicted' };
  (sim.pods[1]!.metadata as unknown as Record<string, unknown>).deletionTimestamp = '2024-01-01T00:10:00Z';
  const r = reconcileDeployment(d, sim.pods, sim.rand);
  assert.deepEqual(r.delete, [sim.pods[0]!.metadata.name]);
  assert.equal(r.create.length, 2);
  assert.equal(r.status.replicas, 3);
  assert.equal(r.status.readyReplicas, 1);
  assert.equal(r.status.unavailableReplicas, 2);
  // A terminating pod is never deleted again.
  assert.ok(!r.delete.includes(sim.pods[1]!.metadata.name));
});

test('podsOwnedBy picks pods by controller owner uid and namespace', () => {
  const d = deployment();
  const r = reconcileDeployment(d, [], counter());
  const sim = new Sim();
  sim.apply(r);
  const stranger = sim.stored({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'default' } });
  const otherNs = structuredClone(sim.pods[0]!);
  otherNs.metadata.namespace = 'other';
  assert.equal(podsOwnedBy(d, [...sim.pods, stranger, otherNs]).length, 3);
});

test('rolling update with a new template that never gets ready keeps the old pods serving', () => {
  const sim = new Sim();
  sim.apply(reconcileDeployment(deployment({ replicas: 4 }), [], sim.rand));
  sim.markReady();
  const oldNames = sim.pods.map((p) => p.metadata.name);
  const d2 = deployment({ replicas: 4, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'broken' }] } } });
  for (let i = 0; i < 10; i++) sim.apply(reconcileDeployment(d2, sim.pods, sim.rand));
  // 25% of 4: one old pod may go, one new may surge, and there it stops.
  const old = sim.pods.filter((p) => oldNames.includes(p.metadata.name));
  assert.equal(old.length, 3);
  assert.equal(sim.pods.length, 5);
  const r = reconcileDeployment(d2, sim.pods, sim.rand);
  assert.equal(r.status.conditions[0]!.status, 'True');
  assert.equal(r.status.conditions[1]!.reason, 'ReplicaSetUpdated');
});
