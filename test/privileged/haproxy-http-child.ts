/**
 * Runs inside a private network namespace made by haproxy-rules.test.ts
 * (test/lib/netns-child.ts): HTTP/1.1 through the node proxy's generated
 * configuration (src/l7/http/haproxy.ts, non-transparent) with the real
 * HAProxy 2.6 and a Node.js server behind it that reports what it received
 * (method, target, body length and SHA-256, when the body's first byte
 * arrived). What issue 12 asks of the proxy besides the rules:
 *   - keep-alive and pipelining: requests written at once are answered in
 *     order, a denied one in the middle with 403, the others forwarded;
 *   - chunked bodies forwarded byte for byte;
 *   - `Expect: 100-continue`: an allowed request gets its 100 and its body
 *     through; a denied one gets 403 without a 100, and its body never reaches the server;
 *   - large bodies streamed, never buffered whole: the server has the first
 *     bytes of a 48 MiB upload long before the client has written the last,
 *     and the proxy's memory does not grow by anything near the body's size.
 * Not a test file of its own (no .test suffix): it needs the namespace.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { renderHaproxy } from '../../src/l7/http/haproxy.js';
import { HTTP_DENIED_BODY, type HttpRuleSource } from '../../src/l7/http/rules.js';
import { assertPrivateNetns } from '../lib/netns-child.js';
import { startHaproxy, writeRenderedHaproxy } from '../lib/haproxy.js';
import { startRecordSink, type RecordSink } from '../lib/record-sink.js';

assertPrivateNetns('haproxy-http-child');

const PROXY_PORT = 18092;
const SERVER_PORT = 18182;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const RULES: HttpRuleSource[] = [{
  origin: { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'uploads' },
  rules: [{ method: 'POST', path: '/v1/request-landing' }, { method: 'GET', path: '/v1/.*' }, { method: 'POST', path: '/upload/.*' }],
}];

/** What the server got, per request, in arrival order. */
interface Seen { method: string; url: string; bytes: number; sha256: string; firstByteAt?: number; endAt: number; chunked: boolean }
const seen: Seen[] = [];

let dir = '';
let haproxy: ChildProcess | undefined;
let server: HttpServer | undefined;
let records: RecordSink | undefined;

before(async () => {
  dir = mkdtempSync('/tmp/bl-hh-state-');
  server = createHttpServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let firstByteAt: number | undefined;
    req.on('data', (d: Buffer) => {
      firstByteAt ??= Date.now();
      bytes += d.length;
      hash.update(d);
    });
    req.on('end', () => {
      const s: Seen = { method: req.method!, url: req.url!, bytes, sha256: hash.digest('hex'), ...(firstByteAt !== undefined ? { firstByteAt } : {}), endAt: Date.now(), chunked: /chunked/i.test(String(req.headers['transfer-encoding'] ?? '')) };
      seen.push(s);
      const body = `${JSON.stringify(s)}\n`;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server!.listen(SERVER_PORT, '127.0.0.1', () => r()));
  // The records' receiver (not checked here: haproxy-rules-child does).
  records = await startRecordSink();
  const rendered = renderHaproxy({
    listeners: [{ direction: 'ingress', port: PROXY_PORT }],
    redirects: [{ direction: 'ingress', endpointIp: '127.0.0.1', port: PROXY_PORT, identity: 0, http: RULES }],
    identities: [],
    logTarget: `127.0.0.1:${records.port}`,
    stateDir: dir,
  }, { transparent: false, bindAddress: '127.0.0.1', forwardTo: `127.0.0.1:${SERVER_PORT}` });
  // One process (no master): its VmRSS is the proxy's memory.
  haproxy = (await startHaproxy(['-db', '-f', writeRenderedHaproxy(rendered, join(dir, 'haproxy.cfg'))], PROXY_PORT)).proc;
});

after(async () => {
  if (haproxy?.pid && haproxy.exitCode === null) haproxy.kill('SIGKILL');
  await records?.close();
  server?.closeAllConnections();
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Resp { status: number; head: string; body: string }

/** A raw HTTP/1.1 client connection: write what the test says, read responses by Content-Length. */
class Raw {
  buf = Buffer.alloc(0);
  closed = false;
  private wake: (() => void) | undefined;
  readonly sock: Socket;
  readonly ready: Promise<void>;
  constructor() {
    this.sock = connect(PROXY_PORT, '127.0.0.1');
    this.sock.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake?.(); });
    this.sock.on('close', () => { this.closed = true; this.wake?.(); });
    this.sock.on('error', () => undefined);
    this.ready = new Promise((r) => this.sock.once('connect', () => r()));
  }
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.sock.write(data, (e) => (e ? reject(e) : resolve())));
  }
  /** The next response (an interim 1xx too), or undefined when none came within `ms`. */
  async next(ms = 10_000): Promise<Resp | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.buf.subarray(0, end).toString('latin1');
        const status = Number(head.slice(9, 12));
        const len = status < 200 ? 0 : Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? '0');
        if (this.buf.length >= end + 4 + len) {
          const body = this.buf.subarray(end + 4, end + 4 + len).toString('latin1');
          this.buf = this.buf.subarray(end + 4 + len);
          return { status, head, body };
        }
      }
      if (this.closed || Date.now() > deadline) return undefined;
      await new Promise<void>((r) => { this.wake = r; setTimeout(r, 20); });
    }
  }
  close(): void { this.sock.destroy(); }
}

const req = (method: string, path: string, headers = '', body = '') =>
  `${method} ${path} HTTP/1.1\r\nHost: deathstar\r\n${headers}${body || method === 'POST' || method === 'PUT' ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

test('pipelining: three requests written at once are answered in order on the same connection, the denied one in the middle with 403', async () => {
  const c = new Raw();
  await c.ready;
  const before_ = seen.length;
  await c.write(req('POST', '/v1/request-landing', '', 'ship') + req('PUT', '/v1/exhaust-port', '', 'boom') + req('GET', '/v1/ships'));
  const got = [await c.next(), await c.next(), await c.next()];
  c.close();
  assert.deepEqual(got.map((r) => r?.status), [200, 403, 200]);
  assert.equal(got[1]!.body, HTTP_DENIED_BODY);
  assert.equal(JSON.parse(got[0]!.body).url, '/v1/request-landing');
  assert.equal(JSON.parse(got[2]!.body).url, '/v1/ships');
  assert.deepEqual(seen.slice(before_).map((s) => `${s.method} ${s.url} ${s.bytes}`), ['POST /v1/request-landing 4', 'GET /v1/ships 0'], 'the server got the allowed two, in order, never the PUT');
});

test('chunked bodies go through byte for byte, written in pieces with pauses', async () => {
  const c = new Raw();
  await c.ready;
  const parts = [Buffer.alloc(1000, 'a'), Buffer.from('\r\n0\r\nnot-a-terminator\n'), Buffer.alloc(70_000, 7)];
  await c.write('POST /upload/chunked HTTP/1.1\r\nHost: deathstar\r\nTransfer-Encoding: chunked\r\n\r\n');
  for (const p of parts) {
    await c.write(Buffer.concat([Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]));
    await sleep(100);
  }
  await c.write('0\r\n\r\n');
  const r = await c.next();
  // And the connection goes on.
  await c.write(req('GET', '/v1/after-chunked'));
  const r2 = await c.next();
  c.close();
  assert.equal(r?.status, 200);
  const s = JSON.parse(r!.body) as Seen;
  const all = Buffer.concat(parts);
  assert.deepEqual({ bytes: s.bytes, sha256: s.sha256, chunked: s.chunked }, { bytes: all.length, sha256: sha(all), chunked: true });
  assert.equal(r2?.status, 200);
});

test('Expect: 100-continue: allowed, 100 then the body; denied, 403 without a 100 and nothing reaches the server', async () => {
  const body = Buffer.alloc(200_000, 'x');
  const c = new Raw();
  await c.ready;
  await c.write(`POST /upload/expect HTTP/1.1\r\nHost: deathstar\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
  const interim = await c.next(5000);
  assert.equal(interim?.status, 100, `a 100 Continue before the body: ${interim?.head}`);
  await c.write(body);
  const r = await c.next();
  c.close();
  assert.equal(r?.status, 200);
  assert.deepEqual({ bytes: (JSON.parse(r!.body) as Seen).bytes, sha256: (JSON.parse(r!.body) as Seen).sha256 }, { bytes: body.length, sha256: sha(body) });

  const before_ = seen.length;
  const d = new Raw();
  await d.ready;
  await d.write(`PUT /upload/expect HTTP/1.1\r\nHost: deathstar\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
  const first = await d.next(5000);
  d.close();
  assert.equal(first?.status, 403, `the denied request is answered at once: ${first?.head}`);
  assert.equal(first!.body, HTTP_DENIED_BODY);
  await sleep(200);
  assert.equal(seen.length, before_, 'the server never saw the denied request');
});

/** VmRSS of the HAProxy process, KiB. */
function rssKiB(): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${haproxy!.pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

test('a 48 MiB upload is streamed: the server has its first bytes long before the client wrote its last, and the proxy does not hold it', async () => {
  const MIB = 1 << 20;
  const total = 48 * MIB;
  const piece = Buffer.alloc(MIB);
  for (let i = 0; i < piece.length; i++) piece[i] = (i * 31 + 7) & 0xff;
  const rss0 = rssKiB();
  let rssMax = rss0;
  const c = new Raw();
  await c.ready;
  const t0 = Date.now();
  await c.write(`POST /upload/large HTTP/1.1\r\nHost: deathstar\r\nContent-Length: ${total}\r\n\r\n`);
  const hash = createHash('sha256');
  for (let sent = 0; sent < total; sent += MIB) {
    await c.write(piece);
    hash.update(piece);
    // Paced: about 2.5 s in all, so that "first byte long before the last" means something.
    await sleep(50);
    rssMax = Math.max(rssMax, rssKiB());
  }
  const lastWrittenAt = Date.now();
  const r = await c.next(30_000);
  c.close();
  assert.equal(r?.status, 200);
  const s = JSON.parse(r!.body) as Seen;
  assert.equal(s.bytes, total);
  assert.equal(s.sha256, hash.digest('hex'));
  assert.ok(s.firstByteAt !== undefined && s.firstByteAt - t0 < 1000, `the server's first body byte ${s.firstByteAt! - t0} ms after the start`);
  assert.ok(lastWrittenAt - s.firstByteAt! > 1500, `the server had data ${lastWrittenAt - s.firstByteAt!} ms before the client finished writing`);
  const growthMiB = (rssMax - rss0) / 1024;
  assert.ok(growthMiB < 8, `the proxy's memory grew by ${growthMiB.toFixed(1)} MiB during a 48 MiB upload`);
});
