import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseTargets, runLoad } from './loadgen.js';
import { inRootNetns } from './safety.js';
import { HostSafetyError, UsageError } from '../common/errors.js';
import { Command } from 'commander';
import { registerLoadgen } from '../cli/loadgen.js';

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

test('parseTargets splits a comma list of HOST:PORT', () => {
  assert.deepEqual(parseTargets('10.96.0.10:80, 10.96.0.11:80'), [
    { host: '10.96.0.10', port: 80 },
    { host: '10.96.0.11', port: 80 },
  ]);
  assert.throws(() => parseTargets(''), UsageError);
  assert.throws(() => parseTargets('10.96.0.10'), UsageError);
});

test('runLoad: one connection per request against a loopback HTTP server, bounded by count', async () => {
  const seen = new Map<number, number>();
  const conns = new Set<number>();
  const { server, port } = await listen((req, res) => {
    const lp = req.socket.localPort!;
    seen.set(lp, (seen.get(lp) ?? 0) + 1);
    conns.add(req.socket.remotePort!);
    res.end('ok');
  });
  const { server: s2, port: p2 } = await listen((_req, res) => res.end('ok'));
  try {
    const r = await runLoad({ targets: [{ host: '127.0.0.1', port }, { host: '127.0.0.1', port: p2 }], concurrency: 4, requests: 200 });
    assert.equal(r.requests, 200);
    assert.equal(r.errors, 0);
    assert.equal(seen.get(port), 100, 'round-robin over the targets');
    assert.equal(conns.size, 100, 'a new connection (source port) per request');
    assert.ok(r.rps > 0);
    assert.ok(r.connectP50Ms > 0 && r.connectP50Ms <= r.connectP99Ms);
    assert.ok(r.totalP50Ms >= r.connectP50Ms && r.totalP50Ms <= r.totalP99Ms);
    assert.ok(r.cpuUserMs + r.cpuSystemMs >= 0 && r.cpuPercent >= 0);
  } finally {
    server.close();
    s2.close();
  }
});

test('runLoad: bounded by duration, counts errors by kind', async () => {
  const { server, port } = await listen((req, res) => {
    res.statusCode = req.url === '/' ? 503 : 200;
    res.end('no');
  });
  try {
    const t0 = Date.now();
    const r = await runLoad({ targets: [{ host: '127.0.0.1', port }], concurrency: 8, durationMs: 300 });
    const took = Date.now() - t0;
    assert.ok(took >= 300 && took < 3000, `took ${took} ms`);
    assert.equal(r.requests, 0);
    assert.ok(r.errors > 0);
    assert.deepEqual(Object.keys(r.errorKinds), ['status']);
  } finally {
    server.close();
  }
  // Nothing listens on the closed port: refused.
  const r = await runLoad({ targets: [{ host: '127.0.0.1', port }], concurrency: 2, requests: 5 });
  assert.equal(r.errors, 5);
  assert.equal(r.errorKinds['ECONNREFUSED'], 5);
});

test('runLoad: a server that never answers times out', async () => {
  const { server, port } = await listen(() => undefined);
  try {
    const r = await runLoad({ targets: [{ host: '127.0.0.1', port }], concurrency: 2, requests: 2, timeoutMs: 100 });
    assert.deepEqual(r.errorKinds, { timeout: 2 });
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('runLoad refuses non-loopback targets from the root network namespace', { skip: !inRootNetns() && 'not in the root namespace' }, async () => {
  await assert.rejects(runLoad({ targets: [{ host: '10.96.0.10', port: 80 }], concurrency: 1, requests: 1 }), (e: unknown) => e instanceof HostSafetyError);
});

test('beeline loadgen refuses the root network namespace even for loopback', { skip: !inRootNetns() && 'not in the root namespace' }, async () => {
  const program = new Command('beeline').exitOverride();
  registerLoadgen(program);
  await assert.rejects(program.parseAsync(['loadgen', '--targets', '127.0.0.1:9', '--requests', '1'], { from: 'user' }), (e: unknown) => e instanceof HostSafetyError);
});
