import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedulePod, schedNodeOf, toleratesTaint, termMatches, type NodeSelectorTerm, type SchedNode, type SchedPodSpec } from './scheduler.js';
import type { StoreObject } from '../store/store.js';

const pod = (spec: SchedPodSpec = {}): StoreObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', uid: 'u', resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z' },
  spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
});
const node = (name: string, extra: Partial<SchedNode> = {}): SchedNode => ({ name, labels: { 'kubernetes.io/hostname': name }, ready: true, ...extra });
const counts = (o: Record<string, number> = {}) => new Map(Object.entries(o));

test('spreads: the feasible node with the fewest pods wins, ties by name', () => {
  const nodes = [node('n2'), node('n1'), node('n3')];
  assert.deepEqual(schedulePod(pod(), nodes, counts()), { node: 'n1' });
  assert.deepEqual(schedulePod(pod(), nodes, counts({ n1: 2, n2: 1, n3: 1 })), { node: 'n2' });
  assert.deepEqual(schedulePod(pod(), nodes, counts({ n1: 2, n2: 3, n3: 1 })), { node: 'n3' });
});

test('spec.nodeName: that node if it exists (filters bypassed), else NodeNotFound naming the field', () => {
  const nodes = [node('n1'), node('n2', { unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] })];
  assert.deepEqual(schedulePod(pod({ nodeName: 'n2' }), nodes, counts()), { node: 'n2' });
  assert.deepEqual(schedulePod(pod({ nodeName: 'x' }), nodes, counts()), {
    error: 'spec.nodeName: node "x" not found',
    reason: 'NodeNotFound',
  });
});

test('nodeSelector must match node labels; message counts like kube-scheduler', () => {
  const nodes = [node('n1', { labels: { disk: 'ssd' } }), node('n2', { labels: { disk: 'hdd' } })];
  assert.deepEqual(schedulePod(pod({ nodeSelector: { disk: 'hdd' } }), nodes, counts({ n2: 10 })), { node: 'n2' });
  assert.deepEqual(schedulePod(pod({ nodeSelector: { disk: 'nvme' } }), nodes, counts()), {
    error: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
    reason: 'Unschedulable',
  });
});

test('required node affinity: terms ORed, expressions ANDed, every operator', () => {
  const nodes = [
    node('a', { labels: { zone: 'z1', gpu: 'yes' } }),
    node('b', { labels: { zone: 'z2' } }),
    node('c', { labels: { zone: 'z3', gen: '5' } }),
  ];
  const aff = (...terms: NodeSelectorTerm[]): SchedPodSpec => ({
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
  });
  const where = (spec: SchedPodSpec) => {
    const r = schedulePod(pod(spec), nodes, counts({ a: 0, b: 1, c: 2 }));
    return 'node' in r ? r.node : r.error;
  };
  assert.equal(where(aff({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2', 'z3'] }] })), 'b');
  assert.equal(where(aff({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z1', 'z2'] }] })), 'c');
  assert.equal(where(aff({ matchExpressions: [{ key: 'gen', operator: 'Exists' }] })), 'c');
  assert.equal(where(aff({ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] })), 'b');
  assert.equal(where(aff({ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] })), 'c');
  // ANDed within a term: zone z1 and no gpu matches nothing.
  assert.equal(
    where(aff({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }, { key: 'gpu', operator: 'DoesNotExist' }] })),
    "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
  );
  // ORed across terms.
  assert.equal(
    where(aff(
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }, { key: 'gpu', operator: 'DoesNotExist' }] },
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z3'] }] },
    )),
    'c',
  );
  // NotIn matches nodes without the label.
  assert.equal(where(aff({ matchExpressions: [{ key: 'gpu', operator: 'NotIn', values: ['yes'] }] })), 'b');
  // matchFields on metadata.name.
  assert.equal(where(aff({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] })), 'c');
  // nodeSelector and affinity are ANDed.
  assert.equal(where({ ...aff({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }), nodeSelector: { gpu: 'yes' } }), 'a');
  // An empty term matches nothing.
  assert.equal(termMatches({}, nodes[0]!), false);
  assert.match(where(aff({})), /^0\/3 nodes are available: 3 node/);
});

test('taints: NoSchedule/NoExecute need a toleration, PreferNoSchedule does not', () => {
  const nodes = [
    node('a', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }),
    node('b', { taints: [{ key: 'evict', effect: 'NoExecute' }] }),
    node('c', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }),
  ];
  assert.deepEqual(schedulePod(pod(), nodes, counts({ c: 5 })), { node: 'c' });
  const noC = nodes.slice(0, 2);
  assert.deepEqual(schedulePod(pod(), noC, counts()), {
    error: '0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 1 node(s) had untolerated taint {evict: }.',
    reason: 'Unschedulable',
  });
  assert.deepEqual(schedulePod(pod({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db' }] }), noC, counts()), { node: 'a' });
  assert.ok('error' in schedulePod(pod({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web' }] }), noC, counts()));
  assert.deepEqual(schedulePod(pod({ tolerations: [{ key: 'evict', operator: 'Exists', effect: 'NoExecute' }] }), noC, counts()), { node: 'b' });
  assert.ok('error' in schedulePod(pod({ tolerations: [{ key: 'evict', operator: 'Exists', effect: 'NoSchedule' }] }), noC, counts()));
  // Exists with no key tolerates everything.
  assert.deepEqual(schedulePod(pod({ tolerations: [{ operator: 'Exists' }] }), noC, counts({ a: 1 })), { node: 'b' });
});

test('toleratesTaint follows Kubernetes: empty operator is Equal, empty value equals missing value', () => {
  assert.equal(toleratesTaint({ key: 'k' }, { key: 'k', effect: 'NoSchedule' }), true);
  assert.equal(toleratesTaint({ key: 'k', value: '' }, { key: 'k', value: '', effect: 'NoSchedule' }), true);
  assert.equal(toleratesTaint({ key: 'k', value: 'v' }, { key: 'k', effect: 'NoSchedule' }), false);
  assert.equal(toleratesTaint({ key: 'other', operator: 'Exists' }, { key: 'k', effect: 'NoSchedule' }), false);
  assert.equal(toleratesTaint({ operator: 'Exists', effect: 'NoExecute' }, { key: 'k', effect: 'NoSchedule' }), false);
});

test('not-ready and unschedulable nodes are skipped, and counted in the message', () => {
  const nodes = [node('a', { ready: false }), node('b', { unschedulable: true }), node('c', { labels: {} })];
  assert.deepEqual(schedulePod(pod({ nodeSelector: { x: 'y' } }), nodes, counts()), {
    error:
      "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable.",
    reason: 'Unschedulable',
  });
  assert.deepEqual(schedulePod(pod(), nodes, counts({ c: 100 })), { node: 'c' });
  // Even a pod tolerating everything is not placed on them.
  assert.ok('error' in schedulePod(pod({ tolerations: [{ operator: 'Exists' }] }), nodes.slice(0, 2), counts()));
});

test('no nodes at all', () => {
  const r = schedulePod(pod(), [], counts());
  assert.ok('error' in r && r.reason === 'Unschedulable');
});

test('schedNodeOf reads Ready, unschedulable and taints from a stored Node', () => {
  const n: StoreObject = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1', uid: 'u', resourceVersion: '1', creationTimestamp: 'x', labels: { a: 'b' } },
    spec: { unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
  assert.deepEqual(schedNodeOf(n), { name: 'n1', labels: { a: 'b' }, ready: true, unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] });
  assert.equal(schedNodeOf({ ...n, status: {} }).ready, false);
});
