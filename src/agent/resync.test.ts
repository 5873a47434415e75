import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatapathResync } from './resync.js';
import type { Logger } from '../common/log.js';

const warnings: unknown[][] = [];
const log = { debug: () => undefined, info: () => undefined, warn: (...a: unknown[]) => warnings.push(a), error: () => undefined } as unknown as Logger;

test('datapath resync: counts what each map repaired, keeps the last repair, a failing map does not stop the others', () => {
  const drift = { ipcache: [0, 2, 0], lb: [0, 0, 3] };
  let policyCalls = 0;
  const r = new DatapathResync(
    [
      { name: 'ipcache', repair: () => drift.ipcache.shift() ?? 0 },
      { name: 'policy', repair: () => (policyCalls++ === 1 ? (() => { throw new Error('map gone'); })() : 0) },
      { name: 'lb', repair: () => drift.lb.shift() ?? 0 },
    ],
    1000,
    log,
  );
  assert.deepEqual(r.status(), { intervalMs: 1000, runs: 0, repaired: { ipcache: 0, policy: 0, lb: 0 } });
  assert.deepEqual(r.run(), {});
  assert.equal(r.status().lastRepair, undefined, 'nothing repaired: no last repair');
  assert.deepEqual(r.run(), { ipcache: 2 });
  assert.deepEqual(r.run(), { lb: 3 });
  const s = r.status();
  assert.equal(s.runs, 3);
  assert.deepEqual(s.repaired, { ipcache: 2, policy: 0, lb: 3 });
  assert.deepEqual(s.lastRepair?.repaired, { lb: 3 });
  assert.match(s.lastError ?? '', /^policy: map gone$/);
  assert.deepEqual(r.counts(), { ipcache: 2, policy: 0, lb: 3 });
  assert.ok(warnings.some((w) => w[0] === 'datapath drift repaired'));
});

test('datapath resync: interval 0 never starts a timer; start/stop are idempotent', () => {
  const r = new DatapathResync([{ name: 'ipcache', repair: () => 1 }], 0, log);
  r.start();
  r.stop();
  assert.equal(r.status().runs, 0);
  const t = new DatapathResync([{ name: 'ipcache', repair: () => 0 }], 10, log);
  t.start();
  t.start();
  t.stop();
  t.stop();
});
