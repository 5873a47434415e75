import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpamConflictError, IpamExhaustedError, IpamInvalidError } from '../common/errors.js';
import { formatIPv4, parseCidr, parseIPv4, tryParseIPv4 } from './cidr.js';
import { Pool, type PoolState } from './pool.js';

test('cidr: parses strictly, refuses host bits and names the network meant', () => {
  assert.equal(parseIPv4('10.0.1.5'), 0x0a000105);
  assert.equal(formatIPv4(0xffffffff), '255.255.255.255');
  for (const bad of ['10.0.1', '10.0.1.256', '010.0.1.1', '10.0.1.1.1', '', 'a.b.c.d', '1.2.3.-1']) assert.equal(tryParseIPv4(bad), undefined, bad);
  assert.deepEqual(parseCidr('10.0.1.0/24'), { text: '10.0.1.0/24', base: 0x0a000100, prefix: 24, size: 256 });
  assert.throws(() => parseCidr('10.0.1.5/24'), (e: IpamInvalidError) => e.code === 'BL_ERR_IPAM_INVALID' && /host bits/.test(e.message) && /10\.0\.1\.0\/24/.test(e.hint!));
  assert.throws(() => parseCidr('10.0.1.0/33'), IpamInvalidError);
  assert.throws(() => parseCidr('10.0.1.0'), IpamInvalidError);
});

test('pool: network, router and broadcast are reserved; the router is the gateway', () => {
  const p = new Pool('10.0.1.0/24');
  assert.equal(p.network, '10.0.1.0');
  assert.equal(p.router, '10.0.1.1');
  assert.equal(p.broadcast, '10.0.1.255');
  assert.equal(p.capacity, 253);
  assert.equal(p.allocate('c1/eth0'), '10.0.1.2', 'first pod address is after the router');
  for (const ip of ['10.0.1.0', '10.0.1.1', '10.0.1.255']) {
    assert.throws(() => p.allocateSpecific(ip, 'x/eth0'), (e: IpamInvalidError) => e instanceof IpamInvalidError && /reserved/.test(e.message), ip);
  }
  assert.throws(() => p.allocateSpecific('10.0.2.7', 'x/eth0'), /not in pod CIDR 10\.0\.1\.0\/24/);
  // A /30 holds exactly one pod; anything smaller holds none.
  const tiny = new Pool('10.9.0.0/30');
  assert.equal(tiny.capacity, 1);
  assert.equal(tiny.allocate('a'), '10.9.0.2');
  assert.throws(() => new Pool('10.9.0.0/31'), /too small/);
  // Every address handed out over a whole /24 is a pod address.
  const all = new Pool('10.0.7.0/24');
  const got = new Set(Array.from({ length: 253 }, (_, i) => all.allocate(`o${i}`)));
  assert.equal(got.size, 253);
  for (const r of ['10.0.7.0', '10.0.7.1', '10.0.7.255']) assert.equal(got.has(r), false);
});

test('pool: allocate and release are idempotent per owner', () => {
  const p = new Pool('10.0.1.0/24');
  const a = p.allocate('c1/eth0');
  assert.equal(p.allocate('c1/eth0'), a, 'same owner, same address');
  assert.equal(p.used, 1);
  const b = p.allocate('c1/eth1');
  assert.notEqual(b, a, 'another interface of the same container is another owner');
  assert.equal(p.lookup('c1/eth0'), a);
  assert.equal(p.ownerOf(b), 'c1/eth1');
  assert.equal(p.release('c1/eth0'), a);
  assert.equal(p.release('c1/eth0'), undefined, 'second release is a no-op');
  assert.equal(p.release('never/eth0'), undefined);
  assert.equal(p.used, 1);
  assert.throws(() => p.allocate(''), IpamInvalidError);
  assert.throws(() => p.allocate('bad\nowner'), IpamInvalidError);
});

test('pool: a released address is not handed out again until the cursor comes round', () => {
  const p = new Pool('10.0.1.0/29'); // pods: .2 .3 .4 .5 .6
  assert.equal(p.capacity, 5);
  assert.equal(p.allocate('a'), '10.0.1.2');
  assert.equal(p.allocate('b'), '10.0.1.3');
  p.release('a');
  assert.equal(p.allocate('c'), '10.0.1.4', 'not the just-released .2');
  assert.equal(p.allocate('d'), '10.0.1.5');
  assert.equal(p.allocate('e'), '10.0.1.6');
  assert.equal(p.allocate('f'), '10.0.1.2', 'wraps round to the free .2');
  p.release('b');
  p.release('d');
  assert.equal(p.allocate('g'), '10.0.1.3', 'first free after the cursor');
  assert.equal(p.allocate('h'), '10.0.1.5');
});

test('pool: exhaustion names the CIDR and how many are in use; a release makes room', () => {
  const p = new Pool('10.0.1.0/29');
  for (const o of ['a', 'b', 'c', 'd', 'e']) p.allocate(o);
  assert.throws(
    () => p.allocate('f'),
    (e: IpamExhaustedError) =>
      e instanceof IpamExhaustedError && e.code === 'BL_ERR_IPAM_EXHAUSTED' && e.message === 'allocate f: pod CIDR 10.0.1.0/29 is exhausted: 5 of 5 addresses in use' && !!e.hint,
  );
  assert.equal(p.allocate('a'), '10.0.1.2', 'an owner that already holds one still gets it when the pool is full');
  p.release('c');
  assert.equal(p.allocate('f'), '10.0.1.4');
});

test('pool: allocateSpecific restores, is idempotent, and refuses conflicts', () => {
  const p = new Pool('10.0.1.0/24');
  assert.equal(p.allocateSpecific('10.0.1.50', 'a'), '10.0.1.50');
  assert.equal(p.allocateSpecific('10.0.1.50', 'a'), '10.0.1.50');
  assert.throws(() => p.allocateSpecific('10.0.1.50', 'b'), (e: IpamConflictError) => e instanceof IpamConflictError && /already held by a/.test(e.message));
  assert.throws(() => p.allocateSpecific('10.0.1.51', 'a'), (e: IpamConflictError) => e instanceof IpamConflictError && /already holds 10\.0\.1\.50/.test(e.message));
  assert.equal(p.allocate('a'), '10.0.1.50');
  assert.throws(() => p.allocateSpecific('10.0.1', 'b'), IpamInvalidError);
});

test('pool: state round-trips through JSON, cursor included', () => {
  const p = new Pool('10.0.1.0/24');
  p.allocate('a');
  p.allocate('b');
  p.allocate('c');
  p.release('b');
  const state = JSON.parse(JSON.stringify(p)) as PoolState;
  assert.deepEqual(state, { version: 1, cidr: '10.0.1.0/24', next: '10.0.1.5', allocations: { '10.0.1.2': 'a', '10.0.1.4': 'c' } });
  const q = Pool.restore(state, '10.0.1.0/24');
  assert.deepEqual(q.entries(), p.entries());
  assert.equal(q.allocate('d'), '10.0.1.5', 'the cursor survives: .3 (just released) is not reused first');
  assert.equal(q.allocate('a'), '10.0.1.2');
});

test('pool: restore refuses a different CIDR and malformed state', () => {
  const state = new Pool('10.0.1.0/24').toJSON();
  assert.throws(() => Pool.restore(state, '10.0.2.0/24'), /saved state is for 10\.0\.1\.0\/24 but the node's pod CIDR is 10\.0\.2\.0\/24/);
  assert.throws(() => Pool.restore({ ...state, version: 2 } as unknown as PoolState), IpamInvalidError);
  assert.throws(() => Pool.restore({ ...state, allocations: { '10.0.1.2': 'a', '10.0.1.3': 'a' } }), IpamConflictError);
  assert.throws(() => Pool.restore({ ...state, allocations: { '10.0.1.1': 'a' } }), /router/);
  // A cursor outside the pool falls back to the first pod address.
  assert.equal(Pool.restore({ ...state, next: '10.0.1.255' }).allocate('x'), '10.0.1.2');
});
