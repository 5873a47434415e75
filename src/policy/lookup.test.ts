import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CookieTable, originText } from './cookies.js';
import { diffEntries, lookupPolicy } from './lookup.js';
import { icmpType, portRangePrefixes } from './ports.js';
import type { PolicyMapEntry } from './types.js';

const e = (identity: number, protocol: number, port: number, portPrefixLen: number, verdict: PolicyMapEntry['verdict'], cookie = 1, direction: PolicyMapEntry['direction'] = 'ingress'): PolicyMapEntry =>
  ({ direction, identity, protocol, port, portPrefixLen, verdict, cookie, proxyPort: 0 });
const DD = e(0, 0, 0, 0, 'default-deny', 9);

test('portRangePrefixes: minimal aligned prefixes that cover exactly the range', () => {
  assert.deepEqual(portRangePrefixes(8000, 8010), [{ port: 8000, len: 13 }, { port: 8008, len: 15 }, { port: 8010, len: 16 }]);
  assert.deepEqual(portRangePrefixes(80, 80), [{ port: 80, len: 16 }]);
  assert.deepEqual(portRangePrefixes(0, 65535), [{ port: 0, len: 0 }]);
  assert.deepEqual(portRangePrefixes(1, 65535).length, 16);
  // Exhaustive coverage check on awkward ranges.
  for (const [a, b] of [[1, 1023], [32000, 32768], [65534, 65535], [3, 17]] as const) {
    const ps = portRangePrefixes(a, b);
    const covered = (p: number) => ps.filter((x) => p >> (16 - x.len) === x.port >> (16 - x.len)).length;
    for (let p = Math.max(0, a - 3); p <= Math.min(65535, b + 3); p++) assert.equal(covered(p), p >= a && p <= b ? 1 : 0, `port ${p} in ${a}-${b}`);
  }
});

test('icmpType: numbers, names per family, errors', () => {
  assert.deepEqual(icmpType(8, 'IPv4'), { type: 8 });
  assert.deepEqual(icmpType('EchoRequest', undefined), { type: 8 });
  assert.deepEqual(icmpType('EchoRequest', 'IPv6'), { type: 128 });
  assert.ok('error' in icmpType(256, 'IPv4'));
  assert.ok('error' in icmpType('Ping', 'IPv4'));
});

test('lookup: not enforced → allowed without lookup (match none)', () => {
  assert.deepEqual(lookupPolicy([], 'ingress', 1000, 6, 80), { allowed: true, dropReason: undefined, match: 'none', entry: undefined });
  // Entries of the other direction do not enforce this one.
  assert.equal(lookupPolicy([{ ...DD, direction: 'egress' }], 'ingress', 1000, 6, 80).allowed, true);
});

test('lookup: default deny names the default-deny entry', () => {
  const r = lookupPolicy([DD], 'ingress', 1000, 6, 80);
  assert.deepEqual([r.allowed, r.dropReason, r.match, r.entry], [false, 133, 'none', DD]);
});

test('lookup: match types of the allowing entry', () => {
  assert.equal(lookupPolicy([DD, e(1000, 0, 0, 0, 'allow')], 'ingress', 1000, 6, 80).match, 'L3-Only');
  assert.equal(lookupPolicy([DD, e(1000, 6, 80, 16, 'allow')], 'ingress', 1000, 6, 80).match, 'L3-L4');
  assert.equal(lookupPolicy([DD, e(0, 6, 80, 16, 'allow')], 'ingress', 1000, 6, 80).match, 'L4-Only');
  assert.equal(lookupPolicy([e(0, 0, 0, 0, 'allow')], 'ingress', 1000, 6, 80, true).match, 'all');
  // e1 (identity-specific) is preferred as the deciding allow.
  assert.equal(lookupPolicy([DD, e(0, 6, 80, 16, 'allow', 2), e(1000, 6, 80, 16, 'allow', 3)], 'ingress', 1000, 6, 80).entry?.cookie, 3);
});

test('lookup: longest prefix per identity; protocol beats protocol 0; prefixes on port bits', () => {
  const es = [DD, e(1000, 0, 0, 0, 'allow', 1), e(1000, 6, 8000, 13, 'deny', 2), e(1000, 6, 8000, 16, 'allow', 3)];
  assert.equal(lookupPolicy(es, 'ingress', 1000, 6, 8000).entry?.cookie, 3);
  assert.equal(lookupPolicy(es, 'ingress', 1000, 6, 8007).dropReason, 181);
  assert.equal(lookupPolicy(es, 'ingress', 1000, 6, 8008).entry?.cookie, 1);
  assert.equal(lookupPolicy(es, 'ingress', 1000, 17, 8001).entry?.cookie, 1);
});

test('lookup: a deny on identity 0 beats an identity allow and vice versa', () => {
  assert.equal(lookupPolicy([DD, e(0, 6, 80, 16, 'deny'), e(1000, 0, 0, 0, 'allow')], 'ingress', 1000, 6, 80).dropReason, 181);
  assert.equal(lookupPolicy([e(1000, 6, 80, 16, 'deny'), e(0, 0, 0, 0, 'allow')], 'ingress', 1000, 6, 80, true).dropReason, 181);
  assert.equal(lookupPolicy([e(1000, 6, 80, 16, 'deny'), e(0, 0, 0, 0, 'allow')], 'ingress', 1001, 6, 80, true).allowed, true);
});

test('diffEntries: upserts new and changed, deletes gone, by key', () => {
  const a = [DD, e(1000, 6, 80, 16, 'allow', 1), e(1001, 0, 0, 0, 'allow', 1)];
  const b = [DD, e(1000, 6, 80, 16, 'allow', 2), e(1002, 0, 0, 0, 'allow', 1)];
  const d = diffEntries(a, b);
  assert.deepEqual(d.upserts, [e(1000, 6, 80, 16, 'allow', 2), e(1002, 0, 0, 0, 'allow', 1)]);
  assert.deepEqual(d.deletes, [e(1001, 0, 0, 0, 'allow', 1)]);
  assert.deepEqual(diffEntries(a, a), { upserts: [], deletes: [] });
});

test('CookieTable: stable, order-insensitive, 0 for none, round trip', () => {
  const t = new CookieTable();
  const a = { kind: 'CiliumNetworkPolicy' as const, namespace: 'ns1', name: 'a' };
  const b = { kind: 'NetworkPolicy' as const, namespace: 'ns1', name: 'b' };
  const c = { kind: 'CiliumClusterwideNetworkPolicy' as const, name: 'c' };
  assert.equal(t.intern([]), 0);
  const ab = t.intern([a, b]);
  assert.ok(ab > 0);
  assert.equal(t.intern([b, a, b]), ab);
  assert.notEqual(t.intern([c]), ab);
  assert.deepEqual(t.describe(ab), ['CiliumNetworkPolicy/ns1/a', 'NetworkPolicy/ns1/b']);
  assert.equal(originText(c), 'CiliumClusterwideNetworkPolicy/c');
  assert.deepEqual(t.origins(0), []);
});
