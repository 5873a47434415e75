import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_NAMES, probe } from './probes.js';

// Probing itself needs the kernel (test/privileged/datapath-probes.test.ts);
// the naming contract does not.

test('feature names are stable and prefixed by what they probe', () => {
  assert.ok(FEATURE_NAMES.includes('prog_type:sched_cls'));
  assert.ok(FEATURE_NAMES.includes('map_type:ringbuf'));
  assert.ok(FEATURE_NAMES.includes('helper:bpf_redirect_peer'));
  assert.ok(FEATURE_NAMES.includes('bpffs'));
  for (const n of FEATURE_NAMES) assert.match(n, /^(prog_type|map_type|helper):[a-z0-9_]+$|^bpffs$/);
  assert.equal(new Set(FEATURE_NAMES).size, FEATURE_NAMES.length);
});

test('an unknown feature name is reported as failed, not thrown', () => {
  assert.deepEqual(probe(['no_such_feature']), [{ name: 'no_such_feature', ok: false, detail: 'unknown feature name (see FEATURE_NAMES)' }]);
});
