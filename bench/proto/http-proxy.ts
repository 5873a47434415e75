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
 * With `--upstream none` it answers an allowed request itself (200 `ok\n`)
 * instead of forwarding it: the benchmark's bound on what any proxy built on
 * node:http's server side could do on one core.
 * Prints `listening HOST:PORT` on stdout once it accepts connections.
 */
import http from 'node:http';
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
