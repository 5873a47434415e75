/**
 * Runs a node:test file (a "child", no .test suffix) inside a private
 * network namespace made for it, `bl-<tag>-<pid>`, and deletes the namespace
 * afterwards, every process still in it ended by its pid first, on failure
 * too. The child refuses to run outside a private namespace: it checks
 * BL_HB_PARENT_NETNS (this process's namespace) against its own. Root.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { addNetns, delNetns, netnsExists } from '../../src/lab/netns.js';

function killNetnsPids(ns: string): void {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  for (const pid of r.stdout.split('\n').map(Number).filter((n) => n > 0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/**
 * Runs `childFile` with `node --test` in a new namespace; asserts it exited 0 and passed at
 * least `minPassed` tests. Its TAP output is echoed as diagnostics.
 */
export async function runChildInPrivateNetns(tag: string, childFile: string, minPassed: number): Promise<void> {
  const ns = `bl-${tag}-${process.pid}`;
  addNetns(ns);
  try {
    // Without NODE_TEST_CONTEXT: node:test would otherwise skip a nested run.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    env.BL_HB_PARENT_NETNS = readlinkSync('/proc/self/ns/net');
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--enable-source-maps', '--test', '--test-reporter=tap', childFile], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    process.stdout.write(out.split('\n').map((l) => `  # ${l}`).join('\n') + '\n');
    assert.equal(code, 0, `the checks inside ${ns} failed:\n${out.slice(-6000)}`);
    const passed = Number(/^# pass (\d+)/m.exec(out)?.[1] ?? 0);
    assert.ok(passed >= minPassed, `the checks inside ${ns} ran: ${passed} passed, expected at least ${minPassed}`);
  } finally {
    if (netnsExists(ns)) {
      killNetnsPids(ns);
      delNetns(ns);
    }
  }
  assert.equal(netnsExists(ns), false);
}

/** Throws unless this process runs in a namespace other than the parent's (the child's first line). */
export function assertPrivateNetns(who: string): void {
  if (!process.env.BL_HB_PARENT_NETNS || readlinkSync('/proc/self/ns/net') === process.env.BL_HB_PARENT_NETNS) {
    throw new Error(`${who}: run me inside a private network namespace (runChildInPrivateNetns does)`);
  }
}
