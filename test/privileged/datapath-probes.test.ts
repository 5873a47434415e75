import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeatureMissingError } from '../../src/common/errors.js';
import { FEATURE_NAMES, probeAll, requireFeatures } from '../../src/datapath/probes.js';
import { privateBpffs } from './datapath-support.js';

test('probeAll reports every feature, SCHED_CLS and RINGBUF supported', () => {
  const report = probeAll();
  assert.deepEqual(report.map((r) => r.name), [...FEATURE_NAMES]);
  for (const r of report) {
    assert.equal(typeof r.ok, 'boolean');
    assert.ok(r.detail.length > 0, `${r.name} has a detail`);
  }
  const byName = new Map(report.map((r) => [r.name, r]));
  assert.equal(byName.get('prog_type:sched_cls')?.ok, true, byName.get('prog_type:sched_cls')?.detail);
  assert.equal(byName.get('map_type:ringbuf')?.ok, true, byName.get('map_type:ringbuf')?.detail);
  assert.equal(byName.get('map_type:percpu_hash')?.ok, true);
  assert.equal(byName.get('helper:bpf_ringbuf_output')?.ok, true);
});

test('requireFeatures passes for what the datapath needs and names what is missing', (t) => {
  requireFeatures(['prog_type:sched_cls', 'map_type:ringbuf', 'map_type:percpu_hash']);

  assert.throws(
    () => requireFeatures(['prog_type:sched_cls', 'bpffs', 'no_such_feature'], { bpffsPath: '/proc' }),
    (e: unknown) => {
      assert.ok(e instanceof FeatureMissingError);
      assert.equal(e.code, 'BL_ERR_FEATURE_MISSING');
      assert.match(e.message, /bpffs \(\/proc is not a bpffs mount but f_type 0x9fa0: mount -t bpf bpffs \/proc; needed for pinning/);
      assert.match(e.message, /no_such_feature \(unknown feature/);
      assert.doesNotMatch(e.message, /sched_cls/);
      return true;
    },
  );

  const fs = privateBpffs();
  t.after(fs.cleanup);
  requireFeatures(['bpffs'], { bpffsPath: fs.dir });
});
