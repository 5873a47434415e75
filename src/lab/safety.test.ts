import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertIpTargetsNetns, diffSnapshots } from './safety.js';
import { HostSafetyError } from '../common/errors.js';

test('ip commands that would change the root namespace are refused', () => {
  assert.throws(() => assertIpTargetsNetns(['link', 'add', 'x', 'type', 'veth']), HostSafetyError);
  assert.throws(() => assertIpTargetsNetns(['addr', 'add', '10.0.0.1/24', 'dev', 'eth0']), HostSafetyError);
  assert.throws(() => assertIpTargetsNetns(['route', 'add', 'default', 'via', '1.2.3.4']), HostSafetyError);
  assertIpTargetsNetns(['-n', 'bl-x-node1', 'link', 'add', 'x', 'type', 'veth']);
  assertIpTargetsNetns(['netns', 'add', 'bl-x-node1']);
  assertIpTargetsNetns(['link', 'show']);
});

test('snapshot diff reports added and removed lines per section, nothing when equal', () => {
  const a = { 'ip link': 'lo\neth0', 'ip route': 'default via 192.0.2.1' };
  assert.deepEqual(diffSnapshots(a, { ...a }), []);
  const b = { 'ip link': 'lo\neth0\nveth0', 'ip route': '' };
  assert.deepEqual(diffSnapshots(a, b).sort(), ['ip link: + veth0', 'ip route: + ', 'ip route: - default via 192.0.2.1'].sort());
});
