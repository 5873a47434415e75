import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startKubeApi } from '../../test/lib/kube-api.js';
import { quiet } from '../../test/lib/fake-datapath.js';
import { until } from '../../test/lib/wait.js';
import { openKubernetesStore } from '../store/kubernetes.js';
import type { StoreObject } from '../store/store.js';
import type { RemoteNode } from './datapath.js';
import type { AgentConfig } from './types.js';
import { KubernetesCluster, nodeObjectPodCIDR, openClusterBackend, remoteNodeOf } from './cluster.js';
import { nodeConfig } from '../cli/agent.js';

const obj = (kind: string, name: string, spec: unknown): StoreObject => ({ apiVersion: 'v1', kind, metadata: { name, uid: 'u', resourceVersion: '1', creationTimestamp: '' }, spec } as StoreObject);

test('remoteNodeOf: a BeelineNode with an InternalIP and an IPv4 pod CIDR; nothing while either is missing', () => {
  assert.deepEqual(remoteNodeOf(obj('BeelineNode', 'n2', { addresses: [{ type: 'ExternalIP', ip: '1.2.3.4' }, { type: 'InternalIP', ip: '172.18.0.12' }], ipam: { podCIDRs: ['fd00::/64', '10.0.2.0/24'] } })), { name: 'n2', nodeIP: '172.18.0.12', podCIDR: '10.0.2.0/24' });
  assert.equal(remoteNodeOf(obj('BeelineNode', 'n2', { addresses: [{ type: 'InternalIP', ip: '172.18.0.12' }] })), undefined, 'no pod CIDR yet');
  assert.equal(remoteNodeOf(obj('BeelineNode', 'n2', { addresses: [{ type: 'ExternalIP', ip: '1.2.3.4' }], ipam: { podCIDRs: ['10.0.2.0/24'] } })), undefined, 'no InternalIP');
  assert.equal(remoteNodeOf(obj('BeelineNode', 'n2', { addresses: 'x', ipam: { podCIDRs: 7 } })), undefined, 'malformed');
});

test('nodeObjectPodCIDR: spec.podCIDRs first IPv4, else spec.podCIDR', () => {
  assert.equal(nodeObjectPodCIDR(obj('Node', 'n', { podCIDR: 'fd00::/64', podCIDRs: ['fd00::/64', '10.1.0.0/24'] })), '10.1.0.0/24');
  assert.equal(nodeObjectPodCIDR(obj('Node', 'n', { podCIDR: '10.2.0.0/24' })), '10.2.0.0/24');
  assert.equal(nodeObjectPodCIDR(obj('Node', 'n', {})), undefined);
  assert.equal(nodeObjectPodCIDR(undefined), undefined);
});

test('openClusterBackend: kvstore and k8sKubeconfig together are refused; neither is no backend', () => {
  const c = { node: 'n1', kvstore: 'unix:///x', k8sKubeconfig: '/x' } as AgentConfig;
  assert.throws(() => openClusterBackend(c, quiet, () => { throw new Error('not reached'); }), /kvstore and k8sKubeconfig are both set/);
  assert.equal(openClusterBackend({ ...c, kvstore: '', k8sKubeconfig: undefined }, quiet, () => { throw new Error('not reached'); }), undefined);
});

test('nodeConfig: flags, then the environment, then the file; the uplink is the interface holding the address', () => {
  const file = { node: '', nodeIP: '', uplink: '' } as AgentConfig;
  const uplinkOf = (ip: string) => (ip === '192.168.1.5' ? 'ens3' : undefined);
  const c = nodeConfig(file, {}, { BEELINE_NODE_NAME: 'worker-1', BEELINE_NODE_IP: '192.168.1.5' }, uplinkOf);
  assert.deepEqual([c.node, c.nodeIP, c.uplink], ['worker-1', '192.168.1.5', 'ens3']);
  assert.equal(nodeConfig(file, { node: 'w2', nodeIp: '192.168.1.5', uplink: 'eth9' }, { BEELINE_NODE_NAME: 'worker-1' }, uplinkOf).node, 'w2', 'a flag wins');
  assert.throws(() => nodeConfig(file, {}, { BEELINE_NODE_IP: '192.168.1.5' }, uplinkOf), /node: required/);
  assert.throws(() => nodeConfig(file, {}, { BEELINE_NODE_NAME: 'w', BEELINE_NODE_IP: 'x.y' }, uplinkOf), /'x\.y' is not an IPv4 address/);
  assert.throws(() => nodeConfig(file, {}, { BEELINE_NODE_NAME: 'w', BEELINE_NODE_IP: '10.9.9.9' }, uplinkOf), /no interface holds the node's address 10\.9\.9\.9/);
});

test('KubernetesCluster against the API double: the pod CIDR waits for the Node (ipam kubernetes) or the operator (cluster-pool); the node is announced whole; the node watch follows BeelineNodes', async (t) => {
  const api = await startKubeApi({ bookmarkMs: 100 });
  const store = openKubernetesStore({ kubeconfig: api.kubeconfig });
  t.after(async () => {
    await store.close();
    await api.close();
  });
  const config = { node: 'node1', nodeIP: '172.18.0.11' } as AgentConfig;
  const k8s = new KubernetesCluster(config, store, api.url, quiet);
  await assert.rejects(k8s.check(), /Node node1 does not exist/);
  api.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1' } });
  await k8s.check();
  // ipam kubernetes: waits until kube-controller-manager (here: the test) gives the Node a CIDR.
  const claimed = k8s.claimPodCIDR();
  await new Promise((r) => setTimeout(r, 300));
  const node = (await store.get('Node', undefined, 'node1'))!;
  await store.update({ ...node, spec: { podCIDR: '10.0.1.0/24' } });
  assert.equal(await claimed, '10.0.1.0/24');
  // cluster-pool: the agent makes its BeelineNode (address only) and waits for the operator's CIDR.
  const pool = new KubernetesCluster({ ...config, node: 'node2', nodeIP: '172.18.0.12', ipam: 'cluster-pool' }, store, api.url, quiet);
  const poolClaim = pool.claimPodCIDR();
  const made = await until('node2 made its BeelineNode', () => store.get('BeelineNode', undefined, 'node2'), 5000, 50);
  assert.deepEqual((made.spec as { addresses: unknown }).addresses, [{ type: 'InternalIP', ip: '172.18.0.12' }]);
  await store.update({ ...made, spec: { ...(made.spec as object), ipam: { podCIDRs: ['10.0.7.0/24'] } } });
  assert.equal(await poolClaim, '10.0.7.0/24');

  const seen: [string, RemoteNode | undefined][] = [];
  const watch = k8s.watchNodes((name, n) => seen.push([name, n]), quiet);
  await watch.start();
  t.after(() => watch.stop());
  assert.deepEqual(seen, [['node2', { name: 'node2', nodeIP: '172.18.0.12', podCIDR: '10.0.7.0/24' }]]);
  // node1 announces itself: created whole (address and CIDR in one write), then updated in place.
  const posts = () => api.requests.filter((r) => r.method === 'POST' && r.path.includes('beelinenodes')).length;
  const before = posts();
  await k8s.announce({ name: 'node1', nodeIP: '172.18.0.11', podCIDR: '10.0.1.0/24' });
  const creates = posts() - before;
  assert.deepEqual((await store.get('BeelineNode', undefined, 'node1'))!.spec, { addresses: [{ type: 'InternalIP', ip: '172.18.0.11' }], ipam: { podCIDRs: ['10.0.1.0/24'] } });
  await k8s.announce({ name: 'node1', nodeIP: '172.18.0.11', podCIDR: '10.0.1.0/24' });
  assert.equal(api.requests.filter((r) => (r.method === 'POST' || r.method === 'PUT') && r.path.includes('beelinenodes/node1')).length, 0, 'an unchanged announce writes nothing');
  assert.equal(creates, 1);
  await until('node1 seen by the watch', () => seen.some(([n, r]) => n === 'node1' && r?.podCIDR === '10.0.1.0/24'), 5000, 50);
  // node2 loses its CIDR (not ready): the watch says it is gone; deleted: gone.
  const n2 = (await store.get('BeelineNode', undefined, 'node2'))!;
  await store.update({ ...n2, spec: { addresses: [{ type: 'InternalIP', ip: '172.18.0.12' }] } });
  await until('node2 without a CIDR is removed', () => seen.at(-1)?.[0] === 'node2' && seen.at(-1)?.[1] === undefined, 5000, 50);
  await store.delete('BeelineNode', undefined, 'node2');
  await until('node2 deleted', () => seen.filter(([n, r]) => n === 'node2' && r === undefined).length === 2, 5000, 50);
});
