import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilterText, splitWords } from './filter-text.js';
import { BeelineError } from '../common/errors.js';

test('splitWords: quotes and escapes as a shell does', () => {
  assert.deepEqual(splitWords(` --http-path '/v1/a b'  x\\ y "q\\"z" `), ['--http-path', '/v1/a b', 'x y', 'q"z']);
  assert.deepEqual(splitWords(''), []);
  assert.deepEqual(splitWords(`''`), ['']);
  assert.throws(() => splitWords(`--to-pod 'x`), /unterminated ' quote/);
});

test('observe flags give the same lists as the CLI builds', () => {
  const r = parseFilterText('--to-pod default/deathstar --http-status 403');
  assert.deepEqual(r.whitelist, [{ destination_pod: ['default/deathstar'], http_status_code: ['403'] }]);
  assert.deepEqual(r.blacklist, []);
  assert.equal(r.flags, '--to-pod default/deathstar --http-status 403');
});

test('shorthands mean the same flags, ! negates one term', () => {
  const a = parseFilterText('from:pod=default/xwing to:label=app=deathstar verdict:DROPPED !to:namespace=kube-system');
  const b = parseFilterText('--from-pod default/xwing --to-label app=deathstar --verdict DROPPED --not --to-namespace kube-system');
  assert.deepEqual(a.whitelist, b.whitelist);
  assert.deepEqual(a.blacklist, b.blacklist);
  assert.equal(a.flags, '--from-pod default/xwing --to-label app=deathstar --verdict DROPPED --not --to-namespace kube-system');
  assert.equal(a.blacklist.length, 1);
  // --flag=value and short flags
  assert.deepEqual(parseFilterText('--verdict=DROPPED').whitelist, parseFilterText('--verdict DROPPED').whitelist);
  assert.deepEqual(parseFilterText('-n kube-system').whitelist, parseFilterText('--namespace kube-system').whitelist);
  assert.deepEqual(parseFilterText('').whitelist, []);
});

test('bad input: one error naming the flag or word, with a stable code', () => {
  const cases: [string, RegExp][] = [
    ['--last 10', /--last: not a filter flag/],
    ['deathstar', /deathstar: expected a filter flag or a shorthand/],
    ['colour:red', /unknown filter colour/],
    ['--to-pod', /--to-pod: needs a value/],
    ['--ipv4=1', /takes no value/],
    ['--from-ip 10.0.0.300', /from-ip/],
    ['--not', /trailing --not/],
    ['verdict:', /needs a value/],
    ["\u0000\u0001 '", /unterminated/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseFilterText(text),
      (e: unknown) => e instanceof BeelineError && e.code === 'BL_ERR_USAGE' && re.test(e.message),
      text,
    );
  }
});
