/**
 * The generated HAProxy configuration (src/l7/http/haproxy.ts) against the
 * real HAProxy 2.6 and nginx: a private network namespace `bl-hb-<pid>` is
 * made here, the checks run inside it (haproxy-rules-child.ts, a node:test
 * file run with `ip netns exec`), and the namespace is deleted afterwards,
 * every process still in it ended by its pid first, on failure too.
 * Root. Run under `flock /tmp/beeline-heavy.lock`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { addNetns, delNetns, netnsExists } from '../../src/lab/netns.js';

const CHILD = fileURLToPath(new URL('./haproxy-rules-child.js', import.meta.url));

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

test('generated HAProxy config enforces the HTTP rules (real HAProxy 2.6 + nginx in a private netns)', { timeout: 240_000 }, async (t) => {
  const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
  if (process.getuid?.() !== 0 || !have('haproxy') || !have('nginx')) {
    t.skip('needs root, haproxy and nginx');
    return;
  }
  const ns = `bl-hb-${process.pid}`;
  addNetns(ns);
  try {
    // Without NODE_TEST_CONTEXT: node:test would otherwise skip a nested run.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    env.BL_HB_PARENT_NETNS = readlinkSync('/proc/self/ns/net');
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--enable-source-maps', '--test', '--test-reporter=tap', CHILD], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    process.stdout.write(out.split('\n').map((l) => `  # ${l}`).join('\n') + '\n');
    assert.equal(code, 0, `the checks inside ${ns} failed:\n${out.slice(-6000)}`);
    const passed = Number(/^# pass (\d+)/m.exec(out)?.[1] ?? 0);
    assert.ok(passed >= 10, `the checks inside ${ns} ran: ${passed} passed`);
  } finally {
    if (netnsExists(ns)) {
      killNetnsPids(ns);
      delNetns(ns);
    }
  }
  assert.equal(netnsExists(ns), false);
});
