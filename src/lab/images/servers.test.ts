// Each built-in server started in-process on 127.0.0.1 with an ephemeral port, spoken to over
// real HTTP (loopback only), then stopped; main.js is also run as a child process once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import type { Builtin, BuiltinContext, Running } from './common.js';
import { parseFlags, parseHostPort } from './common.js';
import { DEATHSTAR_BACKTRACE, deathstar, jsonMock } from './starwars.js';
import { ealenEchoServer, httpEcho, jmallocEchoServer } from './echo.js';
import { agnhost } from './agnhost.js';
import { httpd, nginx, nginxUnprivileged, HTTPD_INDEX } from './web.js';
import { goHttpbin, kennethreitzHttpbin } from './httpbin.js';
import { BUILTIN_MAIN } from '../images.js';
import { freePort } from '../../../test/lib/haproxy.js';

interface Started extends Running {
  url: string;
  out: string[];
  err: string[];
  exits: number[];
}

async function start(impl: Builtin, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const out: string[] = [];
  const err: string[] = [];
  const exits: number[] = [];
  const ctx: BuiltinContext = { env: { HOSTNAME: 'pod-a', ...env }, out: (l) => out.push(l), err: (l) => err.push(l), exit: (c) => exits.push(c), listenHost: '127.0.0.1', listenPort: 0 };
  const r = await impl(args, ctx);
  return { ...r, url: `http://127.0.0.1:${r.ports[0]}`, out, err, exits };
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; text: string; headers: Headers }> {
  const r = await fetch(url, init);
  return { status: r.status, text: await r.text(), headers: r.headers };
}

test('flag parsing covers Go and pflag spellings', () => {
  assert.deepEqual(parseFlags(['-text=hi', '--listen', ':1', '-v', 'x'], { text: 'string', listen: 'string', v: 'bool' }), { flags: { text: 'hi', listen: ':1', v: true }, rest: ['x'], unknown: [] });
  assert.deepEqual(parseHostPort(':5678'), { host: '0.0.0.0', port: 5678 });
  assert.deepEqual(parseHostPort('127.0.0.1:80'), { host: '127.0.0.1', port: 80 });
  assert.deepEqual(parseHostPort('[::1]:80'), { host: '::1', port: 80 });
});

test('cilium/starwars: the deathstar API', async () => {
  const s = await start(deathstar, ['--port', '80', '--host', '0.0.0.0']);
  try {
    const info = await get(`${s.url}/v1/`);
    assert.equal(info.status, 200);
    assert.equal(info.headers.get('content-type'), 'text/plain');
    const doc = JSON.parse(info.text) as { name: string; hostname: string; api: string[] };
    assert.equal(doc.name, 'Death Star');
    assert.equal(doc.hostname, 'pod-a');
    assert.ok(doc.api.includes('PUT   /v1/exhaust-port'));
    assert.equal((await get(`${s.url}/v1`)).status, 200);
    const landed = await get(`${s.url}/v1/request-landing`, { method: 'POST' });
    assert.deepEqual([landed.status, landed.text], [200, 'Ship landed\n']);
    const wrong = await get(`${s.url}/v1/request-landing`);
    assert.equal(wrong.status, 405);
    assert.match(wrong.text, /method GET is not allowed, but \[POST\] are/);
    const missing = await get(`${s.url}/v1/cargobay`, { method: 'PUT' });
    assert.deepEqual([missing.status, JSON.parse(missing.text)], [404, { code: 404, message: 'path /v1/cargobay was not found' }]);
    const boom = await get(`${s.url}/v1/exhaust-port`, { method: 'PUT' });
    assert.equal(boom.status, 503);
    assert.equal(boom.text, DEATHSTAR_BACKTRACE);
    assert.match(boom.text, /^Panic: deathstar exploded\n\ngoroutine 1 \[running\]:/);
    assert.ok(s.out.some((l) => l.includes('"POST /v1/request-landing" 200')));
  } finally {
    await s.close();
  }
  assert.deepEqual(s.exits, [], 'closing cancels the pending explosion');
});

test('cilium/json-mock: json-server with the demo database and middleware', async () => {
  const s = await start(jsonMock);
  try {
    const pub = await get(`${s.url}/public`);
    assert.equal(pub.status, 200);
    assert.deepEqual(JSON.parse(pub.text), [{ id: 1, body: 'public information' }]);
    assert.match(pub.text, /\n {2}\{/, 'pretty-printed like json-server');
    assert.deepEqual(JSON.parse((await get(`${s.url}/private/1`)).text), { id: 1, body: 'secret information' });
    assert.equal((await get(`${s.url}/private/9`)).status, 404);
    assert.equal((await get(`${s.url}/nothing`)).status, 404);
    assert.equal((await get(`${s.url}/auth-header-required`)).status, 401);
    const auth = await get(`${s.url}/auth-header-required`, { headers: { Authorization: 'Bearer 123456' } });
    assert.deepEqual(JSON.parse(auth.text), [{ id: 1, body: 'super secret information' }]);
    assert.deepEqual(JSON.parse((await get(`${s.url}/hostname`)).text), { hostname: 'pod-a' });
    assert.match((JSON.parse((await get(`${s.url}/client-ip`)).text) as Record<string, string>)['client-ip']!, /127\.0\.0\.1/);
    const created = await get(`${s.url}/public`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"body":"new"}' });
    assert.deepEqual([created.status, JSON.parse(created.text)], [201, { body: 'new', id: 2 }]);
    assert.equal((JSON.parse((await get(`${s.url}/public`)).text) as unknown[]).length, 2);
    assert.match((await get(`${s.url}/`)).text, /JSON Server/);
    assert.ok(s.out.some((l) => /^GET \/public 200 [\d.]+ ms - \d+$/.test(l)), s.out.join('\n'));
  } finally {
    await s.close();
  }
});

test('hashicorp/http-echo: text, status code, /health', async () => {
  const s = await start(httpEcho, ['-text=hello world', '-listen=:5678', '-status-code=201']);
  try {
    const r = await get(`${s.url}/any/path`);
    assert.deepEqual([r.status, r.text], [201, 'hello world\n']);
    assert.equal(r.headers.get('x-app-name'), 'http-echo');
    const h = await get(`${s.url}/health`);
    assert.deepEqual([h.status, h.text], [200, '{"status":"ok"}\n']);
    assert.equal(s.out.length, 1, 'one log line per request, /health not logged');
    assert.match(s.out[0]!, /"GET \/any\/path HTTP\/1\.1" 201 12 /);
  } finally {
    await s.close();
  }
  const d = await start(httpEcho, [], { ECHO_TEXT: 'from env' });
  try {
    assert.equal((await get(d.url)).text, 'from env\n');
  } finally {
    await d.close();
  }
  const bad = await start(httpEcho, ['extra']);
  assert.deepEqual(bad.exits, [127]);
});

test('ealen/echo-server: the request as JSON, and echo commands', async () => {
  const s = await start(ealenEchoServer);
  try {
    const r = await get(`${s.url}/a/b?x=1`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Test': 'yes' }, body: '{"k":"v"}' });
    assert.equal(r.status, 200);
    const doc = JSON.parse(r.text) as { host: { hostname: string }; http: { method: string; originalUrl: string }; request: { query: unknown; body: unknown; headers: Record<string, string> }; environment: Record<string, string> };
    assert.equal(doc.http.method, 'POST');
    assert.equal(doc.http.originalUrl, '/a/b?x=1');
    assert.equal(doc.host.hostname, '127.0.0.1');
    assert.deepEqual(doc.request.query, { x: '1' });
    assert.deepEqual(doc.request.body, { k: 'v' });
    assert.equal(doc.request.headers['x-test'], 'yes');
    assert.equal(doc.environment.HOSTNAME, 'pod-a');
    assert.equal((await get(`${s.url}/?echo_code=404`)).status, 404);
    assert.equal((await get(`${s.url}/`, { headers: { 'X-ECHO-BODY': 'amazing' } })).text, '"amazing"');
    assert.equal((await get(`${s.url}/?echo_env_body=HOSTNAME`)).text, '"pod-a"');
    assert.equal(s.out.filter((l) => l.startsWith('{')).length, 4);
  } finally {
    await s.close();
  }
});

test('jmalloc/echo-server: the request as text', async () => {
  const s = await start(jmallocEchoServer);
  try {
    const r = await get(`${s.url}/p?q=1`, { method: 'PUT', headers: { 'x-b': '2', 'x-a': '1' }, body: 'payload' });
    assert.equal(r.status, 200);
    assert.match(r.text, /^Request served by pod-a\n\nPUT \/p\?q=1 HTTP\/1\.1\n\nHost: 127\.0\.0\.1:\d+\n/);
    assert.ok(r.text.indexOf('X-A: 1\n') < r.text.indexOf('X-B: 2\n'), 'headers sorted, canonical case');
    assert.ok(r.text.endsWith('\n\npayload'));
    const quiet = await get(s.url, { headers: { 'X-Send-Server-Hostname': 'false' } });
    assert.match(quiet.text, /^GET \/ HTTP\/1\.1\n/);
    assert.match(s.out.find((l) => l.includes(' | PUT '))!, /^127\.0\.0\.1:\d+ \| PUT \/p\?q=1$/);
  } finally {
    await s.close();
  }
});

test('agnhost netexec: HTTP endpoints and the UDP server', async () => {
  const s = await start(agnhost, ['netexec', '--http-port=8080', '--udp-port=0']);
  try {
    assert.equal((await get(`${s.url}/hostname`)).text, 'pod-a');
    assert.equal((await get(`${s.url}/hostName`)).text, 'pod-a');
    const echo = await get(`${s.url}/echo?msg=hello`);
    assert.deepEqual([echo.status, echo.text], [200, 'hello']);
    assert.equal((await get(`${s.url}/echo?msg=x&code=418`)).status, 418);
    assert.match((await get(`${s.url}/clientip`)).text, /^127\.0\.0\.1:\d+$/);
    assert.match((await get(`${s.url}/`)).text, /^NOW: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    assert.equal((await get(`${s.url}/healthz`)).status, 200);
    const dial = await get(`${s.url}/dial?request=hostname&protocol=http&host=127.0.0.1&port=${s.ports[0]}&tries=2`);
    assert.deepEqual(JSON.parse(dial.text), { responses: ['pod-a', 'pod-a'] });
    const udpDial = await get(`${s.url}/dial?request=echo%20hi&protocol=udp&host=127.0.0.1&port=${s.ports[1]}`);
    assert.deepEqual(JSON.parse(udpDial.text), { responses: ['hi'] });
    assert.equal((await get(`${s.url}/dial?host=127.0.0.1&port=1`)).status, 400);
    assert.equal((await get(`${s.url}/shell?cmd=id`)).status, 417);
    // UDP directly
    const sock = createSocket('udp4');
    sock.send('hostname', s.ports[1]!, '127.0.0.1');
    const [msg] = (await once(sock, 'message')) as [Buffer];
    sock.close();
    assert.equal(msg.toString(), 'pod-a');
    assert.ok(s.out.some((l) => l.endsWith('GET /hostname')));
  } finally {
    await s.close();
  }
});

test('agnhost serve-hostname and pause; unknown subcommands fail', async () => {
  const s = await start(agnhost, ['serve-hostname', '--port=9376']);
  try {
    assert.equal((await get(s.url)).text, 'pod-a');
    assert.ok(s.out.some((l) => l.includes('HTTP request from 127.0.0.1:')));
  } finally {
    await s.close();
  }
  const p = await start(agnhost, ['pause']);
  assert.deepEqual(p.ports, []);
  await p.close();
  const bad = await start(agnhost, ['liveness']);
  assert.deepEqual(bad.exits, [1]);
});

test('nginx, nginx-unprivileged and httpd default pages', async () => {
  for (const impl of [nginx, nginxUnprivileged]) {
    const s = await start(impl);
    try {
      const r = await get(s.url);
      assert.equal(r.status, 200);
      assert.match(r.text, /<title>Welcome to nginx!<\/title>/);
      assert.match(r.headers.get('server') ?? '', /^nginx\//);
      const nf = await get(`${s.url}/nope`);
      assert.equal(nf.status, 404);
      assert.match(nf.text, /404 Not Found/);
      assert.equal((await get(s.url, { method: 'POST' })).status, 405);
      assert.match(s.out[0]!, /^127\.0\.0\.1 - - \[.+\] "GET \/ HTTP\/1\.1" 200 \d+ "-" "[^"]*" "-"$/);
    } finally {
      await s.close();
    }
  }
  const h = await start(httpd);
  try {
    const r = await get(h.url);
    assert.deepEqual([r.status, r.text], [200, HTTPD_INDEX]);
    assert.equal((await get(`${h.url}/x`)).status, 404);
    assert.match(h.out[0]!, /"GET \/ HTTP\/1\.1" 200 45$/);
  } finally {
    await h.close();
  }
});

test('httpbin and go-httpbin', async () => {
  for (const [impl, go] of [
    [kennethreitzHttpbin, false],
    [goHttpbin, true],
  ] as const) {
    const s = await start(impl);
    try {
      const g = await get(`${s.url}/get?a=1`, { headers: { 'X-Thing': 'v' } });
      assert.equal(g.status, 200);
      const doc = JSON.parse(g.text) as { args: Record<string, unknown>; headers: Record<string, unknown>; origin: string; url: string };
      assert.deepEqual(doc.args, { a: go ? ['1'] : '1' });
      assert.deepEqual(doc.headers['X-Thing'], go ? ['v'] : 'v');
      assert.equal(doc.origin, '127.0.0.1');
      assert.equal((await get(`${s.url}/status/418`)).status, 418);
      assert.equal((await get(`${s.url}/status/abc`)).status, 400);
      assert.deepEqual(JSON.parse((await get(`${s.url}/ip`)).text), { origin: '127.0.0.1' });
      assert.ok('headers' in (JSON.parse((await get(`${s.url}/headers`)).text) as object));
      const any = JSON.parse((await get(`${s.url}/anything/x`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: '{"z":1}' })).text) as { method: string; json: unknown };
      assert.deepEqual([any.method, any.json], ['PATCH', { z: 1 }]);
      const t0 = Date.now();
      assert.equal((await get(`${s.url}/delay/0.2`)).status, 200);
      assert.ok(Date.now() - t0 >= 150);
      assert.equal((await get(`${s.url}/post`)).status, 405);
      assert.equal((await get(`${s.url}/nowhere`)).status, 404);
      assert.ok(s.out.length >= 9);
    } finally {
      await s.close();
    }
  }
});

test('main.js runs a built-in as a process and exits 0 on SIGTERM', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [BUILTIN_MAIN, 'http-echo', '-text=from a process'], { env: { ...process.env, BEELINE_IMAGE_LISTEN: `127.0.0.1:${port}` }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  try {
    let body = '';
    for (let i = 0; i < 100 && !body; i++) {
      try {
        body = (await get(`http://127.0.0.1:${port}/`)).text;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(body, 'from a process\n');
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  assert.match(stdout, /"GET \/ HTTP\/1\.1" 200/);
});

test('main.js rejects an unknown built-in', async () => {
  const child = spawn(process.execPath, [BUILTIN_MAIN, 'no-such-image'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 2);
  assert.match(stderr, /unknown built-in/);
});
