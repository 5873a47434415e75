import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentLock, AGENT_LOCK_FILE } from './lock.js';
import { AgentRunningError } from '../common/errors.js';

const lockModule = fileURLToPath(new URL('./lock.js', import.meta.url));

/** A process holding the lock of `dir` until it is killed; resolves once it holds it. */
async function holder(dir: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const { AgentLock } = await import(${JSON.stringify(lockModule)}); AgentLock.acquire(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return child;
}

test('the node lock: one holder at a time, named by pid; released by release()', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = AgentLock.acquire(join(dir, 'state'));
  assert.equal(readFileSync(join(dir, 'state', AGENT_LOCK_FILE), 'utf8'), `${process.pid}\n`);
  assert.equal(statSync(join(dir, 'state', AGENT_LOCK_FILE)).mode & 0o777, 0o600);
  // A second open of the file, even in this process, is another holder: refused, naming the holder as
  // the kernel lists it (/proc/locks), not as the file says.
  writeFileSync(join(dir, 'state', AGENT_LOCK_FILE), '999999\n');
  assert.throws(() => AgentLock.acquire(join(dir, 'state')), (e: unknown) => e instanceof AgentRunningError && e.message.includes(`held by pid ${process.pid}`));
  a.release();
  a.release();
  AgentLock.acquire(join(dir, 'state')).release();
});

test('the node lock of a killed agent is free at once (the kernel drops it), and children never hold it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const child = await holder(dir);
  try {
    assert.throws(() => AgentLock.acquire(dir), (e: unknown) => e instanceof AgentRunningError && e.code === 'BL_ERR_AGENT_RUNNING' && e.message.includes(`held by pid ${child.pid}`));
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  // No unlink, no stale-lock clean-up: the lock is simply free.
  const lock = AgentLock.acquire(dir);
  // A child of the holder (the agent runs ip, tc) does not inherit it: once the holder lets go, it is free.
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    lock.release();
    AgentLock.acquire(dir).release();
  } finally {
    sleeper.kill('SIGKILL');
  }
});
