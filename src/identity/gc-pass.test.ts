import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeriodicPass, UnreferencedClock } from './gc-pass.js';

test('PeriodicPass: concurrent runs share one pass; stop waits for it', async () => {
  let passes = 0;
  let release!: () => void;
  const p = new PeriodicPass(async () => {
    passes++;
    await new Promise<void>((r) => (release = r));
    return passes;
  }, undefined, 'test');
  const a = p.run();
  const b = p.run();
  await new Promise((r) => setImmediate(r));
  let stopped = false;
  const s = p.stop().then(() => (stopped = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(stopped, false);
  release();
  assert.deepEqual(await Promise.all([a, b]), [1, 1]);
  await s;
  assert.equal(passes, 1);
  const c = p.run();
  await new Promise((r) => setImmediate(r));
  release();
  assert.equal(await c, 2);
});

test('PeriodicPass: start runs every interval and logs a failed pass', async () => {
  let n = 0;
  const warnings: string[] = [];
  const log = { warn: (m: string) => warnings.push(m) } as unknown as ConstructorParameters<typeof PeriodicPass>[1];
  const p = new PeriodicPass(async () => {
    n++;
    if (n === 1) throw new Error('boom');
    return n;
  }, log, 'identity GC');
  p.start(10);
  p.start(10); // a second start is a no-op
  await new Promise((r) => setTimeout(r, 80));
  await p.stop();
  const after = n;
  await new Promise((r) => setTimeout(r, 40));
  assert.ok(after >= 3, `passes ${after}`);
  assert.equal(n, after, 'no pass after stop');
  assert.deepEqual(warnings, ['identity GC pass failed']);
});

test('UnreferencedClock: grace counts at one version; a new version or a reference restarts it', () => {
  const c = new UnreferencedClock();
  assert.equal(c.expired(7, 'v1', 0, 100), false);
  assert.equal(c.expired(7, 'v1', 99, 100), false);
  assert.equal(c.expired(7, 'v1', 100, 100), true);
  assert.equal(c.expired(7, 'v2', 200, 100), false, 'new version restarts');
  assert.equal(c.expired(7, 'v2', 300, 100), true);
  c.referenced(7);
  assert.equal(c.expired(7, 'v2', 301, 100), false, 'a reference restarts');
  c.keepOnly(new Set([8]));
  assert.equal(c.expired(7, 'v2', 500, 100), false, 'forgotten');
});
