import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityInvalidError } from '../common/errors.js';
import { formatLabelSet } from './labels.js';
import {
  CLUSTER_IDENTITY_MAX,
  CLUSTER_IDENTITY_MIN,
  LOCAL_IDENTITY_FLAG,
  LOCAL_IDENTITY_MAX,
  LOCAL_IDENTITY_MIN,
  LocalIdentityAllocator,
  RESERVED_IDENTITIES,
  ReservedIdentity,
  cidrLabels,
  identityScope,
  reservedIdentity,
  reservedIdentityByLabels,
} from './reserved.js';

test("reserved: Cilium's numbers and labels", () => {
  assert.deepEqual(
    RESERVED_IDENTITIES.map((i) => [i.id, formatLabelSet(i.labels).join(',')]),
    [
      [1, 'reserved:host'],
      [2, 'reserved:world'],
      [3, 'reserved:unmanaged'],
      [4, 'reserved:health'],
      [5, 'reserved:init'],
      [6, 'reserved:remote-node'],
      [7, 'reserved:kube-apiserver,reserved:remote-node'],
      [8, 'reserved:ingress'],
      [9, 'reserved:world-ipv4'],
      [10, 'reserved:world-ipv6'],
    ],
  );
  assert.equal(ReservedIdentity['remote-node'], 6);
  assert.equal(reservedIdentity(2)?.id, 2);
  assert.equal(reservedIdentity(11), undefined);
  assert.equal(reservedIdentityByLabels(['reserved:host'])?.id, 1);
  assert.equal(reservedIdentityByLabels(['reserved:remote-node', 'reserved:kube-apiserver'])?.id, 7);
  assert.equal(reservedIdentityByLabels(['k8s:app=web']), undefined);
});

test('reserved: identity ranges', () => {
  assert.equal(CLUSTER_IDENTITY_MIN, 256);
  assert.equal(CLUSTER_IDENTITY_MAX, 65535);
  assert.equal(LOCAL_IDENTITY_FLAG, 16777216);
  assert.equal(LOCAL_IDENTITY_MIN, 16777217);
  assert.equal(LOCAL_IDENTITY_MAX, 33554431);
  assert.equal(identityScope(0), 'unknown');
  assert.equal(identityScope(1), 'reserved');
  assert.equal(identityScope(10), 'reserved');
  assert.equal(identityScope(11), 'invalid');
  assert.equal(identityScope(128), 'user-reserved');
  assert.equal(identityScope(256), 'cluster');
  assert.equal(identityScope(65535), 'cluster');
  assert.equal(identityScope(65536), 'invalid');
  assert.equal(identityScope(16777216), 'invalid');
  assert.equal(identityScope(16777217), 'local');
  assert.equal(identityScope(-1), 'invalid');
  assert.equal(identityScope(1.5), 'invalid');
});

test('reserved: CIDR labels, current and covering form; /0 is world', () => {
  assert.deepEqual(formatLabelSet(cidrLabels('10.0.0.0/8')), ['cidr:10.0.0.0/8', 'reserved:world']);
  assert.deepEqual(formatLabelSet(cidrLabels('192.0.2.7')), ['cidr:192.0.2.7/32', 'reserved:world']);
  assert.deepEqual(formatLabelSet(cidrLabels('0.0.0.0/0')), ['reserved:world']);
  const covering = formatLabelSet(cidrLabels('10.0.0.0/8', { covering: true }));
  // Cilium's pre-1.15 example: cidr:10.0.0.0/8, 10.0.0.0/7, 8.0.0.0/6, 8.0.0.0/5, 0.0.0.0/4 … 0.0.0.0/0, reserved:world
  for (const p of ['10.0.0.0/8', '10.0.0.0/7', '8.0.0.0/6', '8.0.0.0/5', '0.0.0.0/4', '0.0.0.0/3', '0.0.0.0/2', '0.0.0.0/1', '0.0.0.0/0']) {
    assert.ok(covering.includes(`cidr:${p}`), p);
  }
  assert.equal(covering.length, 10);
  assert.throws(() => cidrLabels('10.0.0.1/8'), IdentityInvalidError);
  assert.throws(() => cidrLabels('nope'), IdentityInvalidError);
});

test('reserved: CIDR identities are numbered 1<<24 | n, reference counted, lowest free reused', () => {
  const a = new LocalIdentityAllocator();
  const x = a.allocateCidr('203.0.113.0/24');
  const y = a.allocateCidr('198.51.100.0/24');
  assert.equal(x.id, (1 << 24) | 1);
  assert.equal(y.id, (1 << 24) | 2);
  assert.equal(a.allocateCidr('203.0.113.0/24').id, x.id);
  assert.equal(a.allocateCidr('0.0.0.0/0').id, 2);
  assert.equal(a.lookup(x.id)?.labels.length, 2);
  assert.equal(a.releaseCidr('203.0.113.0/24'), false); // one reference left
  assert.equal(a.releaseCidr('203.0.113.0/24'), true);
  assert.equal(a.lookup(x.id), undefined);
  assert.equal(a.allocateCidr('192.0.2.0/24').id, (1 << 24) | 1);
  assert.deepEqual(a.list().map((i) => i.id), [(1 << 24) | 1, (1 << 24) | 2]);
  assert.equal(a.releaseCidr('10.9.9.0/24'), false);
});
