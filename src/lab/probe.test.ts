import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTarget, probe } from './probe.js';
import { inRootNetns } from './safety.js';
import { HostSafetyError, UsageError } from '../common/errors.js';

test('probe targets parse HOST:PORT, including bracketed IPv6', () => {
  assert.deepEqual(parseTarget('10.0.1.5:80'), { host: '10.0.1.5', port: 80 });
  assert.deepEqual(parseTarget('[fd00::1]:53'), { host: 'fd00::1', port: 53 });
  assert.throws(() => parseTarget('10.0.1.5'), UsageError);
  assert.throws(() => parseTarget('10.0.1.5:0'), UsageError);
  assert.throws(() => parseTarget('10.0.1.5:65536'), UsageError);
});

test('a probe refuses to send anything from the root network namespace', { skip: !inRootNetns() && 'not in the root namespace' }, async () => {
  await assert.rejects(probe('tcp', '127.0.0.1:9'), (e: unknown) => e instanceof HostSafetyError && e.code === 'BL_ERR_HOST_SAFETY');
});
