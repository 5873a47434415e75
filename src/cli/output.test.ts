import { test } from 'node:test';
import assert from 'node:assert/strict';
import { age, parseOutput, table, toJSON, toYAML } from './output.js';
import { UsageError } from '../common/errors.js';

test('table pads columns like kubectl and trims the last column', () => {
  assert.equal(table(['NAME', 'STATUS'], [['node1', 'Ready'], ['node10', 'NotReady']]), 'NAME     STATUS\nnode1    Ready\nnode10   NotReady\n');
});

test('parseOutput rejects unknown formats with a usage error', () => {
  assert.equal(parseOutput(undefined), 'table');
  assert.equal(parseOutput('json'), 'json');
  assert.throws(() => parseOutput('xml'), (e: unknown) => e instanceof UsageError && e.code === 'BL_ERR_USAGE' && /-o xml/.test(e.message));
  assert.throws(() => parseOutput('wide', ['table', 'json']), UsageError);
});

test('bigints survive json and yaml printing', () => {
  assert.equal(toJSON({ n: 2n ** 64n - 1n }), '{\n  "n": "18446744073709551615"\n}');
  assert.equal(toYAML({ n: 5n }), 'n: "5"\n');
});

test('age prints kubectl-style durations', () => {
  assert.equal(age(5), '5s');
  assert.equal(age(600), '10m');
  assert.equal(age(3660), '1h1m');
  assert.equal(age(3 * 86400), '3d');
});
