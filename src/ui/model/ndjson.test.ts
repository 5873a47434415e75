import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, parseStreamLine } from './ndjson.js';

test('lines split across chunks come out whole', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('{"a":1}\n{"b"'), ['{"a":1}']);
  assert.deepEqual(s.push(':2}\n\n{"c":3}'), ['{"b":2}']);
  assert.deepEqual(s.end(), ['{"c":3}']);
  assert.deepEqual(s.end(), []);
});

test('a trailer is an error; a message is a message', () => {
  assert.deepEqual(parseStreamLine('{"error":{"code":"BL_ERR_OBSERVER_UNREACHABLE","message":"relay gone"}}'), { error: { code: 'BL_ERR_OBSERVER_UNREACHABLE', message: 'relay gone', hint: '' } });
  assert.deepEqual(parseStreamLine('{"flow":{"uuid":"x"},"node_name":"n"}'), { message: { flow: { uuid: 'x' }, node_name: 'n' } });
  assert.deepEqual(parseStreamLine('{"nodes":[],"error":{"code":"x"}}'), { message: { nodes: [], error: { code: 'x' } } });
  assert.throws(() => parseStreamLine('{not json'));
});
