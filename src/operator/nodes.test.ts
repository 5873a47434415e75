/**
 * The operator in Kubernetes mode against the stateful API test double
 * (test/lib/kube-api.ts): cluster-pool IPAM for BeelineNodes, the garbage of
 * deleted Nodes, and the Operator's configuration check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { KubeApi } from '../../test/lib/kube-api.js';
import { captureLog, kubeStores } from '../../test/lib/kube-stores.js';
import { laggyStore } from '../../test/lib/laggy-store.js';
import { until } from '../../test/lib/wait.js';
import type { Store } from '../store/store.js';
import { BeelineNodeController } from './nodes.js';
import { Operator, checkOperatorConfig } from './operator.js';

type T = { after: (fn: () => Promise<void> | void) => void };



const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {} });
const beelineNode = (name: string, podCIDRs?: unknown[]) => ({
  apiVersion: 'beeline.io/v1alpha1',
  kind: 'BeelineNode',
  metadata: { name },
  spec: { addresses: [{ type: 'InternalIP', ip: '172.18.0.11' }], ...(podCIDRs ? { ipam: { podCIDRs } } : {}) },
});
const endpoint = (name: string, nodeName: string) => ({
  apiVersion: 'beeline.io/v1alpha1',
  kind: 'BeelineEndpoint',
  metadata: { name, namespace: 'default' },
  spec: { identity: 300, ipv4: '10.0.0.5', node: nodeName, hostIP: '172.18.0.11' },
});
const podCIDRs = (api: KubeApi, name: string): string[] | undefined => api.get('beelinenodes', undefined, name)?.spec?.ipam?.podCIDRs;

async function controller(t: T, store: Store, log?: Logger): Promise<BeelineNodeController> {
  const c = new BeelineNodeController(store, { clusterPoolCIDR: '10.0.0.0/22', clusterPoolMaskSize: 24, log });
  await c.start();
  t.after(() => c.stop());
  return c;
}

test('operator IPAM: distinct CIDRs for BeelineNodes created concurrently; existing ones kept; a malformed one logged', async (t) => {
  const { api, open } = await kubeStores(t);
  const store = open();
  for (const n of ['node0', 'node1', 'node2', 'node3', 'node4']) api.seed(node(n));
  // node0 holds the pool's second block already; node4's CIDR is not one.
  api.seed(beelineNode('node0', ['10.0.1.0/24']));
  api.seed(beelineNode('node4', ['not-a-cidr']));
  const log = captureLog();
  // The operator's cache lags: its own writes must not be forgotten before the cache shows them.
  await controller(t, laggyStore(open(), 100), log);
  await Promise.all(['node1', 'node2', 'node3'].map((n) => store.create(beelineNode(n))));
  await until('three CIDRs handed out', () => ['node1', 'node2', 'node3'].every((n) => podCIDRs(api, n)), 5000, 20);
  const got = ['node1', 'node2', 'node3'].map((n) => podCIDRs(api, n)![0]!);
  assert.deepEqual([...got].sort(), ['10.0.0.0/24', '10.0.2.0/24', '10.0.3.0/24'], 'distinct, inside the pool, not node0\'s');
  assert.deepEqual(podCIDRs(api, 'node0'), ['10.0.1.0/24']);
  assert.deepEqual(podCIDRs(api, 'node4'), ['not-a-cidr'], 'not touched');
  assert.equal(log.warnings.filter((w) => w.includes('malformed pod CIDR')).length, 1);
  // The agent's part of the object is kept.
  assert.deepEqual(api.get('beelinenodes', undefined, 'node1')!.spec.addresses, [{ type: 'InternalIP', ip: '172.18.0.11' }]);

  // The pool is full: the next node waits, named in the log, and gets the CIDR of a node that goes.
  api.seed(node('node5'));
  await store.create(beelineNode('node5'));
  await until('the exhausted pool logged', () => log.warnings.some((w) => w.includes('exhausted') && w.includes('node5')), 5000, 20);
  assert.equal(podCIDRs(api, 'node5'), undefined);
  const freed = podCIDRs(api, 'node2')![0];
  await store.delete('Node', undefined, 'node2');
  await until('node5 to get the freed CIDR', () => podCIDRs(api, 'node5')?.[0] === freed, 5000, 20);
});

test('operator IPAM: an update that conflicts (the agent wrote its BeelineNode meanwhile) is retried at the new version', async (t) => {
  const { api, open } = await kubeStores(t);
  api.seed(node('node1'));
  const agent = open();
  const opStore = open();
  let conflicts = 0;
  const realUpdate = opStore.update.bind(opStore);
  opStore.update = async (obj, opts) => {
    if (conflicts === 0) {
      conflicts++;
      const cur = await agent.get('BeelineNode', undefined, obj.metadata.name);
      await agent.update({ ...cur!, metadata: { ...cur!.metadata, labels: { touched: 'yes' } } });
    }
    return realUpdate(obj, opts);
  };
  await controller(t, opStore);
  await agent.create(beelineNode('node1'));
  await until('node1 to get a CIDR', () => podCIDRs(api, 'node1'), 5000, 20);
  assert.equal(conflicts, 1);
  assert.deepEqual(podCIDRs(api, 'node1'), ['10.0.0.0/24']);
  assert.deepEqual(api.get('beelinenodes', undefined, 'node1')!.metadata.labels, { touched: 'yes' }, "the agent's write is kept");
});

test('operator: BeelineNodes of deleted Nodes are deleted with their BeelineEndpoints; others are kept', async (t) => {
  const { api, open } = await kubeStores(t);
  for (const n of ['node1', 'node2']) {
    api.seed(node(n));
    api.seed(beelineNode(n, [n === 'node1' ? '10.0.0.0/24' : '10.0.1.0/24']));
  }
  api.seed(endpoint('a', 'node1'));
  api.seed(endpoint('b', 'node2'));
  api.seed({ ...endpoint('c', 'node1'), spec: { identity: 'x' } }); // malformed: no node, not touched
  const store = open();
  await controller(t, open());
  await store.delete('Node', undefined, 'node1');
  await until('node1 gone', () => !api.get('beelinenodes', undefined, 'node1') && !api.get('beelineendpoints', 'default', 'a'), 5000, 20);
  assert.ok(api.get('beelinenodes', undefined, 'node2'));
  assert.ok(api.get('beelineendpoints', 'default', 'b'));
  assert.ok(api.get('beelineendpoints', 'default', 'c'));
  // An endpoint written late for the deleted node goes too.
  await store.create(endpoint('d', 'node1'));
  await until('the late endpoint gone', () => !api.get('beelineendpoints', 'default', 'd'), 5000, 20);
});

test('Operator (Kubernetes mode): identity GC and the node controller over one store; exactly one backend', async (t) => {
  const { api, open } = await kubeStores(t);
  api.seed(node('node1'));
  api.seed(beelineNode('node1'));
  api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: '300' }, securityLabels: ['k8s:app=a'] });
  const op = new Operator(
    { k8sKubeconfig: api.kubeconfig, identityGcGraceMs: 0, identityGcIntervalMs: 20, clusterPoolCIDR: '10.1.0.0/16', clusterPoolMaskSize: 24 },
    { store: open(), log: captureLog() },
  );
  await op.start();
  t.after(() => op.stop());
  await until('a CIDR for node1', () => podCIDRs(api, 'node1'), 5000, 20);
  assert.deepEqual(podCIDRs(api, 'node1'), ['10.1.0.0/24']);
  await until('the unreferenced identity collected', () => !api.get('beelineidentities', undefined, '300'), 5000, 20);

  const base = { identityGcGraceMs: 1, identityGcIntervalMs: 1 };
  assert.throws(() => checkOperatorConfig(base), UsageError);
  assert.throws(() => checkOperatorConfig({ ...base, kvstore: 'unix:///x:2379', k8sKubeconfig: 'in-cluster' }), UsageError);
  assert.throws(() => checkOperatorConfig({ ...base, kvstore: 'unix:///x:2379', clusterPoolCIDR: '10.0.0.0/8' }), UsageError);
  assert.doesNotThrow(() => checkOperatorConfig({ ...base, k8sKubeconfig: 'in-cluster', clusterPoolCIDR: '10.0.0.0/8' }));
});
