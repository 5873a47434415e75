/**
 * HTTP/2 cleartext and connection upgrades through the generated node proxy
 * configuration (src/l7/http/haproxy.ts), with the real HAProxy 2.6 and real
 * clients: curl (`--http2-prior-knowledge`, `--http2` = the h2c upgrade),
 * h2load (nghttp2-client), Node's HTTP/2 client, and raw HTTP/1.1.
 * Everything runs on 127.0.0.1 (no root, no namespace): HAProxy bound
 * non-transparently, the Star Wars rules on its listener's own address and
 * port. The server behind it is deliberately willing: it answers 101 to any
 * `Upgrade` offer and keeps reading HTTP/1.1 requests on the upgraded
 * connection, so a request tunnelled past the rules would reach it and be
 * seen here (it records every request head it receives); a connection that
 * opens with the HTTP/2 preface is served by node:http2 instead.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as h2connect, createServer as createH2Server } from 'node:http2';
import { createServer, connect, type Server, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { renderHaproxy } from './haproxy.js';
import type { HttpAccessRecord } from './accesslog.js';
import { startRecordSink, type RecordSink } from '../../../test/lib/record-sink.js';
import { freePort, startHaproxy, writeRenderedHaproxy } from '../../../test/lib/haproxy.js';
import { HTTP_DENIED_BODY, type HttpRuleSource } from './rules.js';

const run = promisify(execFile);
const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SW: HttpRuleSource = {
  origin: { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'sw' },
  rules: [{ method: 'POST', path: '/v1/request-landing' }, { method: 'GET', path: '/v1/.*' }],
};
const SW_TEXT = 'CiliumNetworkPolicy/default/sw';
const SKIP = !have('haproxy') ? 'haproxy is not installed' : !have('curl') ? 'curl is not installed' : '';

let dir = '';
let haproxy: ChildProcess | undefined;
let backend: Server | undefined;
let proxyPort = 0;
/** Every request head the server received, in order (first line and headers, lower-cased names). */
const seen: string[] = [];
let sink: RecordSink | undefined;
/** The proxy's records, as they arrived. */
const records: HttpAccessRecord[] = [];

/**
 * The willing server: `200 ok` with a length to every request, `101` to any
 * `Upgrade` offer, after which it goes on reading HTTP/1.1 request heads on
 * the same connection (answered `200 tunnelled`): what a server that
 * accepts h2c would do with the HTTP/2 requests that follow.
 */
function startBackend(): Promise<number> {
  // HTTP/2 with prior knowledge (what the proxy sends for an HTTP/2 client): node:http2, recording
  // each request as `METHOD path HTTP/2`.
  const h2 = createH2Server((req, res) => {
    seen.push(`${req.method} ${req.url} HTTP/2\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n')}`);
    res.setHeader('content-type', 'text/plain');
    res.end('ok h2\n');
  });
  backend = createServer((sock) => {
    sock.on('error', () => undefined);
    let buf = '';
    let upgraded = false;
    let first = true;
    sock.on('data', function onData(d: Buffer) {
      if (first && d.subarray(0, 3).toString('latin1') === 'PRI') {
        sock.off('data', onData);
        sock.pause();
        sock.unshift(d);
        h2.emit('connection', sock);
        return;
      }
      first = false;
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        seen.push(head.replace(/^([^:\r\n]+):/gm, (_m, n: string) => `${n.toLowerCase()}:`));
        const offer = /^upgrade:[ \t]*([^\r\n]*)/im.exec(head);
        if (offer && !upgraded) {
          upgraded = true;
          // HAProxy checks a websocket answer's Sec-WebSocket-Accept (RFC 6455): computed from the key.
          const key = /^sec-websocket-key:[ \t]*(\S+)/im.exec(head)?.[1];
          const accept = key ? `Sec-WebSocket-Accept: ${createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')}\r\n` : '';
          sock.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${offer[1]!.split(',')[0]!.trim()}\r\n${accept}\r\n`);
        } else {
          const body = upgraded ? 'tunnelled\n' : 'ok\n';
          sock.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        }
      }
    });
  });
  return new Promise((r) => backend!.listen(0, '127.0.0.1', () => r((backend!.address() as AddressInfo).port)));
}

before(async () => {
  if (SKIP) return;
  sink = await startRecordSink(records);
  const backendPort = await startBackend();
  proxyPort = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'bl-haproxy-h2-'));
  const rendered = renderHaproxy({
    listeners: [{ direction: 'ingress', port: proxyPort }],
    redirects: [{ direction: 'ingress', endpointIp: '127.0.0.1', port: proxyPort, identity: 0, http: [SW] }],
    identities: [],
    logTarget: `127.0.0.1:${sink.port}`,
    stateDir: dir,
  }, { transparent: false, bindAddress: '127.0.0.1', forwardTo: `127.0.0.1:${backendPort}` });
  haproxy = (await startHaproxy(['-f', writeRenderedHaproxy(rendered, join(dir, 'haproxy.cfg'))], proxyPort)).proc;
});

after(async () => {
  if (haproxy?.pid !== undefined && haproxy.exitCode === null) {
    const gone = new Promise((r) => haproxy!.once('exit', r));
    haproxy.kill('SIGTERM');
    await Promise.race([gone, sleep(3000)]);
    if (haproxy.exitCode === null) haproxy.kill('SIGKILL');
  }
  backend?.close();
  await sink?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const url = (path: string) => `http://127.0.0.1:${proxyPort}${path}`;

/** The records of the client port `port`, once `n` of them arrived (a moment after the answers). */
async function recordsOf(port: number, n: number): Promise<HttpAccessRecord[]> {
  const t0 = Date.now();
  for (;;) {
    const mine = records.filter((r) => r.srcPort === port);
    if (mine.length >= n || Date.now() - t0 > 3000) return mine;
    await sleep(20);
  }
}

/** Raw HTTP/1.1: writes `raw` on one connection and returns what came back within `ms` (or until closed). */
function rawExchange(raw: string, ms = 800): Promise<{ text: string; port: number }> {
  return new Promise((resolve) => {
    const s = connect(proxyPort, '127.0.0.1');
    let text = '';
    let port = 0;
    s.on('connect', () => { port = s.localPort!; s.write(raw, 'latin1'); });
    s.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    s.on('error', () => undefined);
    const done = () => { clearTimeout(timer); s.destroy(); resolve({ text, port }); };
    const timer = setTimeout(done, ms);
    s.on('close', done);
  });
}
const statuses = (text: string) => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
const seenPath = (path: string) => seen.some((h) => h.startsWith(`GET ${path} `) || h.startsWith(`POST ${path} `));

test('HTTP/2 prior knowledge (curl): the preface is detected on the cleartext bind, rules per request, HTTP/2 to the server, HTTP/2.0 records', { skip: SKIP || false }, async () => {
  const curl = async (...args: string[]) => (await run('curl', ['-sS', '--http2-prior-knowledge', '-w', '\n%{http_code} %{http_version}', ...args])).stdout;
  assert.equal(await curl(url('/v1/ships')), 'ok h2\n\n200 2');
  assert.equal(await curl('-X', 'POST', url('/v1/request-landing')), 'ok h2\n\n200 2');
  // The server is spoken to in HTTP/2 too (as the client spoke: an HTTP/2-only server, gRPC, works).
  assert.ok(seen.some((h) => h.startsWith('GET /v1/ships HTTP/2\n')), seen.join('\n---\n'));
  assert.ok(seen.some((h) => h.startsWith('POST /v1/request-landing HTTP/2\n')));
  assert.equal(await curl('-X', 'PUT', url('/v1/exhaust-port')), `${HTTP_DENIED_BODY}\n403 2`);
  assert.equal(await curl(url('/v2/secret')), `${HTTP_DENIED_BODY}\n403 2`);
  assert.ok(!seenPath('/v1/exhaust-port') && !seenPath('/v2/secret'), 'a denied request never reaches the server');
  await sleep(200);
  const put = records.find((r) => r.url === '/v1/exhaust-port')!;
  assert.equal(put.protocol, 'HTTP/2.0');
  assert.equal(put.method, 'PUT');
  assert.equal(put.status, 403);
  assert.equal(put.denied, true);
  const ships = records.find((r) => r.url === '/v1/ships')!;
  assert.deepEqual([ships.protocol, ships.status, ships.denied, ships.allowedBy, ships.host], ['HTTP/2.0', 200, false, SW_TEXT, `127.0.0.1:${proxyPort}`]);
});

test('HTTP/2 prior knowledge (node:http2): allowed and denied streams on one connection, which keeps serving', { skip: SKIP || false }, async () => {
  const session = h2connect(url('/'));
  session.on('error', () => undefined);
  await new Promise<void>((r, j) => { session.once('connect', () => r()); session.once('error', j); });
  const port = (session.socket as { localPort?: number }).localPort!;
  const request = (method: string, path: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const st = session.request({ ':method': method, ':path': path });
    let status = 0;
    let body = '';
    st.on('response', (h) => { status = Number(h[':status']); });
    st.setEncoding('utf8').on('data', (d: string) => { body += d; });
    st.on('end', () => resolve({ status, body }));
    st.on('error', reject);
    st.end();
  });
  const steps: [string, string, number][] = [
    ['GET', '/v1/a', 200], ['PUT', '/v1/exhaust-port', 403], ['GET', '/v1/b', 200], ['HEAD', '/v1/c', 403],
    ['POST', '/v1/request-landing', 200], ['GET', '/v2/d', 403], ['GET', '/v1/e', 200],
  ];
  for (const [method, path, status] of steps) {
    const r = await request(method, path);
    assert.equal(r.status, status, `${method} ${path}`);
    assert.equal(r.body, status === 200 ? 'ok h2\n' : status === 403 && method !== 'HEAD' ? HTTP_DENIED_BODY : '', `${method} ${path}`);
  }
  // Three concurrent streams, one denied among them.
  const conc = await Promise.all([request('GET', '/v1/f'), request('GET', '/v3/g'), request('GET', '/v1/h')]);
  assert.deepEqual(conc.map((r) => r.status), [200, 403, 200]);
  assert.equal(session.closed || session.destroyed, false, 'the connection is still open after the denials');
  session.close();
  const recs = await recordsOf(port, steps.length + 3);
  assert.equal(recs.length, steps.length + 3, 'one record per stream, all from the one connection');
  for (const r of recs) assert.equal(r.protocol, 'HTTP/2.0');
  assert.deepEqual(recs.filter((r) => r.denied).map((r) => r.url).sort(), ['/v1/c', '/v1/exhaust-port', '/v2/d', '/v3/g']);
  assert.ok(!seenPath('/v2/d') && !seenPath('/v3/g') && !seen.some((h) => h.startsWith('HEAD /v1/c ')));
});

test('HTTP/2 prior knowledge (h2load): one connection, allowed and denied requests alternating', { skip: SKIP || (!have('h2load') && 'h2load (nghttp2-client) is not installed') || false }, async () => {
  const { stdout } = await run('h2load', ['-n', '10', '-c', '1', '-m', '1', url('/v1/load'), url('/v2/load')]);
  assert.match(stdout, /Application protocol: h2c/);
  assert.match(stdout, /requests: 10 total, 10 started, 10 done, 5 succeeded, 5 failed, 0 errored, 0 timeout/);
  assert.match(stdout, /status codes: 5 2xx, 0 3xx, 5 4xx, 0 5xx/);
  assert.ok(!seenPath('/v2/load'));
});

test('h2c upgrade (curl --http2): the offer is removed, the exchange stays HTTP/1.1 under the rules', { skip: SKIP || false }, async () => {
  const before = seen.length;
  const r = await run('curl', ['-sS', '-v', '--http2', url('/v1/up'), url('/v2/up'), url('/v1/up2')]);
  assert.match(r.stderr, /> Upgrade: h2c/, 'curl offered h2c');
  assert.deepEqual([...r.stderr.matchAll(/^< HTTP\/([\d.]+) (\d+)/gm)].map((m) => `${m[1]} ${m[2]}`), ['1.1 200', '1.1 403', '1.1 200']);
  assert.match(r.stderr, /Re-using existing connection/);
  assert.equal(r.stdout, `ok\n${HTTP_DENIED_BODY}ok\n`);
  const heads = seen.slice(before);
  assert.equal(heads.length, 2, heads.join('\n---\n'));
  for (const h of heads) assert.doesNotMatch(h, /^(upgrade|http2-settings):|^connection:.*(upgrade|http2-settings)/im, 'the server never sees the h2c offer');
  await sleep(200);
  assert.deepEqual(records.filter((x) => x.url.endsWith('/up') || x.url.endsWith('/up2')).map((x) => `${x.protocol} ${x.status}`), ['HTTP/1.1 200', 'HTTP/1.1 403', 'HTTP/1.1 200']);
});

test('h2c upgrade by hand: a request after the offer on the same connection still meets the rules', { skip: SKIP || false }, async () => {
  // With the offer forwarded, this server would answer 101 and the GET /v2/smuggled behind it
  // would travel the tunnel unread (HAProxy 2.6's default, checked before the fix).
  const { text } = await rawExchange(
    'GET /v1/ok HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n'
    + 'GET /v2/smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  assert.deepEqual(statuses(text), [200, 403], text);
  assert.ok(!seenPath('/v2/smuggled'));
  // An offer listing h2c among others is removed whole.
  const two = await rawExchange('GET /v1/ok2 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket, h2c\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nGET /v2/smuggled2 HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.deepEqual(statuses(two.text), [200, 403], two.text);
  assert.ok(!seenPath('/v2/smuggled2'));
});

test('upgrades: websocket passed as the rules say (judged, then tunnelled); any other offer refused', { skip: SKIP || false }, async () => {
  const ws = (path: string, offer = 'websocket') => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${offer}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  // Allowed by GET /v1/.*: the server's 101 reaches the client; what follows is the websocket's,
  // not judged (as with Cilium's Envoy): this server reads it as HTTP and answers it.
  const allowed = await rawExchange(`${ws('/v1/ws')}GET /v2/in-tunnel HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.deepEqual(statuses(allowed.text), [101, 200], allowed.text);
  assert.ok(seenPath('/v1/ws'));
  // Denied by the rules: 403, the server never sees it, the connection stays HTTP under the rules.
  const denied = await rawExchange(`${ws('/v2/ws')}GET /v2/after HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.deepEqual(statuses(denied.text), [403, 403], denied.text);
  assert.ok(!seenPath('/v2/ws') && !seenPath('/v2/after'));
  // Another protocol, or websocket among others, on an allowed path: refused.
  for (const [path, offer] of [['/v1/foo', 'foo'], ['/v1/tls', 'TLS/1.2'], ['/v1/two', 'websocket, foo']] as const) {
    // (the websocket key: without it HAProxy answers an offer naming websocket 400 before the rules)
    const r = await rawExchange(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${offer}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nGET /v2/after-${offer.length} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.deepEqual(statuses(r.text), [403, 403], `${offer}: ${r.text}`);
    assert.ok(r.text.includes(HTTP_DENIED_BODY));
    assert.ok(!seenPath(path), offer);
    const rec = (await recordsOf(r.port, 2)).find((x) => x.url === path)!;
    assert.deepEqual([rec.status, rec.denied, rec.allowedBy], [403, true, ''], offer);
  }
});
