/**
 * Mesh routes (src/l7/http/mesh.ts) against the real HAProxy 2.6: the child
 * (mesh-haproxy-child.ts) runs inside its own private network namespace
 * (test/lib/netns-child.ts), deleted afterwards. Small and bounded (~13,000
 * requests on loopback of that namespace). Root.
 */
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runChildInPrivateNetns } from '../lib/netns-child.js';

const ready = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v haproxy']).status === 0;

test('GAMMA routes compiled for HAProxy: weights, weight swap without reload, retries (real HAProxy 2.6 in a private netns)', { timeout: 120_000, skip: ready ? false : 'needs root and haproxy' }, async () => {
  await runChildInPrivateNetns('mh', fileURLToPath(new URL('./mesh-haproxy-child.js', import.meta.url)), 5);
});
