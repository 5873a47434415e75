import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeHttpPath } from './path.js';
import { compileHttpRules } from './rules.js';

const cont = (path: string) => ({ action: 'continue', path });

test('dot segments resolve, never above the root; %2e counts as a dot', () => {
  assert.deepEqual(normalizeHttpPath('/v1/request-landing'), cont('/v1/request-landing'));
  assert.deepEqual(normalizeHttpPath('/v1/request-landing/../exhaust-port'), cont('/v1/exhaust-port'));
  assert.deepEqual(normalizeHttpPath('/v1/./request-landing'), cont('/v1/request-landing'));
  assert.deepEqual(normalizeHttpPath('/../../etc/passwd'), cont('/etc/passwd'));
  assert.deepEqual(normalizeHttpPath('/v1/x/%2e%2E/y'), cont('/v1/y'));
  assert.deepEqual(normalizeHttpPath('/v1/x/.%2e/y'), cont('/v1/y'));
  assert.deepEqual(normalizeHttpPath('/v1/..'), cont('/'));
  assert.deepEqual(normalizeHttpPath('/v1/.'), cont('/v1/'));
  assert.deepEqual(normalizeHttpPath('/v1/x/..;jsessionid=1/y'), cont('/v1/y'), 'params on .. are dropped first');
  assert.deepEqual(normalizeHttpPath('/v1/...'), cont('/v1/...'), 'three dots are a name');
});

test('backslashes are slashes, runs of slashes merge, the query string is kept as it is', () => {
  assert.deepEqual(normalizeHttpPath('/v1\\request-landing'), cont('/v1/request-landing'));
  assert.deepEqual(normalizeHttpPath('//v1///request-landing'), cont('/v1/request-landing'));
  assert.deepEqual(normalizeHttpPath('/v1//../x'), cont('/v1/x'), 'an empty segment is a segment, then slashes merge');
  assert.deepEqual(normalizeHttpPath('/v1/search?q=../..//x&r=%2F'), cont('/v1/search?q=../..//x&r=%2F'));
});

test('escaped slashes redirect; a fragment or a non-relative target is rejected', () => {
  assert.deepEqual(normalizeHttpPath('/v1%2Frequest-landing'), { action: 'redirect', path: '/v1/request-landing' });
  assert.deepEqual(normalizeHttpPath('/v1/x%2f..%2fexhaust-port'), { action: 'redirect', path: '/v1/exhaust-port' });
  assert.deepEqual(normalizeHttpPath('/v1%5cx'), { action: 'redirect', path: '/v1/x' });
  assert.equal(normalizeHttpPath('/v1/x#frag').action, 'reject');
  assert.deepEqual(normalizeHttpPath('/v1/x#frag'), { action: 'reject', status: 400, reason: 'a fragment (#) in the request path' });
  assert.deepEqual(normalizeHttpPath('http://deathstar/v1'), { action: 'reject', status: 404, reason: 'not a relative path: "http://deathstar/v1"' });
});

test('with normalization first, a path rule cannot be walked around', () => {
  const m = compileHttpRules([{ rules: [{ method: 'GET', path: '/public/.*' }], origin: { kind: 'CiliumNetworkPolicy', namespace: 'empire', name: 'public' } }]);
  const verdict = (target: string) => {
    const n = normalizeHttpPath(target);
    return n.action === 'continue' ? m.match({ method: 'GET', path: n.path, headers: [] }).allowed : n.action;
  };
  assert.equal(verdict('/public/map'), true);
  assert.equal(verdict('/public/../admin'), false);
  assert.equal(verdict('/public/%2e%2e/admin'), false);
  assert.equal(verdict('/public%2F..%2Fadmin'), 'redirect');
});
