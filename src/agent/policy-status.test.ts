import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startKubeApi } from '../../test/lib/kube-api.js';
import { until } from '../../test/lib/wait.js';
import { openKubernetesStore } from '../store/kubernetes.js';
import { quiet } from '../../test/lib/fake-datapath.js';
import type { StoreObject } from '../store/store.js';
import { PolicyStatusWriter, withNodeStatus } from './policy-status.js';


const cnp = (): StoreObject => ({
  apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy',
  metadata: { name: 'p', namespace: 'default', uid: 'u', resourceVersion: '1', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { endpointSelector: {} },
});

test('withNodeStatus: adds this node beside the others, and is undefined when the entry says the same already', () => {
  const o = { ...cnp(), status: { nodes: { node2: { ok: true, enforcing: true, localPolicyRevision: 3, lastUpdated: 't0' } } } };
  const next = withNodeStatus(o, 'node1', { ok: false, enforcing: false, error: 'spec.ingress[0]: bad', localPolicyRevision: 1, lastUpdated: 't1' })!;
  assert.deepEqual(Object.keys((next.status as { nodes: object }).nodes).sort(), ['node1', 'node2']);
  assert.equal((next.status as { nodes: Record<string, { error?: string }> }).nodes.node1!.error, 'spec.ingress[0]: bad');
  assert.equal(withNodeStatus(next, 'node1', { ok: false, enforcing: false, error: 'spec.ingress[0]: bad', localPolicyRevision: 1, lastUpdated: 't2' }), undefined, 'only lastUpdated differs: no write');
  assert.ok(withNodeStatus(next, 'node1', { ok: true, enforcing: true, localPolicyRevision: 1, lastUpdated: 't2' }), 'a changed outcome is written');
});

test('PolicyStatusWriter against the API double: two nodes writing at once keep both entries; a status write does not bump the revision', async (t) => {
  const api = await startKubeApi({ bookmarkMs: 100 });
  const store = openKubernetesStore({ kubeconfig: api.kubeconfig });
  t.after(async () => {
    await store.close();
    await api.close();
  });
  const created = await store.create({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'p', namespace: 'default' }, spec: { endpointSelector: {} } });
  const w1 = new PolicyStatusWriter(store, 'node1', quiet);
  const w2 = new PolicyStatusWriter(store, 'node2', quiet);
  // Both report against the same (now stale for one of them) version: one of the writes conflicts and is read again.
  w1.report(created, { ok: true, enforcing: true });
  w2.report(created, { ok: false, enforcing: false, error: 'toPorts: unsupported' });
  const nodes = await until('both entries', async () => {
    const o = await store.get('CiliumNetworkPolicy', 'default', 'p');
    const n = (o?.status as { nodes?: Record<string, { ok: boolean; error?: string; localPolicyRevision: number }> } | undefined)?.nodes;
    return n?.node1 && n.node2 ? n : undefined;
  }, 10_000, 50);
  assert.equal(nodes.node1!.ok, true);
  assert.equal(nodes.node2!.ok, false);
  assert.equal(nodes.node2!.error, 'toPorts: unsupported');
  // The status write comes back as an update of the same generation: the same report writes nothing more.
  const after = (await store.get('CiliumNetworkPolicy', 'default', 'p'))!;
  const writes = api.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/status')).length;
  w1.report(after, { ok: true, enforcing: true });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(api.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/status')).length, writes, 'no write for an unchanged outcome');
  assert.equal(nodes.node1!.localPolicyRevision, 1);
  // NetworkPolicy has no Cilium status: nothing is written for it.
  w1.report({ ...after, apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }, { ok: true, enforcing: true });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(api.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/status')).length, writes);
  w1.stop();
  w2.stop();
});
