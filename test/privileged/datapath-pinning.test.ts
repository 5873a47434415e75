import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfError } from '../../src/common/errors.js';
import { Datapath, openPinnedMap } from '../../src/datapath/loader.js';
import { PerCpuMap } from '../../src/datapath/maps.js';
import { BL_METRICS_KEY_CODEC as metricsKey, BL_METRICS_VALUE_CODEC as metricsValue, BlDirection, BlForwardReason } from '../../src/datapath/generated/abi.js';
import { privateBpffs, requireHostObject, tcpSynPacket } from './datapath-support.js';

/** A key the programs never write: reason 200 is no drop reason, so only this test touches it. */
const KEY = { reason: 200, dir: BlDirection.BL_DIR_EGRESS };

test('maps pinned under pinDir keep their state across a reload', (t) => {
  const obj = requireHostObject();
  const fs = privateBpffs();
  t.after(fs.cleanup);
  const pinDir = join(fs.dir, 'host');

  // First agent: load (creates and pins the maps), write an entry, go away.
  const dp1 = Datapath.open(obj, { pinDir }).load();
  try {
    assert.deepEqual(
      readdirSync(pinDir).sort(),
      ['bl_ct4', 'bl_events', 'bl_events_lost', 'bl_ipcache', 'bl_lb4_affinity', 'bl_lb4_backends', 'bl_lb4_maglev', 'bl_lb4_nodeport_nat', 'bl_lb4_nodeport_snat', 'bl_lb4_reverse_nat', 'bl_lb4_reverse_sk', 'bl_lb4_services', 'bl_lxc', 'bl_metrics', 'bl_policy'],
      'every non-internal map, and only those',
    );
    assert.equal(dp1.isPinned('bl_metrics'), true);
    const m1 = dp1.perCpuMap('bl_metrics', metricsKey, metricsValue);
    const zero = { count: 0n, bytes: 0n };
    m1.setPerCpu(KEY, [{ count: 5n, bytes: 500n }, ...Array.from({ length: m1.cpus - 1 }, () => zero)]);
  } finally {
    dp1.close();
  }

  // Second agent: same object, same pins: the entry is still there, and the
  // new programs write into the very same map.
  const dp2 = Datapath.open(obj, { pinDir }).load();
  try {
    const m2 = dp2.perCpuMap('bl_metrics', metricsKey, metricsValue);
    assert.deepEqual(m2.sum(KEY), { count: 5n, bytes: 500n });
    const syn = tcpSynPacket();
    assert.equal(dp2.testRun('bl_from_netdev', syn).retval, 0);
    const snapshot = new Map(m2.snapshot().map(([k, v]) => [`${k.reason}/${k.dir}`, v]));
    assert.deepEqual(snapshot.get(`200/${BlDirection.BL_DIR_EGRESS}`), { count: 5n, bytes: 500n });
    assert.deepEqual(snapshot.get(`${BlForwardReason.BL_REASON_FORWARDED}/${BlDirection.BL_DIR_INGRESS}`), { count: 1n, bytes: BigInt(syn.length) });
  } finally {
    dp2.close();
  }

  // Without any object: a CLI reading a running agent's maps.
  const pinned = openPinnedMap(join(pinDir, 'bl_metrics'), metricsKey, metricsValue);
  t.after(() => pinned.raw.close?.());
  assert.ok(pinned instanceof PerCpuMap);
  assert.deepEqual(pinned.sum(KEY), { count: 5n, bytes: 500n });
  assert.equal(pinned.raw.name, 'bl_metrics');
});

test('a pin directory that is not on bpffs is refused before anything is created', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-test-notbpffs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dp = Datapath.open(requireHostObject(), { pinDir: join(dir, 'pins') });
  t.after(() => dp.close());
  assert.throws(
    () => dp.load(),
    (e: unknown) => e instanceof BpfError && /is not on bpffs/.test(e.message) && /mount -t bpf/.test(e.hint ?? ''),
  );
  assert.equal(existsSync(join(dir, 'pins', 'bl_metrics')), false);
});
