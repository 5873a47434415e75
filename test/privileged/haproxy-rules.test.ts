/**
 * The generated HAProxy configuration (src/l7/http/haproxy.ts) against the
 * real HAProxy 2.6: each child runs inside its own private network namespace
 * (test/lib/netns-child.ts), deleted afterwards.
 *   haproxy-rules-child.ts  the HTTP rules with nginx behind the proxy;
 *   haproxy-http-child.ts   HTTP/1.1 through the proxy: pipelining, chunked
 *                           and large bodies streamed, Expect: 100-continue.
 * Root. Run under `flock /tmp/beeline-heavy.lock`.
 */
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runChildInPrivateNetns } from '../lib/netns-child.js';

const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const ready = process.getuid?.() === 0 && have('haproxy') && have('nginx');

test('generated HAProxy config enforces the HTTP rules (real HAProxy 2.6 + nginx in a private netns)', { timeout: 240_000, skip: ready ? false : 'needs root, haproxy and nginx' }, async () => {
  await runChildInPrivateNetns('hb', fileURLToPath(new URL('./haproxy-rules-child.js', import.meta.url)), 10);
});

test('HTTP/1.1 through the node proxy: pipelining, chunked and large bodies streamed, Expect: 100-continue (real HAProxy 2.6 in a private netns)', { timeout: 240_000, skip: ready ? false : 'needs root, haproxy and nginx' }, async () => {
  await runChildInPrivateNetns('hh', fileURLToPath(new URL('./haproxy-http-child.js', import.meta.url)), 4);
});
