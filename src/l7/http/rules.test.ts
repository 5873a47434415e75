import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HttpRuleError } from '../../common/errors.js';
import { parseManifest } from '../../k8s/parse.js';
import type { Origin } from '../../policy/types.js';
import {
  applyHttpHeaderEdits, compileHttpRules, HTTP_DENIED_BODY, HTTP_DENIED_CONTENT_TYPE, HTTP_DENIED_STATUS,
  type HttpRequest, type HttpRuleSpec, type HttpSecretRef,
} from './rules.js';

const cnp = (namespace: string, name: string): Origin => ({ kind: 'CiliumNetworkPolicy', namespace, name });
const RULE1 = cnp('empire', 'rule1');
const req = (method: string, path: string, headers: [string, string][] = [], host: string | undefined = 'deathstar.empire.svc.cluster.local'): HttpRequest =>
  host === undefined ? { method, path, headers } : { method, path, host, headers };
const one = (rules: HttpRuleSpec[], origin = RULE1, secrets?: (r: HttpSecretRef) => string | undefined) =>
  compileHttpRules([{ rules, origin }], secrets ? { secrets } : {});

/** `rules.http` of the Star Wars demo's L7 policy, read from examples/starwars.yaml as applied. */
function starwarsHttpRules(): HttpRuleSpec[] {
  const text = readFileSync(new URL('../../../../examples/starwars.yaml', import.meta.url), 'utf8');
  const policy = parseManifest(text, 'starwars.yaml').map((d) => d.object as Record<string, any>).find((o) => o.kind === 'CiliumNetworkPolicy' && o.metadata.name === 'rule1');
  assert.ok(policy, 'examples/starwars.yaml has CiliumNetworkPolicy rule1');
  return policy.spec.ingress[0].toPorts[0].rules.http;
}

test("Star Wars: the TIE fighter's POST /v1/request-landing lands, PUT /v1/exhaust-port is denied", () => {
  const rules = starwarsHttpRules();
  assert.deepEqual(rules, [{ method: 'POST', path: '/v1/request-landing' }]);
  const m = one(rules);
  const landing = m.match(req('POST', '/v1/request-landing'));
  assert.deepEqual(landing, { allowed: true, allowedBy: [RULE1], edits: [], log: [] });
  const exhaust = m.match(req('PUT', '/v1/exhaust-port'));
  assert.deepEqual(exhaust, { allowed: false, allowedBy: [], edits: [], log: [] });
  assert.equal(m.match(req('GET', '/v1/request-landing')).allowed, false, 'method is part of the rule');
  assert.equal(m.match(req('POST', '/v1/exhaust-port')).allowed, false, 'path is part of the rule');
});

test('full match: /v1/request-landing does not allow /v1/request-landing-now, a prefix, or a query string', () => {
  const m = one([{ path: '/v1/request-landing' }]);
  assert.equal(m.match(req('GET', '/v1/request-landing')).allowed, true);
  for (const p of ['/v1/request-landing-now', '/v1/request-landin', 'x/v1/request-landing', '/v1/request-landing/', '/v1/request-landing?now=1']) {
    assert.equal(m.match(req('GET', p)).allowed, false, p);
  }
  // An alternation is anchored as a whole, not only its first and last branch.
  const alt = one([{ path: '/a|/b' }]);
  assert.equal(alt.match(req('GET', '/b')).allowed, true);
  assert.equal(alt.match(req('GET', '/ab')).allowed, false);
  assert.equal(alt.match(req('GET', '/b/c')).allowed, false);
  // Query strings are allowed only if the pattern says so (Envoy's :path keeps them).
  const q = one([{ path: '/v1/request-landing(\\?.*)?' }]);
  assert.equal(q.match(req('GET', '/v1/request-landing?now=1')).allowed, true);
  // `$` is end of text in RE2 (no multiline), so a trailing newline cannot sneak past.
  assert.equal(one([{ path: '/x$' }]).match(req('GET', '/x\n')).allowed, false);
});

test('case: HEAD is not GET, get is not GET, host keeps its case unless the pattern says (?i)', () => {
  const m = one([{ method: 'GET' }]);
  assert.equal(m.match(req('GET', '/')).allowed, true);
  assert.equal(m.match(req('HEAD', '/')).allowed, false);
  assert.equal(m.match(req('get', '/')).allowed, false);
  assert.equal(m.match(req('GETS', '/')).allowed, false);
  const h = one([{ host: 'deathstar\\.empire' }]);
  assert.equal(h.match(req('GET', '/', [], 'deathstar.empire')).allowed, true);
  assert.equal(h.match(req('GET', '/', [], 'Deathstar.empire')).allowed, false);
  assert.equal(h.match(req('GET', '/', [], 'deathstar.empire:80')).allowed, false, 'the port is part of :authority');
  assert.equal(h.match(req('GET', '/', [], undefined)).allowed, false, 'no Host: a host rule cannot match');
  const hi = one([{ host: '(?i)deathstar\\.empire(:80)?', method: 'GET|HEAD' }]);
  assert.equal(hi.match(req('HEAD', '/', [], 'DeathStar.Empire:80')).allowed, true);
  // RE2 syntax JavaScript lacks: named groups the Go way, Unicode classes.
  const re2 = one([{ path: '/(?P<ship>\\pL+)/land' }]);
  assert.equal(re2.match(req('GET', '/tiefighter/land')).allowed, true);
  assert.equal(re2.match(req('GET', '/x-wing/land')).allowed, false);
});

test('an empty rule {} and an empty rule list allow every request', () => {
  assert.equal(one([{}]).match(req('DELETE', '/anything?at=all')).allowed, true);
  assert.equal(one([]).ruleCount, 1);
  assert.deepEqual(one([]).match(req('PATCH', '/')).allowedBy, [RULE1]);
  // Empty strings are "omitted" (Cilium's PortRuleHTTP doc).
  assert.equal(one([{ method: '', path: '', host: '' }]).match(req('GET', '/x')).allowed, true);
  // No source at all: nothing allows.
  assert.equal(compileHttpRules([]).match(req('GET', '/')).allowed, false);
});

test('headers: Name is presence, "Name: value" and "Name value" are exact values; names are case-insensitive', () => {
  const m = one([{ headers: ['X-Has-Force'] }]);
  assert.equal(m.match(req('GET', '/', [['x-has-force', '']])).allowed, true, 'present, even empty');
  assert.equal(m.match(req('GET', '/', [['X-HAS-FORCE', 'yes']])).allowed, true);
  assert.equal(m.match(req('GET', '/', [['X-Has-Forces', 'yes']])).allowed, false);
  assert.equal(m.match(req('GET', '/')).allowed, false);
  for (const h of ['X-Rank: Admiral', 'X-Rank Admiral']) {
    const v = one([{ headers: [h] }]);
    assert.equal(v.match(req('GET', '/', [['x-rank', 'Admiral']])).allowed, true, h);
    assert.equal(v.match(req('GET', '/', [['x-rank', 'admiral']])).allowed, false, `${h}: values are case-sensitive`);
    assert.equal(v.match(req('GET', '/', [['x-rank', 'Admiral ']])).allowed, false, `${h}: exact`);
    assert.equal(v.match(req('GET', '/', [['x-rank', 'Admiral'], ['X-Rank', 'Captain']])).allowed, false, `${h}: a repeated header is its values joined with ,`);
  }
  // A value may contain spaces: only the first one splits.
  assert.equal(one([{ headers: ['X-Motto: long live the empire'] }]).match(req('GET', '/', [['x-motto', 'long live the empire']])).allowed, true);
  // All of a rule's fields must match.
  const all = one([{ method: 'POST', path: '/v1/request-landing', headers: ['X-Has-Force', 'X-Rank: Admiral'] }]);
  assert.equal(all.match(req('POST', '/v1/request-landing', [['X-Has-Force', '1'], ['X-Rank', 'Admiral']])).allowed, true);
  assert.equal(all.match(req('POST', '/v1/request-landing', [['X-Has-Force', '1']])).allowed, false);
  // Pseudo-headers read the request line.
  assert.equal(one([{ headers: [':authority deathstar'] }]).match(req('GET', '/', [], 'deathstar')).allowed, true);
});

test('headerMatches without a mismatch action: exact value or presence, the rule fails on a mismatch', () => {
  const m = one([{ headerMatches: [{ name: 'X-Token', value: 's3cret' }] }]);
  assert.deepEqual(m.match(req('GET', '/', [['x-token', 's3cret']])), { allowed: true, allowedBy: [RULE1], edits: [], log: [] });
  assert.equal(m.match(req('GET', '/', [['x-token', 'other']])).allowed, false);
  assert.equal(m.match(req('GET', '/')).allowed, false);
  const p = one([{ headerMatches: [{ name: 'X-Token' }] }]);
  assert.equal(p.match(req('GET', '/', [['x-token', 'anything']])).allowed, true);
  assert.equal(p.match(req('GET', '/')).allowed, false);
});

test('headerMatches LOG: the rule matches and the access log lists the header as missing', () => {
  const m = one([{ path: '/v1/.*', headerMatches: [{ name: 'X-Imperial-Id', value: 'TK-421', mismatch: 'LOG' }] }]);
  assert.deepEqual(m.match(req('GET', '/v1/x', [['X-Imperial-Id', 'TK-421']])), { allowed: true, allowedBy: [RULE1], edits: [], log: [] });
  assert.deepEqual(m.match(req('GET', '/v1/x', [['X-Imperial-Id', 'TK-000']])), {
    allowed: true, allowedBy: [RULE1], edits: [], log: [{ kind: 'missing', name: 'x-imperial-id', value: 'TK-421', origin: RULE1 }],
  });
  // The other fields still decide: a LOG entry does not widen the rule.
  assert.equal(m.match(req('GET', '/v2/x')).allowed, false);
});

test('headerMatches ADD: the rule matches and the value is added as one more value', () => {
  const m = one([{ headerMatches: [{ name: 'X-Escort', value: 'tie', mismatch: 'ADD' }] }]);
  const absent = req('GET', '/', [['Accept', '*/*']]);
  const v = m.match(absent);
  assert.deepEqual(v, { allowed: true, allowedBy: [RULE1], edits: [{ action: 'ADD', name: 'x-escort', value: 'tie' }], log: [{ kind: 'missing', name: 'x-escort', value: 'tie', origin: RULE1 }] });
  assert.deepEqual(applyHttpHeaderEdits(absent, v.edits).headers, [['Accept', '*/*'], ['x-escort', 'tie']]);
  assert.deepEqual(absent.headers, [['Accept', '*/*']], 'the input is not changed');
  const wrong = req('GET', '/', [['X-Escort', 'xwing']]);
  assert.deepEqual(applyHttpHeaderEdits(wrong, m.match(wrong).edits).headers, [['X-Escort', 'xwing'], ['x-escort', 'tie']], 'ADD keeps the other value');
  assert.deepEqual(m.match(req('GET', '/', [['x-escort', 'tie']])).edits, [], 'a match changes nothing');
});

test('headerMatches DELETE: a wrong value is removed whole and logged as rejected; absent or presence-only changes nothing', () => {
  const m = one([{ headerMatches: [{ name: 'X-Debug', value: 'off', mismatch: 'DELETE' }] }]);
  const wrong = req('GET', '/', [['X-Debug', 'on'], ['Accept', '*/*'], ['x-debug', 'verbose']]);
  const v = m.match(wrong);
  assert.deepEqual(v, {
    allowed: true, allowedBy: [RULE1], edits: [{ action: 'DELETE', name: 'x-debug' }], log: [{ kind: 'rejected', name: 'x-debug', value: 'on,verbose', origin: RULE1 }],
  });
  assert.deepEqual(applyHttpHeaderEdits(wrong, v.edits).headers, [['Accept', '*/*']]);
  assert.deepEqual(m.match(req('GET', '/')), { allowed: true, allowedBy: [RULE1], edits: [], log: [] });
  assert.deepEqual(one([{ headerMatches: [{ name: 'X-Debug', mismatch: 'DELETE' }] }]).match(req('GET', '/')), { allowed: true, allowedBy: [RULE1], edits: [], log: [] });
});

test('headerMatches REPLACE: the header is set to the value (added if absent); the wrong value rejected, the expected missing', () => {
  const m = one([{ headerMatches: [{ name: 'X-Fleet', value: 'imperial', mismatch: 'REPLACE' }] }]);
  const wrong = req('GET', '/', [['x-fleet', 'rebel'], ['X-Fleet', 'pirate'], ['Accept', '*/*']]);
  const v = m.match(wrong);
  assert.deepEqual(v, {
    allowed: true, allowedBy: [RULE1], edits: [{ action: 'REPLACE', name: 'x-fleet', value: 'imperial' }],
    log: [{ kind: 'rejected', name: 'x-fleet', value: 'rebel,pirate', origin: RULE1 }, { kind: 'missing', name: 'x-fleet', value: 'imperial', origin: RULE1 }],
  });
  assert.deepEqual(applyHttpHeaderEdits(wrong, v.edits).headers, [['Accept', '*/*'], ['x-fleet', 'imperial']]);
  const absent = m.match(req('GET', '/'));
  assert.deepEqual(absent.edits, [{ action: 'REPLACE', name: 'x-fleet', value: 'imperial' }]);
  assert.deepEqual(absent.log, [{ kind: 'missing', name: 'x-fleet', value: 'imperial', origin: RULE1 }]);
});

test('an edit of one rule is seen by the next rule, as Envoy edits the header map in place', () => {
  const a = cnp('empire', 'stamp'); const b = cnp('empire', 'gate');
  const m = compileHttpRules([
    { rules: [{ headerMatches: [{ name: 'X-Cleared', value: 'yes', mismatch: 'ADD' }] }], origin: a },
    { rules: [{ headers: ['X-Cleared: yes'] }], origin: b },
  ]);
  const v = m.match(req('GET', '/'));
  assert.deepEqual(v.allowedBy, [b, a].sort((x, y) => (x.name < y.name ? -1 : 1)));
  assert.deepEqual(v.edits, [{ action: 'ADD', name: 'x-cleared', value: 'yes' }]);
});

test('a rule whose plain fields fail runs none of its actions, and a denied request has no edits', () => {
  // Cilium checks method, path, host, headers and action-less headerMatches first
  // (HttpNetworkPolicyRule::allowed), and runs the actions only if they pass.
  const m = one([{ method: 'POST', headerMatches: [{ name: 'X-A', value: '1', mismatch: 'ADD' }, { name: 'X-B', value: '2' }] }]);
  assert.deepEqual(m.match(req('POST', '/')), { allowed: false, allowedBy: [], edits: [], log: [] }, 'X-B has no action and is missing');
  assert.deepEqual(m.match(req('GET', '/', [['X-B', '2']])), { allowed: false, allowedBy: [], edits: [], log: [] }, 'wrong method');
  assert.deepEqual(m.match(req('POST', '/', [['X-B', '2']])).edits, [{ action: 'ADD', name: 'x-a', value: '1' }]);
});

test('rules are ORed per request, across policies, and every allowing policy is named', () => {
  const r1 = RULE1; const r2 = cnp('empire', 'maintenance'); const ccnp: Origin = { kind: 'CiliumClusterwideNetworkPolicy', name: 'probes' };
  const m = compileHttpRules([
    { rules: [{ method: 'POST', path: '/v1/request-landing' }], origin: r1 },
    { rules: [{ method: 'GET', path: '/v1/.*' }, { method: 'POST', path: '/v1/request-.*' }], origin: r2 },
    { rules: [{ method: 'GET', path: '/healthz' }], origin: ccnp },
  ]);
  assert.equal(m.ruleCount, 4);
  assert.deepEqual(m.match(req('POST', '/v1/request-landing')).allowedBy, [r2, r1], 'both policies allow it (sorted by printable name)');
  assert.deepEqual(m.match(req('POST', '/v1/request-refuel')).allowedBy, [r2]);
  assert.deepEqual(m.match(req('GET', '/healthz')).allowedBy, [ccnp]);
  assert.deepEqual(m.match(req('PUT', '/v1/exhaust-port')), { allowed: false, allowedBy: [], edits: [], log: [] });
  // The same policy matching through two rules is named once.
  assert.deepEqual(one([{ method: 'GET' }, { path: '/x' }]).match(req('GET', '/x')).allowedBy, [RULE1]);
});

test('RE2: a ReDoS-prone pattern answers in linear time', () => {
  const m = one([{ path: '(a+)+b' }, { host: '(x|x)*y', headers: ['X-Z'] }]);
  const evil = 'a'.repeat(5000);
  m.match(req('GET', 'aab')); // compile the DFA outside the timing
  const t0 = performance.now();
  const v = m.match(req('GET', evil, [], 'x'.repeat(5000)));
  const ms = performance.now() - t0;
  assert.equal(v.allowed, false);
  assert.ok(ms < 50, `matched in ${ms.toFixed(1)} ms`);
  assert.equal(m.match(req('GET', `${evil}b`)).allowed, true);
});

test('secrets: the value comes from the secret (policy namespace by default), logged redacted; unresolvable fails closed', () => {
  const asked: HttpSecretRef[] = [];
  const store = new Map([['empire/launch-code', 'override-66'], ['rebels/launch-code', 'wrong']]);
  const secrets = (r: HttpSecretRef) => { asked.push(r); return store.get(`${r.namespace}/${r.name}`); };
  const m = one([{ headerMatches: [{ name: 'X-Launch-Code', secret: { name: 'launch-code' } }] }], RULE1, secrets);
  assert.equal(m.match(req('GET', '/', [['x-launch-code', 'override-66']])).allowed, true);
  assert.equal(m.match(req('GET', '/', [['x-launch-code', 'wrong']])).allowed, false);
  assert.deepEqual(asked[0], { namespace: 'empire', name: 'launch-code' });
  // With an action, what the log shows of a secret is redacted.
  const logged = one([{ headerMatches: [{ name: 'X-Launch-Code', secret: { namespace: 'empire', name: 'launch-code' }, mismatch: 'REPLACE' }] }], RULE1, secrets)
    .match(req('GET', '/', [['x-launch-code', 'guess']]));
  assert.deepEqual(logged.log, [{ kind: 'rejected', name: 'x-launch-code', value: '[redacted]', origin: RULE1 }, { kind: 'missing', name: 'x-launch-code', value: '[redacted]', origin: RULE1 }]);
  assert.deepEqual(logged.edits, [{ action: 'REPLACE', name: 'x-launch-code', value: 'override-66' }]);

  // Unresolvable: the rule never matches, whatever the action, and runs no action; presence does not suffice.
  for (const mismatch of [undefined, 'LOG', 'ADD', 'DELETE', 'REPLACE'] as const) {
    const spec = { name: 'X-Launch-Code', secret: { name: 'missing' }, ...(mismatch ? { mismatch } : {}) };
    const u = one([{ headerMatches: [spec] }], RULE1, secrets);
    assert.deepEqual(u.match(req('GET', '/', [['x-launch-code', 'override-66']])), { allowed: false, allowedBy: [], edits: [], log: [] }, String(mismatch));
  }
  // No lookup at all: unresolvable too.
  assert.equal(one([{ headerMatches: [{ name: 'X-Launch-Code', secret: { name: 'launch-code' } }] }]).match(req('GET', '/', [['x-launch-code', 'override-66']])).allowed, false);
  // An empty secret fails closed as well (Cilium would read it as "presence only").
  store.set('empire/empty', '');
  assert.equal(one([{ headerMatches: [{ name: 'X-Launch-Code', secret: { name: 'empty' } }] }], RULE1, secrets).match(req('GET', '/', [['x-launch-code', 'x']])).allowed, false);
  // An inline value is the fallback when the secret cannot be had (Cilium's getSecretString).
  const fb = one([{ headerMatches: [{ name: 'X-Launch-Code', secret: { name: 'missing' }, value: 'fallback' }] }], RULE1, secrets);
  assert.equal(fb.match(req('GET', '/', [['x-launch-code', 'fallback']])).allowed, true);
  // Another rule still allows: fail closed is per rule.
  const or = one([{ headerMatches: [{ name: 'X-Launch-Code', secret: { name: 'missing' } }] }, { path: '/public' }], RULE1, secrets);
  assert.equal(or.match(req('GET', '/public')).allowed, true);
});

test('compile errors name the policy and field', () => {
  assert.throws(() => one([{ path: '/ok' }, { path: '/(a)\\1' }]), (e: unknown) => e instanceof HttpRuleError && e.code === 'BL_ERR_HTTP_RULE'
    && e.message === 'CiliumNetworkPolicy/empire/rule1: rules.http[1].path: "/(a)\\\\1": not a valid RE2 regular expression: error parsing regexp: invalid escape sequence: `\\1`');
  assert.throws(() => one([{ method: 'GET)|(POST' }]), /rules\.http\[0\]\.method: "GET\)\|\(POST": not a valid RE2/, 'unbalanced even though ^(?:…)$ would balance it');
  assert.throws(() => one([{ headers: ['X-Rank:Admiral'] }]), /rules\.http\[0\]\.headers\[0\]: "X-Rank:Admiral": not an HTTP header name/);
});

test("the denial answer is Cilium's: 403, Access denied and CRLF, text/plain", () => {
  assert.equal(HTTP_DENIED_STATUS, 403);
  assert.equal(HTTP_DENIED_BODY, 'Access denied\r\n');
  assert.equal(Buffer.byteLength(HTTP_DENIED_BODY), 15, 'curl shows content-length: 15');
  assert.equal(HTTP_DENIED_CONTENT_TYPE, 'text/plain');
});
