/**
 * The TypeScript candidate of the HTTP engine benchmark (issue 12,
 * bench/http-engine.ts): a reverse proxy on Node's own HTTP parser (llhttp,
 * through node:http), one process, one event loop, no cluster, that enforces
 * an L7 allow-list as Cilium's `rules.http` does and forwards what it allows
 * to one upstream over kept-alive connections.
 *
 *   node dist/bench/proto/http-proxy.js --listen 127.0.0.1:8083 --upstream 127.0.0.1:8080
 *        --rules '[{"method":"GET","path":"/v1/.*"}]'
 *
 * A prototype to measure, not the product: no transparent redirection, no
 * identities, no flow records, no TLS. What it does do is what the benchmark
 * compares with HAProxy:
 *   - `method` and `path` of every rule are regular expressions with RE2
 *     semantics (re2js: linear time, no backreferences), matched against the
 *     whole value; the path is the request target without its query; rules
 *     are ORed; a request no rule allows gets 403 `Access denied\r\n`, and
 *     the client's connection stays usable for its next request (its body,
 *     if any, is read and dropped by node:http, never forwarded).
 *   - bodies are streamed both ways (pipe), never buffered whole;
 *     hop-by-hop headers are not forwarded; the upstream connections are
 *     kept alive and reused (http.Agent keepAlive, last-used first).
 * With `--client raw` the upstream side skips node:http's client: requests
 * without a body are written as bytes on pooled sockets and responses with
 * a Content-Length are parsed by hand (RawUpstream below): what a proxy
 * that keeps node:http only for its server side would cost. Not a proxy to
 * ship (no chunked responses, no upstream pipelining checks).
 * With `--upstream none` it answers an allowed request itself (200 `ok\n`)
 * instead of forwarding it: the benchmark's bound on what any proxy built on
 * node:http's server side could do on one core.
 * Prints `listening HOST:PORT` on stdout once it accepts connections.
 */
import http from 'node:http';
import net from 'node:net';
import { RE2JS } from 're2js';

/** One allow rule: both regular expressions must match the whole value. */
export interface HttpRule {
  method?: string;
  path?: string;
}

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(name);
  const v = i > 0 ? process.argv[i + 1] : undefined;
  if (v !== undefined) return v;
  if (def === undefined) throw new Error(`http-proxy: ${name} is required`);
  return def;
}

function hostPort(flag: string, v: string): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  const port = Number(v.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`http-proxy: ${flag} ${JSON.stringify(v)}: want host:port`);
  return { host: v.slice(0, i), port };
}

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

function endToEnd(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = { ...h };
  // Headers named by Connection are hop-by-hop too.
  for (const name of String(h.connection ?? '').split(',')) delete out[name.trim().toLowerCase()];
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

const HOP_BY_HOP_SET = new Set(HOP_BY_HOP);

/**
 * The `--client raw` upstream: kept-alive sockets, last used first; one
 * request at a time per socket; a response must carry Content-Length (else
 * 502 and the socket is closed).
 */
class RawUpstream {
  private readonly idle: net.Socket[] = [];
  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  private socket(): net.Socket {
    const idle = this.idle.pop();
    if (idle) return idle;
    const s = net.connect({ host: this.host, port: this.port, noDelay: true });
    s.on('error', () => undefined);
    // A closed idle socket leaves the pool.
    s.on('close', () => {
      const i = this.idle.indexOf(s);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return s;
  }

  /** Forwards a request without a body and streams the response into `res`. */
  forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const sock = this.socket();
    let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP_SET.has(raw[i]!.toLowerCase())) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    sock.write(head + '\r\n', 'latin1');
    const noBody = req.method === 'HEAD';
    let buf: Buffer | undefined;
    let remaining = -1;
    let done = false;
    // Once only: the socket may serve another request right after it is back in the pool.
    const finish = (reuse: boolean) => {
      if (done) return;
      done = true;
      sock.off('data', onData);
      sock.off('close', onClose);
      if (reuse) this.idle.push(sock);
      else sock.destroy();
    };
    const fail = () => {
      finish(false);
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain', 'content-length': 13 });
        res.end('Bad Gateway\r\n');
      } else res.destroy();
    };
    const onClose = () => fail();
    const onData = (d: Buffer) => {
      if (remaining >= 0) {
        remaining -= d.length;
        if (remaining <= 0) {
          finish(true);
          res.end(d);
        } else res.write(d);
        return;
      }
      buf = buf ? Buffer.concat([buf, d]) : d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 16384) fail();
        return;
      }
      const lines = buf.toString('latin1', 0, end).split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]!);
      if (!status) return fail();
      const headers: string[] = [];
      let length = -1;
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i]!;
        const c = line.indexOf(':');
        const name = line.slice(0, c).trim();
        const value = line.slice(c + 1).trim();
        const lower = name.toLowerCase();
        if (lower === 'content-length') length = Number(value);
        else if (lower === 'transfer-encoding') return fail();
        if (!HOP_BY_HOP_SET.has(lower)) headers.push(name, value);
      }
      const code = Number(status[1]);
      if (noBody || code === 204 || code === 304) length = 0;
      if (!(length >= 0)) return fail();
      res.writeHead(code, status[2], headers);
      const body = buf.subarray(end + 4);
      buf = undefined;
      remaining = length - body.length;
      if (remaining <= 0) {
        finish(true);
        res.end(body);
      } else res.write(body);
    };
    sock.on('data', onData);
    sock.on('close', onClose);
    // The client went away mid-exchange: this socket's state is unknown, close it.
    res.on('close', () => {
      if (!res.writableFinished) finish(false);
    });
  }
}

/** Compiles the allow-list; the answer tells whether a method and path are allowed. */
export function compileRules(rules: HttpRule[]): (method: string, path: string) => boolean {
  // RE2JS.matches is a full match (Java's Matcher.matches), as Cilium's rules are.
  const compiled = rules.map((r) => ({
    method: r.method === undefined ? undefined : RE2JS.compile(r.method),
    path: r.path === undefined ? undefined : RE2JS.compile(r.path),
  }));
  return (method, path) => compiled.some((r) => (r.method === undefined || r.method.matches(method)) && (r.path === undefined || r.path.matches(path)));
}

const DENIED = 'Access denied\r\n';

function main(): void {
  const listen = hostPort('--listen', arg('--listen'));
  const upstreamArg = arg('--upstream');
  const upstream = upstreamArg === 'none' ? undefined : hostPort('--upstream', upstreamArg);
  const allowed = compileRules(JSON.parse(arg('--rules', '[]')) as HttpRule[]);
  const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  const client = arg('--client', 'agent');
  if (client !== 'agent' && client !== 'raw') throw new Error(`http-proxy: --client ${client}: agent or raw`);
  const raw = client === 'raw' && upstream ? new RawUpstream(upstream.host, upstream.port) : undefined;

  const server = http.createServer((req, res) => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    if (!allowed(req.method ?? '', path)) {
      res.writeHead(403, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(DENIED) });
      res.end(DENIED);
      // Read the denied request's body (if any) to its end, so the connection can carry the next request.
      req.resume();
      return;
    }
    if (!upstream) {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3 });
      res.end('ok\n');
      return;
    }
    if (raw && req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
      req.resume();
      raw.forward(req, res);
      return;
    }
    const up = http.request({ host: upstream.host, port: upstream.port, method: req.method, path: target, headers: endToEnd(req.headers), agent });
    up.on('response', (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, endToEnd(ur.headers));
      ur.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain', 'content-length': 13 });
        res.end('Bad Gateway\r\n');
      } else res.destroy();
    });
    // The client went away mid-exchange: give up the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(listen.port, listen.host, () => process.stdout.write(`listening ${listen.host}:${listen.port}\n`));
  const stop = () => server.close(() => process.exit(0)).closeAllConnections();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
