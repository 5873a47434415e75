import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpamInvalidError } from '../common/errors.js';
import { clusterPool, nodeCIDRKey, podCIDRKey } from './clusterpool.js';

test('cluster pool: splits the cluster CIDR into per-node CIDRs (the store test runs against etcd: test/privileged)', () => {
  const p = clusterPool('10.0.0.0/16', 24);
  assert.equal(p.count, 256);
  assert.equal(p.at(0), '10.0.0.0/24');
  assert.equal(p.at(1), '10.0.1.0/24');
  assert.equal(p.at(255), '10.0.255.0/24');
  assert.equal(clusterPool('10.0.0.0/16', 16).count, 1);
  assert.equal(clusterPool('10.8.0.0/13', 26).at(3), '10.8.0.192/26');
  assert.throws(() => clusterPool('10.0.0.0/16', 15), IpamInvalidError);
  assert.throws(() => clusterPool('10.0.0.0/16', 31), /mask size 31 is invalid/);
  assert.throws(() => clusterPool('10.0.0.1/16', 24), /host bits/);
  assert.equal(podCIDRKey('10.0.1.0/24'), '/beeline/v1/ipam/podcidrs/10.0.1.0_24');
  assert.equal(nodeCIDRKey('node1'), '/beeline/v1/ipam/nodes/node1');
});
