/**
 * Cluster-pool IPAM against a real etcd (started here on unix sockets):
 * racing claimers never share a CIDR, a node gets its own back, and an
 * exhausted pool says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { ClusterPoolExhaustedError, IpamConflictError } from '../../src/common/errors.js';
import { claimNodeCIDR, listNodeCIDRs, nodeCIDRKey, podCIDRKey, releaseNodeCIDR } from '../../src/ipam/clusterpool.js';
import { startTestEtcd, type TestEtcd } from '../lib/etcd.js';

async function withEtcd(t: { after: (fn: () => Promise<void>) => void }): Promise<{ etcd: TestEtcd; client: () => Etcd3 }> {
  const etcd = await startTestEtcd();
  const clients: Etcd3[] = [];
  t.after(async () => {
    clients.forEach((c) => c.close());
    await etcd.stop();
  });
  return {
    etcd,
    client: () => {
      const c = new Etcd3({ hosts: etcd.endpoint, dialTimeout: 2000 });
      clients.push(c);
      return c;
    },
  };
}

test('cluster pool: two racing claimers for 5 nodes each get 10 distinct CIDRs; a node claiming again gets its own', async (t) => {
  const { client } = await withEtcd(t);
  const a = client();
  const b = client();
  const nodes = [1, 2, 3, 4, 5];
  const [ra, rb] = await Promise.all([
    Promise.all(nodes.map((i) => claimNodeCIDR(a, `a${i}`, '10.0.0.0/16', 24))),
    Promise.all(nodes.map((i) => claimNodeCIDR(b, `b${i}`, '10.0.0.0/16', 24))),
  ]);
  const all = [...ra, ...rb];
  assert.equal(new Set(all).size, 10, `distinct: ${all.join(' ')}`);
  for (const c of all) assert.match(c, /^10\.0\.\d+\.0\/24$/);
  // The first free ones, whoever won each race.
  assert.deepEqual([...all].sort(), Array.from({ length: 10 }, (_, i) => `10.0.${i}.0/24`).sort());

  // The same node from two claimers at once (an agent and its restart): one CIDR.
  const [x, y] = await Promise.all([claimNodeCIDR(a, 'c1', '10.0.0.0/16', 24), claimNodeCIDR(b, 'c1', '10.0.0.0/16', 24)]);
  assert.equal(x, y);

  // Claiming again (an agent restart, with a fresh client) returns the node's own CIDR.
  const c = client();
  for (const [i, n] of nodes.entries()) assert.equal(await claimNodeCIDR(c, `a${n}`, '10.0.0.0/16', 24), ra[i]);
  const map = await listNodeCIDRs(c);
  assert.equal(Object.keys(map).length, 11);
  assert.equal(map.b3, rb[2]);
  assert.equal(await c.get(podCIDRKey(ra[0]!)).string(), 'a1');
  assert.equal(await c.get(nodeCIDRKey('a1')).string(), ra[0]);
});

test('cluster pool: a preferred CIDR is taken when free; exhaustion errors; release frees one', async (t) => {
  const { client } = await withEtcd(t);
  const e = client();
  assert.equal(await claimNodeCIDR(e, 'node3', '10.1.0.0/22', 24, { preferred: '10.1.3.0/24' }), '10.1.3.0/24');
  assert.equal(await claimNodeCIDR(e, 'node1', '10.1.0.0/22', 24, { preferred: '10.1.3.0/24' }), '10.1.0.0/24', 'preferred taken: first free');
  await claimNodeCIDR(e, 'node2', '10.1.0.0/22', 24);
  await claimNodeCIDR(e, 'node4', '10.1.0.0/22', 24);
  await assert.rejects(
    claimNodeCIDR(e, 'node5', '10.1.0.0/22', 24),
    (err: ClusterPoolExhaustedError) =>
      err instanceof ClusterPoolExhaustedError &&
      err.code === 'BL_ERR_IPAM_POOL_EXHAUSTED' &&
      err.message === 'claim pod CIDR for node5: cluster pool 10.1.0.0/22 is exhausted: 4 of 4 /24 CIDRs are claimed',
  );
  assert.equal(await e.get(nodeCIDRKey('node5')).string(), null, 'a failed claim leaves no index entry');
  assert.equal(await releaseNodeCIDR(e, 'node2'), '10.1.1.0/24');
  assert.equal(await releaseNodeCIDR(e, 'node2'), undefined, 'release is idempotent');
  assert.equal(await claimNodeCIDR(e, 'node5', '10.1.0.0/22', 24), '10.1.1.0/24');
  await assert.rejects(claimNodeCIDR(e, 'node6', '10.1.0.0/22', 24, { preferred: '10.9.0.0/24' }), /not a \/24 of the cluster pool/);
  await assert.rejects(claimNodeCIDR(e, 'Bad_Node', '10.1.0.0/22', 24), /node name 'Bad_Node' is invalid/);
});

test('cluster pool: an index entry that disagrees with the claims is reported, not papered over', async (t) => {
  const { client } = await withEtcd(t);
  const e = client();
  await claimNodeCIDR(e, 'node1', '10.0.0.0/16', 24);
  await e.put(nodeCIDRKey('node2')).value('10.0.0.0/24');
  await assert.rejects(claimNodeCIDR(e, 'node2', '10.0.0.0/16', 24), (err: IpamConflictError) => err instanceof IpamConflictError && /claimed by node1/.test(err.message) && /etcdctl del/.test(err.hint!));
  // A node whose CIDR is outside a (changed) cluster pool is told so.
  await assert.rejects(claimNodeCIDR(e, 'node1', '10.5.0.0/16', 24), /not a \/24 of the cluster pool 10\.5\.0\.0\/16/);
  // Releasing node2 removes only its dangling index, never node1's claim.
  assert.equal(await releaseNodeCIDR(e, 'node2'), '10.0.0.0/24');
  assert.equal(await e.get(podCIDRKey('10.0.0.0/24')).string(), 'node1');
  assert.equal(await e.get(nodeCIDRKey('node2')).string(), null);
});
