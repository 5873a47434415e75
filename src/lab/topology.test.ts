import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLabName, planLab, resolveTarget } from './topology.js';
import { UsageError } from '../common/errors.js';

test('a 2-node plan has distinct namespaces, addresses and pod CIDRs', () => {
  const p = planLab('demo', 2);
  assert.equal(p.routing, 'tunnel');
  assert.deepEqual(p.nodes.map((n) => n.netns), ['bl-demo-node1', 'bl-demo-node2']);
  assert.deepEqual(p.nodes.map((n) => n.ip), ['172.18.0.11', '172.18.0.12']);
  assert.equal(p.clusterPoolCIDR, '10.0.0.0/16');
  assert.equal(p.clusterPoolMaskSize, 24);
  assert.equal(p.fabric.netns, 'bl-demo-fabric');
  assert.equal(p.world.netns, 'bl-demo-world');
  const all = [p.fabric.netns, p.world.netns, ...p.nodes.map((n) => n.netns)];
  assert.equal(new Set(all).size, all.length);
});

test('interface names stay within IFNAMSIZ for the largest lab', () => {
  const p = planLab('abcdefghijkl', 16);
  for (const n of p.nodes) {
    assert.ok(n.fabricPort.length <= 15 && n.uplink.length <= 15);
  }
  assert.equal(p.nodes.at(-1)!.ip, '172.18.0.26');
});

test('bad names, node counts and routing modes are usage errors naming the value', () => {
  for (const bad of ['', 'UPPER', 'has_underscore', '-dash', 'dash-', 'waytoolongname1']) {
    assert.throws(() => checkLabName(bad), (e: unknown) => e instanceof UsageError && e.message.includes(`'${bad}'`));
  }
  assert.throws(() => planLab('ok', 0), /--nodes 0/);
  assert.throws(() => planLab('ok', 17), /--nodes 17/);
  assert.throws(() => planLab('ok', 1.5), /--nodes 1.5/);
  assert.throws(() => planLab('ok', 2, 'bgp' as never), /--routing bgp/);
});

test('lab exec targets resolve to namespaces; unknown ones list the choices', () => {
  const p = planLab('x', 2, 'native');
  assert.equal(resolveTarget(p, 'node2'), 'bl-x-node2');
  assert.equal(resolveTarget(p, 'world'), 'bl-x-world');
  assert.equal(resolveTarget(p, 'fabric'), 'bl-x-fabric');
  assert.throws(() => resolveTarget(p, 'node3'), (e: unknown) => e instanceof UsageError && /node1, node2, world, fabric/.test(e.hint ?? ''));
});
