import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FqdnCache } from './cache.js';

const T0 = 1_700_000_000_000;
const nobody = () => false;

test('add: names normalised, expiry = ttl, names() is the union across endpoints, nameOf', () => {
  const c = new FqdnCache();
  assert.equal(c.add(1, 'API.Example.test', ['10.0.0.2', '10.0.0.1'], 30, T0, 'lookup'), true);
  assert.equal(c.add(1, 'api.example.test.', ['10.0.0.1'], 30, T0), false, 'nothing new');
  c.add(2, 'api.example.test', ['10.0.0.3'], 60, T0);
  c.add(2, 'other.example.test', ['10.0.0.1'], 60, T0); // an IP shared by two names
  assert.deepEqual(c.names(), new Map([
    ['api.example.test.', ['10.0.0.1', '10.0.0.2', '10.0.0.3']],
    ['other.example.test.', ['10.0.0.1']],
  ]));
  assert.deepEqual(c.nameOf('10.0.0.1'), ['api.example.test.', 'other.example.test.']);
  assert.deepEqual(c.nameOf('10.9.9.9'), []);
  const rows = c.rows(T0 + 10_500);
  assert.deepEqual(rows.map((r) => [r.endpointId, r.name, r.ip, r.ttlSec, r.ttlRemainingSec, r.source]), [
    [1, 'api.example.test.', '10.0.0.1', 30, 20, 'lookup'],
    [1, 'api.example.test.', '10.0.0.2', 30, 20, 'lookup'],
    [2, 'api.example.test.', '10.0.0.3', 60, 50, 'lookup'],
    [2, 'other.example.test.', '10.0.0.1', 60, 50, 'lookup'],
  ]);
  assert.equal(rows[0]!.expiresMs, T0 + 30_000);
  assert.equal(c.size, 4);
});

test('gc: expired entries go, live ones stay; changed says so', () => {
  const c = new FqdnCache();
  c.add(1, 'a.test', ['10.0.0.1'], 5, T0);
  c.add(1, 'b.test', ['10.0.0.2'], 50, T0);
  assert.deepEqual(c.gc(T0 + 4_999, nobody), { removed: [], changed: false });
  const r = c.gc(T0 + 5_000, nobody);
  assert.deepEqual(r, { removed: [{ endpointId: 1, name: 'a.test.', ip: '10.0.0.1', why: 'expired' }], changed: true });
  assert.deepEqual([...c.names().keys()], ['b.test.']);
  assert.equal(c.gc(T0 + 60_000, nobody).removed.length, 1);
  assert.equal(c.size, 0);
  assert.deepEqual(c.names(), new Map());
});

test('gc is connection-aware: an expired IP in use stays as a zombie (source connection) until no connection uses it', () => {
  const c = new FqdnCache();
  c.add(7, 'api.example.test', ['10.0.0.1', '10.0.0.2'], 10, T0);
  const used = new Set(['10.0.0.1']);
  const asked: string[] = [];
  const r = c.gc(T0 + 20_000, (ip) => (asked.push(ip), used.has(ip)));
  assert.deepEqual(r.removed.map((x) => x.ip), ['10.0.0.2']);
  assert.deepEqual(asked.sort(), ['10.0.0.1', '10.0.0.2'], 'only expired entries are asked about');
  assert.deepEqual(c.rows(T0 + 20_000).map((x) => [x.ip, x.source, x.ttlRemainingSec]), [['10.0.0.1', 'connection', 0]]);
  assert.deepEqual(c.names(), new Map([['api.example.test.', ['10.0.0.1']]]), 'the zombie stays selected: its connection keeps working');
  // Still in use: stays.
  assert.equal(c.gc(T0 + 30_000, (ip) => used.has(ip)).changed, false);
  // A new lookup revives it as a lookup entry.
  c.add(7, 'api.example.test', ['10.0.0.1'], 10, T0 + 31_000);
  assert.equal(c.rows(T0 + 31_000)[0]!.source, 'lookup');
  // Expired again and the connection is gone: removed.
  used.clear();
  assert.deepEqual(c.gc(T0 + 50_000, (ip) => used.has(ip)).removed.map((x) => x.ip), ['10.0.0.1']);
  assert.equal(c.size, 0);
});

test('rotation: each answer adds its IPs, older ones stay until their own expiry; newest lookup sets the expiry', () => {
  const c = new FqdnCache();
  for (let i = 0; i < 5; i++) c.add(1, 'rot.test', [`10.1.0.${i}`], 10, T0 + i * 3_000);
  assert.deepEqual(c.names().get('rot.test.'), ['10.1.0.0', '10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4']);
  // At T0+16s the first three (expiring at 10, 13 and 16 s) are gone.
  c.gc(T0 + 16_000, nobody);
  assert.deepEqual(c.names().get('rot.test.'), ['10.1.0.3', '10.1.0.4']);
  // A shorter TTL in a newer answer wins (the newest lookup).
  c.add(1, 'rot.test', ['10.1.0.4'], 1, T0 + 16_000);
  c.gc(T0 + 17_000, nobody);
  assert.deepEqual(c.names().get('rot.test.'), ['10.1.0.3']);
});

test('minTtl raises short TTLs (tofqdns-min-ttl), default 0; a TTL with the top bit set is 0 (RFC 2181)', () => {
  const c = new FqdnCache({ minTtlSec: 60 });
  c.add(1, 'a.test', ['10.0.0.1'], 0, T0);
  c.add(1, 'b.test', ['10.0.0.2'], 3600, T0);
  assert.deepEqual(c.rows(T0).map((r) => r.ttlSec), [60, 3600]);
  const d = new FqdnCache();
  assert.equal(d.minTtlSec, 0);
  d.add(1, 'a.test', ['10.0.0.1'], 0x80000001, T0);
  assert.equal(d.rows(T0)[0]!.ttlSec, 0);
  assert.equal(d.gc(T0, nobody).removed.length, 1, 'a TTL of 0 expires at once (unless in use)');
  assert.throws(() => new FqdnCache({ minTtlSec: -1 }), /minTtlSec/);
  assert.throws(() => new FqdnCache({ maxIpsPerName: 0 }), /maxIpsPerName/);
});

test('bounded: over maxIpsPerName the entries expiring first go at gc, unless in use; over maxNamesPerEndpoint the oldest names', () => {
  const c = new FqdnCache({ maxIpsPerName: 3, maxNamesPerEndpoint: 2 });
  c.add(1, 'many.test', ['10.0.0.1'], 100, T0);
  c.add(1, 'many.test', ['10.0.0.2'], 100, T0 + 1_000);
  c.add(1, 'many.test', ['10.0.0.3', '10.0.0.4', '10.0.0.5'], 100, T0 + 2_000);
  assert.equal(c.names().get('many.test.')!.length, 5, 'add never drops: the answer being released is never missing');
  const r = c.gc(T0 + 3_000, (ip) => ip === '10.0.0.1');
  assert.deepEqual(r.removed, [{ endpointId: 1, name: 'many.test.', ip: '10.0.0.2', why: 'over-limit' }]);
  assert.deepEqual(c.rows(T0 + 3_000).map((x) => [x.ip, x.source]), [
    ['10.0.0.1', 'connection'], ['10.0.0.3', 'lookup'], ['10.0.0.4', 'lookup'], ['10.0.0.5', 'lookup'],
  ]);
  // Other endpoints are not limited by this one's entries.
  c.add(2, 'many.test', ['10.0.0.9'], 100, T0);
  // Names: a third name on endpoint 1 pushes out the one looked up longest ago.
  c.add(1, 'b.test', ['10.2.0.1'], 100, T0 + 4_000);
  c.add(1, 'c.test', ['10.2.0.2'], 100, T0 + 5_000);
  const r2 = c.gc(T0 + 6_000, nobody);
  assert.deepEqual(r2.removed.map((x) => `${x.endpointId} ${x.name} ${x.ip} ${x.why}`).sort(), [
    '1 many.test. 10.0.0.1 over-limit', '1 many.test. 10.0.0.3 over-limit', '1 many.test. 10.0.0.4 over-limit', '1 many.test. 10.0.0.5 over-limit',
  ]);
  assert.deepEqual([...c.names()], [['b.test.', ['10.2.0.1']], ['c.test.', ['10.2.0.2']], ['many.test.', ['10.0.0.9']]]);
});

test('forgetEndpoint drops its entries only', () => {
  const c = new FqdnCache();
  c.add(1, 'a.test', ['10.0.0.1'], 100, T0);
  c.add(2, 'a.test', ['10.0.0.2'], 100, T0);
  assert.equal(c.forgetEndpoint(1), true);
  assert.equal(c.forgetEndpoint(1), false);
  assert.deepEqual(c.names(), new Map([['a.test.', ['10.0.0.2']]]));
});

test('1,000 names with 10 rotating IPs each stay bounded by what the TTLs keep', () => {
  const c = new FqdnCache();
  let now = T0;
  for (let round = 0; round < 30; round++) {
    for (let n = 0; n < 1000; n++) c.add(1, `n${n}.test`, [`10.${n >> 8}.${n & 255}.${round % 10}`, `10.200.${n >> 8}.${(n & 255)}`], 5, now);
    now += 1_000;
    c.gc(now, nobody);
  }
  // TTL 5 s, one answer a second, 10 IPs rotating: at most 5 of the rotating IPs plus the fixed one are live per name.
  assert.ok(c.size <= 1000 * 6, `size ${c.size}`);
  assert.ok(c.size >= 1000 * 5, `size ${c.size}`);
});
