import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsRuleError } from '../../common/errors.js';
import {
  compileMatchName, compileMatchPattern, matchPatternRegexp, MAX_FQDN_LENGTH, normaliseDnsName,
  validateMatchName, validateMatchPattern, type DnsMatchContext,
} from './pattern.js';

/** Asserts which names a pattern matches and which it does not, in both contexts unless one is given. */
function check(pattern: string, accept: string[], reject: string[], contexts: DnsMatchContext[] = ['dns', 'toFQDNs']): void {
  for (const ctx of contexts) {
    const m = compileMatchPattern(pattern, ctx);
    for (const n of accept) assert.equal(m.test(n), true, `${ctx} ${pattern} should match ${n} (${m.regexp})`);
    for (const n of reject) assert.equal(m.test(n), false, `${ctx} ${pattern} should not match ${n} (${m.regexp})`);
  }
}

// ---- Cilium docs, policy language, "DNS based" (toFQDNs.matchPattern) ----

test('docs "DNS based": *.cilium.io matches sub.cilium.io but not cilium.io or sub.sub.cilium.io', () => {
  check('*.cilium.io', ['sub.cilium.io', 'sub.cilium.io.', 'www.cilium.io'], ['cilium.io', 'sub.sub.cilium.io', 'google.com']);
});

test('docs "DNS based": part*ial.com matches partial.com and part-extra-ial.com', () => {
  check('part*ial.com', ['partial.com', 'part-extra-ial.com'], ['part.ial.com', 'x.partial.com', 'partial.co']);
});

test('docs "DNS based": * alone matches all names (toFQDNs: every name of [-a-zA-Z0-9_] labels and the root)', () => {
  check('*', ['.', 'io.', 'cilium.io', 'svc.cluster.local.', 'service.namespace.svc.cluster.local.', '_foobar._tcp.cilium.io.'], [], ['toFQDNs']);
  const f = compileMatchPattern('*', 'toFQDNs');
  // A label holding a dot or a space (escaped presentation form from the wire) is no [-a-zA-Z0-9_] label.
  assert.equal(f.test('a\\.b.cilium.io.'), false);
  assert.equal(f.test('a\\032b.io.'), false);
  assert.equal(f.matchesAll, false);
});

test('docs "DNS Policy and IP Discovery": * in a DNS rule allows every query name, escaped labels included', () => {
  const m = compileMatchPattern('*', 'dns');
  assert.equal(m.matchesAll, true);
  for (const n of ['.', 'cilium.io.', 'a\\.b.cilium.io.', 'x\\000y.', 'UPPER.CASE.']) assert.equal(m.test(n), true, n);
  // GeneratePattern / isDNSWildcard: only stars with an optional trailing dot are the match-all.
  for (const p of ['**', '*.', '**.', '***']) assert.equal(compileMatchPattern(p, 'dns').matchesAll, true, p);
  assert.equal(compileMatchPattern('*.*', 'dns').matchesAll, false);
});

test('docs "DNS based" (Cilium 1.19): **.cilium.io matches app.cilium.io and test.app.cilium.io but not cilium.io', () => {
  check('**.cilium.io', ['app.cilium.io', 'test.app.cilium.io', 'a.b.c.d.cilium.io.'], ['cilium.io', 'xcilium.io', 'app.cilium.io.evil']);
  // Three or more stars before the dot are the same prefix (matchpattern's `^[*]{2,}[.]`).
  check('***.cilium.io', ['app.cilium.io', 'test.app.cilium.io'], ['cilium.io']);
});

test('docs "DNS Policy and IP Discovery" note: *.*.svc.cluster.local. allows service.namespace.svc.cluster.local.', () => {
  check('*.*.svc.cluster.local.', ['service.namespace.svc.cluster.local.', 'kube-dns.kube-system.svc.cluster.local'], ['svc.cluster.local.', 'namespace.svc.cluster.local.', 'a.b.c.svc.cluster.local.']);
});

// ---- Cilium's CRD field documentation (FQDNSelector / PortRuleDNS matchPattern) ----

test('CRD docs example 1: *.cilium.io matches www.cilium.io and blog.cilium.io, not cilium.io or google.com', () => {
  check('*.cilium.io', ['www.cilium.io', 'blog.cilium.io'], ['cilium.io', 'google.com']);
});

test('CRD docs example 2: *cilium.io matches cilium.io, subcilium.io and sub-cilium.io, not www.cilium.io or blog.cilium.io', () => {
  check('*cilium.io', ['cilium.io', 'subcilium.io', 'sub-cilium.io'], ['www.cilium.io', 'blog.cilium.io']);
});

test('CRD docs example 3: sub*.cilium.io matches sub.cilium.io and subdomain.cilium.io, not www/blog.cilium.io, cilium.io, google.com', () => {
  check('sub*.cilium.io', ['sub.cilium.io', 'subdomain.cilium.io'], ['www.cilium.io', 'blog.cilium.io', 'cilium.io', 'google.com']);
});

test('CRD docs example 4: **.cilium.io matches all multilevel subdomains, "app.cilium.io" and "test.app.cilium.io", but not "cilium.io"', () => {
  check('**.cilium.io', ['app.cilium.io', 'test.app.cilium.io'], ['cilium.io']);
});

// ---- Cilium's matchpattern tests (cases whose meaning is the same in Cilium 1.19) ----

test('matchpattern: cilium.io. matches only cilium.io.', () => {
  check('cilium.io.', ['cilium.io.'], ['anysub.cilium.io.', 'anysub.ci.io.', 'anysub.ciliumandmore.io.']);
});

test('matchpattern: *.ci*.io. matches anysub.cilium.io. anysub.ci.io. anysub.ciliumandmore.io. but not cilium.io.', () => {
  check('*.ci*.io.', ['anysub.cilium.io.', 'anysub.ci.io.', 'anysub.ciliumandmore.io.'], ['ci.io', 'cilium.io.', 'service.namesace.svc.cluster.local.']);
});

test('matchpattern: SRV / DNS-SD names (_foobar._tcp.cilium.io.) by name and by *.*.cilium.io.', () => {
  check('_foobar._tcp.cilium.io.', ['_foobar._tcp.cilium.io.'], ['_tcp.cilium.io.', 'cilium.io.']);
  check('*.*.cilium.io.', ['_foobar._tcp.cilium.io.'], ['cilium.io.', 'a.b.c.cilium.io.']);
});

test('matchpattern: **.cilium.io. needs 1+ labels, each non-empty', () => {
  check('**.cilium.io.', ['anysub.cilium.io.', '_foobar._tcp.cilium.io.', 'sub11.sub22.sub33._foobar._tcp.cilium.io.'],
    ['cilium.io.', 'anysub.ci.io.', 'anysub.ciliumandmore.io.', '1._foobar_tcp.cilium.trio.', '..cilium.io.', 'a..b.cilium.io.']);
  check('**.ci*.io.', ['anysub.cilium.io.', 'anysub.ci.io.', '1.anysub.ciliumandmore.io.', 'service.namesace.svc.ciuster.io.'], ['cilium.io.']);
});

test('matchpattern (1.19): ** not at the start is a plain * (one label); *.**.cilium.io. is exactly two labels', () => {
  check('*.**.cilium.io.', ['_foobar._tcp.cilium.io.'], ['2._foobar._tcp.cilium.io.', '_tcp.cilium.io.']);
  check('1.**.cilium.io.', ['1._tcp.cilium.io.'], ['1.2._tcp.cilium.io.']);
  check('a**b.io', ['ab.io', 'axxb.io'], ['a.b.io']);
  assert.equal(matchPatternRegexp('x.**.io', 'dns'), '^x\\.[-a-z0-9_]*\\.io\\.$');
});

// ---- normalisation ----

test('names and patterns compare case-insensitively, trailing dot optional on both sides', () => {
  check('*.CILIUM.io', ['Sub.Cilium.IO.', 'WWW.cilium.io'], ['cilium.io']);
  const n = compileMatchName('API.Example.Test.');
  for (const s of ['api.example.test', 'api.example.test.', 'API.EXAMPLE.TEST']) assert.equal(n.test(s), true, s);
  for (const s of ['xapi.example.test', 'api.example.test.x', 'api.example', 'a.api.example.test']) assert.equal(n.test(s), false, s);
  assert.equal(normaliseDnsName('Cilium.IO'), 'cilium.io.');
  assert.equal(normaliseDnsName('.'), '.');
  assert.equal(normaliseDnsName(''), '.');
  // Cilium's isFQDN: an escaped final dot is part of the label, not the root.
  assert.equal(normaliseDnsName('a\\.'), 'a\\..');
  assert.equal(normaliseDnsName('a\\\\.'), 'a\\\\.');
});

test('a * never matches a dot, and a wire label with an escaped dot is no match for a wildcard', () => {
  const m = compileMatchPattern('*.cilium.io', 'dns');
  assert.equal(m.test('a.b.cilium.io'), false);
  // One label "a.b" under cilium.io (escaped as a\.b): not a sub.cilium.io name a DNS rule allows.
  assert.equal(m.test('a\\.b.cilium.io.'), false);
  assert.equal(compileMatchName('a.b.cilium.io').test('a\\.b.cilium.io.'), false);
});

test('matchName regexp metacharacters are literal: a matchName never acts as a pattern', () => {
  // `_` and `-` are the only non-alphanumerics a name can hold; `.` must be literal.
  const m = compileMatchName('a.b');
  assert.equal(m.test('axb.'), false);
  assert.equal(m.test('a.b.'), true);
});

test('matching is linear: a long adversarial name against many stars returns at once', () => {
  const pattern = `${'a*'.repeat(60)}.io`;
  const m = compileMatchPattern(pattern, 'dns');
  const name = `${'a'.repeat(63)}.${'a'.repeat(63)}.${'a'.repeat(63)}.${'a'.repeat(61)}`;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 100; i++) m.test(name);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.ok(ms < 2000, `100 matches took ${ms} ms`);
  // And the one-or-more-labels prefix against many labels.
  const deep = `${'a.'.repeat(120)}cilium.io`;
  assert.equal(compileMatchPattern('**.cilium.io', 'toFQDNs').test(deep), true);
});

// ---- validation ----

test('Validate refuses characters outside letters, digits, - _ . (and * in matchPattern), naming the field', () => {
  for (const bad of ['cilium.io/', 'a b.io', '*.cilium.io:53', 'ci[l]ium.io', 'x+y.io', 'ü.io', 'a,b']) {
    assert.throws(() => validateMatchPattern(bad, 'CiliumNetworkPolicy/ns/p: toFQDNs[0].matchPattern'), (e: unknown) =>
      e instanceof DnsRuleError && e.code === 'BL_ERR_DNS_RULE' && e.message.startsWith('CiliumNetworkPolicy/ns/p: toFQDNs[0].matchPattern: ') && e.message.includes(JSON.stringify(bad)), bad);
  }
  assert.throws(() => validateMatchName('*.cilium.io', 'rules.dns[0].matchName'), /rules\.dns\[0\]\.matchName: "\*\.cilium\.io": only letters, digits, "-", "_", "\." are allowed/);
  assert.throws(() => compileMatchName(' cilium.io'), DnsRuleError);
});

test('Validate refuses empty labels (leading dot, "..", a lone "."), empty values and more than 255 characters', () => {
  for (const bad of ['', '.', '..', '.cilium.io', 'a..b', 'cilium.io..']) {
    assert.throws(() => validateMatchPattern(bad, 'f'), DnsRuleError, JSON.stringify(bad));
    assert.throws(() => validateMatchName(bad, 'f'), DnsRuleError, JSON.stringify(bad));
  }
  const long = `${'a'.repeat(63)}.`.repeat(4); // 256 characters
  assert.equal(long.length, 256);
  assert.throws(() => validateMatchName(long, 'f'), /at most 255 characters \(it has 256\)/);
  const ok = long.slice(0, MAX_FQDN_LENGTH);
  assert.doesNotThrow(() => validateMatchName(ok, 'f'));
  // Accepted shapes: trailing dot, underscores, a lone star, stars anywhere in a label.
  for (const good of ['cilium.io.', '_srv._tcp.x', '*', '**.', 'a*b*c.io', '*-*.x']) assert.doesNotThrow(() => validateMatchPattern(good, 'f'), good);
});

test('validation does not backtrack: a long almost-valid value is refused at once', () => {
  const t0 = Date.now();
  assert.throws(() => validateMatchPattern(`${'a'.repeat(250)}..`, 'f'), DnsRuleError);
  assert.throws(() => validateMatchName(`${'a'.repeat(254)}!`, 'f'), DnsRuleError);
  assert.ok(Date.now() - t0 < 500);
});
