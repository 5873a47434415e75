import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseWrk, wrkArgv, wrkScript } from './wrk.js';

const haveWrk = spawnSync('wrk', ['--version']).error === undefined;

async function listen(onReq: (port: number, close: boolean) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    onReq(req.socket.localPort!, req.headers.connection === 'close');
    res.end('ok\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Runs wrk as a child (the servers live in this process, so never spawnSync). */
function run(argv: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

test('wrkScript and wrkArgv: one target per thread, one connection per thread, Connection: close on demand', () => {
  const lua = wrkScript(['10.100.0.1:80', '10.100.0.2:8080']);
  assert.match(lua, /local targets = \{\{"10\.100\.0\.1", "80"\}, \{"10\.100\.0\.2", "8080"\}\}/);
  assert.throws(() => wrkScript(['10.100.0.1']), /want host:port/);
  assert.deepEqual(wrkArgv({ targets: ['10.100.0.1:80'], connections: 16, seconds: 3, close: true, script: '/tmp/x.lua', cpu: 0 }), [
    'taskset', '-c', '0', 'wrk', '-t', '16', '-c', '16', '-d', '3s', '--timeout', '2s', '-H', 'Connection: close', '-s', '/tmp/x.lua', 'http://10.100.0.1:80/',
  ]);
  assert.deepEqual(wrkArgv({ targets: ['10.100.0.1:80'], connections: 2, seconds: 1, close: false, script: 's.lua' }).slice(0, 9), ['wrk', '-t', '2', '-c', '2', '-d', '1s', '--timeout', '2s']);
});

test('wrkScript: a path, pacing by send slots; wrkArgv: fewer threads than connections', () => {
  const lua = wrkScript(['127.0.0.1:80'], { path: '/v1/ships', ratePerThread: 4000 });
  assert.match(lua, /wrk\.format\("GET", "\/v1\/ships"\)/);
  assert.match(lua, /local interval_ms, next_ms = 0\.25, nil\nfunction delay\(\)/);
  assert.doesNotMatch(wrkScript(['127.0.0.1:80']), /function delay/, 'unpaced unless asked');
  assert.throws(() => wrkScript(['127.0.0.1:80'], { path: 'v1' }), /absolute path/);
  assert.throws(() => wrkScript(['127.0.0.1:80'], { ratePerThread: 0 }), /positive number/);
  assert.deepEqual(wrkArgv({ targets: ['127.0.0.1:80'], connections: 32, threads: 1, seconds: 1, close: false, script: 's.lua' }).slice(0, 5), ['wrk', '-t', '1', '-c', '32']);
});

test('parseWrk reads the summary line after wrk\'s own report', () => {
  const out = 'Running 1s test @ http://x/\n  2 threads\nRequests/sec: 10\n{"requests":1000,"duration_us":2000000,"errors":{"connect":1,"read":0,"write":0,"status":2,"timeout":0},"request_p50_us":100,"request_p99_us":900,"connect_p50_us":40.5,"connect_p99_us":400.0,"total_p50_us":150.0,"total_p99_us":-1,"samples":998,"threads":2,"cpu_ticks":150,"clk_tck":100}\n';
  const r = parseWrk(out, 2);
  assert.equal(r.requests, 1000);
  assert.equal(r.rps, 500);
  assert.equal(r.errors, 3);
  assert.deepEqual(r.errorKinds, { connect: 1, status: 2 });
  assert.equal(r.connectP50Ms, 0.0405);
  assert.ok(Number.isNaN(r.totalP99Ms), 'no samples → NaN');
  assert.equal(r.cpuMs, 1500);
  assert.equal(r.cpuPercent, 75);
  assert.throws(() => parseWrk('wrk: connection refused\n', 1), /no summary line/);
});

test('wrk with the script against two loopback servers: every thread on its target, connection per request and keep-alive', { skip: haveWrk ? false : 'wrk is not installed (scripts/setup.sh installs it)' }, async () => {
  const hits = new Map<number, { reqs: number; close: number }>();
  const count = (port: number, close: boolean) => {
    const h = hits.get(port) ?? { reqs: 0, close: 0 };
    h.reqs++;
    if (close) h.close++;
    hits.set(port, h);
  };
  const a = await listen(count);
  const b = await listen(count);
  const dir = mkdtempSync(join(tmpdir(), 'bl-wrk-'));
  try {
    const targets = [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`];
    const script = join(dir, 'run.lua');
    writeFileSync(script, wrkScript(targets));
    for (const close of [true, false]) {
      hits.clear();
      const r = await run(wrkArgv({ targets, connections: 4, seconds: 1, close, script }));
      assert.equal(r.code, 0, r.out);
      const res = parseWrk(r.out, 2);
      assert.equal(res.errors, 0, JSON.stringify(res.errorKinds));
      assert.ok(res.requests > 50, `${res.requests} requests`);
      assert.equal(res.concurrency, 4);
      // Both servers got about half: threads 1 and 3 on a, 2 and 4 on b.
      const ha = hits.get(a.port)!, hb = hits.get(b.port)!;
      assert.ok(ha.reqs > res.requests / 4 && hb.reqs > res.requests / 4, `a ${ha.reqs} b ${hb.reqs} of ${res.requests}`);
      assert.equal(ha.close + hb.close, close ? ha.reqs + hb.reqs : 0, 'Connection: close only when asked');
      assert.ok(res.samples >= res.requests - 4 && res.samples <= res.requests, `${res.samples} timing samples for ${res.requests} requests`);
      assert.ok(res.connectP50Ms >= 0 && res.connectP99Ms >= res.connectP50Ms);
      assert.ok(res.totalP99Ms >= res.totalP50Ms && res.totalP50Ms > 0);
      if (close) assert.ok(res.totalP50Ms > res.connectP50Ms, 'total includes the connect');
      assert.ok(res.cpuMs > 0 && res.cpuPercent > 0 && res.cpuPercent <= 100 * 4 + 1, `cpu ${res.cpuMs} ms ${res.cpuPercent}%`);
    }
  } finally {
    a.server.close();
    b.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wrk paced: one thread, 8 keep-alive connections, 500 requests/s asked → about 500 served', { skip: haveWrk ? false : 'wrk is not installed (scripts/setup.sh installs it)' }, async () => {
  let paths = new Set<string>();
  const server = createServer((req, res) => {
    paths.add(req.url ?? '');
    res.end('ok\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'bl-wrk-'));
  try {
    const targets = [`127.0.0.1:${port}`];
    const script = join(dir, 'paced.lua');
    writeFileSync(script, wrkScript(targets, { path: '/v1/ships', ratePerThread: 500 }));
    const r = await run(wrkArgv({ targets, connections: 8, threads: 1, seconds: 2, close: false, script }));
    assert.equal(r.code, 0, r.out);
    const res = parseWrk(r.out, 1);
    assert.equal(res.errors, 0, JSON.stringify(res.errorKinds));
    assert.ok(res.rps > 400 && res.rps < 560, `${res.rps} req/s for 500 asked`);
    assert.deepEqual([...paths], ['/v1/ships']);
  } finally {
    server.close();
    paths = new Set();
    rmSync(dir, { recursive: true, force: true });
  }
});
