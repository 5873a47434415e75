// Echo servers: hashicorp/http-echo, ealen/echo-server, jmalloc/echo-server.
import type { IncomingMessage } from 'node:http';
import { ANY_HOST, type Builtin, canonicalHeader, goLogTime, httpServer, parseFlags, parseHostPort, podHostname, readBody, remoteAddr, send, sentBytes, serveHttp, str } from './common.js';

/** The http-echo version beeline reports in X-App-Version. */
export const HTTP_ECHO_VERSION = '1.0.0';

/**
 * hashicorp/http-echo: -text (or $ECHO_TEXT; the image sets ECHO_TEXT=hello-world),
 * -listen (default :5678), -status-code (default 200). Every path but /health answers the
 * text and a newline; /health answers {"status":"ok"}.
 */
export const httpEcho: Builtin = async (args, ctx) => {
  const { flags, rest, unknown } = parseFlags(args, { text: 'string', listen: 'string', 'status-code': 'string', version: 'bool' });
  if (flags.version) {
    ctx.out(`http-echo v${HTTP_ECHO_VERSION} (beeline)`);
    ctx.exit(0);
    return { ports: [], close: async () => {} };
  }
  if (unknown.length) {
    ctx.err(`flag provided but not defined: ${unknown[0]}`);
    ctx.exit(2);
    return { ports: [], close: async () => {} };
  }
  const text = str(flags.text) || ctx.env.ECHO_TEXT || 'hello-world';
  if (rest.length > 0) {
    ctx.err('Too many arguments!');
    ctx.exit(127);
    return { ports: [], close: async () => {} };
  }
  const status = Number(str(flags['status-code']) ?? 200);
  const listenFlag = str(flags.listen) ?? ':5678';
  const { host, port } = parseHostPort(listenFlag);
  const appHeaders = { 'X-App-Name': 'http-echo', 'X-App-Version': HTTP_ECHO_VERSION, 'Content-Type': 'text/plain; charset=utf-8' };
  const server = httpServer(
    (req, res) => {
      req.resume();
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/health') return send(res, 200, '{"status":"ok"}\n', appHeaders);
      send(res, status, `${text}\n`, appHeaders);
    },
    (req, res, ms) => {
      if (new URL(req.url ?? '/', 'http://x').pathname === '/health') return;
      ctx.out(`${goLogTime()} ${req.headers.host ?? ''} ${remoteAddr(req)} "${req.method} ${new URL(req.url ?? '/', 'http://x').pathname} HTTP/${req.httpVersion}" ${res.statusCode} ${sentBytes(res)} "${req.headers['user-agent'] ?? ''}" ${(ms * 1000).toFixed(3)}µs`);
    },
  );
  ctx.err(`${goLogTime()} [INFO] server is listening on ${listenFlag}`);
  return serveHttp(ctx, host, port, server);
};

// ---- ealen/echo-server (an Express app; Ealenn/Echo-Server) ----

function parseQuery(url: URL): Record<string, string | string[]> {
  const q: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const cur = q[k];
    q[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  return q;
}

function parseCookies(h: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (h ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function parseBody(req: IncomingMessage, raw: Buffer): unknown {
  const ct = (req.headers['content-type'] ?? '').toLowerCase();
  const text = raw.toString('utf8');
  if (raw.length === 0) return {};
  if (ct.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return {};
    }
  }
  if (ct.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  if (ct.startsWith('text/')) return text;
  return {};
}

/**
 * ealen/echo-server: answers every request with JSON describing it
 * ({host, http, request, environment}); port from $PORT or --port (default 80).
 * Supports the X-ECHO-CODE/echo_code, X-ECHO-BODY/echo_body, X-ECHO-ENV-BODY/echo_env_body,
 * X-ECHO-HEADER/echo_header and X-ECHO-TIME/echo_time commands.
 */
export const ealenEchoServer: Builtin = async (args, ctx) => {
  const { flags } = parseFlags(args, { port: 'string' });
  const port = Number(str(flags.port) ?? ctx.env.PORT ?? 80);
  const hostname = podHostname(ctx.env);
  const server = httpServer(
    async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const query = parseQuery(url);
      const body = parseBody(req, await readBody(req));
      const cmd = (header: string, q: string): string | undefined => {
        const h = req.headers[header];
        const v = typeof h === 'string' && h ? h : typeof query[q] === 'string' ? (query[q] as string) : undefined;
        return v || undefined;
      };
      // Response time first (customResponseTime), then code, headers, then a custom body.
      const wait = Number(cmd('x-echo-time', 'echo_time'));
      if (Number.isFinite(wait) && wait > 0 && wait <= 60_000) await new Promise((r) => setTimeout(r, wait));
      let status = 200;
      const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
      for (const v of [req.headers['x-echo-code'], query.echo_code]) {
        if (typeof v !== 'string' || !v) continue;
        const valid = v.split('-').filter((e) => /^\+?(0|[1-9]\d*)$/.test(e) && Number(e) >= 200 && Number(e) <= 599);
        if (valid.length) status = Number(valid[Math.floor(Math.random() * valid.length)]);
        headers['X-ECHO-RANDOM-STATUS'] = valid.join(',');
      }
      const hdr = cmd('x-echo-header', 'echo_header');
      if (hdr) {
        for (const h of hdr.split(',')) {
          const i = h.indexOf(':');
          if (i > 0) headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
        }
      }
      const envBody = cmd('x-echo-env-body', 'echo_env_body');
      if (envBody) return send(res, status, JSON.stringify(ctx.env[envBody] ?? null), headers);
      const custom = cmd('x-echo-body', 'echo_body');
      if (custom !== undefined) {
        let v: unknown;
        try {
          v = JSON.parse(custom);
        } catch {
          v = custom;
        }
        return send(res, status, JSON.stringify(v), headers);
      }
      const ip = req.socket.remoteAddress ?? '';
      const doc = {
        host: { hostname: (req.headers.host ?? '').replace(/:\d+$/, ''), ip, ips: [] as string[] },
        http: { method: req.method, baseUrl: '', originalUrl: req.url, protocol: 'http' },
        request: { params: { '0': url.pathname }, query, cookies: parseCookies(req.headers.cookie), body, headers: req.headers },
        environment: { ...ctx.env, HOSTNAME: hostname },
      };
      send(res, status, JSON.stringify(doc), headers);
    },
    (req) =>
      // bunyan's JSON line (the real one also embeds the whole request description)
      ctx.out(
        JSON.stringify({
          name: 'echo-server',
          hostname,
          pid: process.pid,
          level: 30,
          msg: `${new Date().toUTCString()} | [${req.method}] - http://${req.headers.host ?? ''}${req.url}`,
          time: new Date().toISOString(),
          v: 0,
        }),
      ),
  );
  const running = await serveHttp(ctx, ANY_HOST, port, server);
  ctx.out(`Listening on port ${running.ports[0]}.`);
  return running;
};

/**
 * jmalloc/echo-server: answers every request with a plain-text echo: "Request served by
 * <hostname>", the request line, Host, the headers (sorted, canonical case) and the body.
 * Port from $PORT (default 8080). SEND_SERVER_HOSTNAME=false / X-Send-Server-Hostname: false
 * drops the first line; SEND_HEADER_<NAME>=v adds response headers.
 */
export const jmallocEchoServer: Builtin = async (_args, ctx) => {
  const port = Number(ctx.env.PORT || 8080);
  const hostname = podHostname(ctx.env);
  const server = httpServer(
    async (req, res) => {
      ctx.out(`${remoteAddr(req)} | ${req.method} ${req.url}`);
      const body = await readBody(req);
      const hdrFlag = typeof req.headers['x-send-server-hostname'] === 'string' && req.headers['x-send-server-hostname'] ? req.headers['x-send-server-hostname'] : (ctx.env.SEND_SERVER_HOSTNAME ?? '');
      const headers: Record<string, string> = { 'Content-Type': 'text/plain' };
      for (const [k, v] of Object.entries(ctx.env)) if (k.startsWith('SEND_HEADER_') && v !== undefined) headers[k.slice(12).replaceAll('_', '-')] = v;
      let out = '';
      if (hdrFlag.toLowerCase() !== 'false') out += `Request served by ${hostname}\n\n`;
      out += `${req.method} ${req.url} HTTP/${req.httpVersion}\n\nHost: ${req.headers.host ?? ''}\n`;
      const grouped = new Map<string, string[]>();
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = canonicalHeader(req.rawHeaders[i]!);
        if (k === 'Host') continue;
        grouped.set(k, [...(grouped.get(k) ?? []), req.rawHeaders[i + 1]!]);
      }
      for (const k of [...grouped.keys()].sort()) for (const v of grouped.get(k)!) out += `${k}: ${v}\n`;
      if (body.length > 0) out += `\n${body.toString('utf8')}`;
      send(res, 200, out, headers);
    },
  );
  const running = await serveHttp(ctx, ANY_HOST, port, server);
  ctx.out(`Echo server listening on port ${running.ports[0]}.`);
  return running;
};

