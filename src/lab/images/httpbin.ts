// httpbin: kennethreitz/httpbin (Flask, port 80) and mccutchen/go-httpbin (port 8080, $PORT / -port).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ANY_HOST, type Builtin, type BuiltinContext, canonicalHeader, goLogTime, httpServer, parseFlags, readBody, remoteIP, send, serveHttp, str } from './common.js';

/** Longest /delay/<n> honoured, in seconds (as both httpbins cap it). */
export const MAX_DELAY_S = 10;

type Flavour = 'kennethreitz' | 'go';

function headersOf(req: IncomingMessage, flavour: Flavour): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = canonicalHeader(req.rawHeaders[i]!);
    const v = req.rawHeaders[i + 1]!;
    if (flavour === 'go') out[k] = [...((out[k] as string[] | undefined) ?? []), v];
    else out[k] = out[k] === undefined ? v : `${out[k] as string},${v}`;
  }
  return out;
}

function argsOf(url: URL, flavour: Flavour): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const cur = out[k];
    if (flavour === 'go') out[k] = [...((cur as string[] | undefined) ?? []), v];
    else out[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  return out;
}

function httpbinImpl(flavour: Flavour, defaultPort: number): Builtin {
  return async (args, ctx: BuiltinContext) => {
    const { flags } = parseFlags(args, { port: 'string', host: 'string', b: 'string', bind: 'string' });
    let port = defaultPort;
    let host = ANY_HOST;
    if (flavour === 'go') {
      port = Number(str(flags.port) ?? ctx.env.PORT ?? defaultPort);
      host = str(flags.host) ?? ctx.env.HOST ?? ANY_HOST;
    } else {
      const bind = str(flags.b) ?? str(flags.bind);
      const m = bind ? /^(.*):(\d+)$/.exec(bind) : null;
      if (m) [host, port] = [m[1] || ANY_HOST, Number(m[2])];
    }
    const pretty = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
    const json = { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Credentials': 'true' };
    const handle = async (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const method = req.method ?? 'GET';
      const origin = remoteIP(req);
      const fullUrl = `http://${req.headers.host ?? 'localhost'}${req.url}`;
      const base = () => ({ args: argsOf(url, flavour), headers: headersOf(req, flavour), origin, url: fullUrl });
      const withBody = async () => {
        const raw = await readBody(req);
        const text = raw.toString('utf8');
        const ct = req.headers['content-type'] ?? '';
        let parsed: unknown = null;
        let form: Record<string, string | string[]> = {};
        if (ct.includes('json')) {
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = null;
          }
        } else if (ct.startsWith('application/x-www-form-urlencoded')) form = argsOf(new URL('http://x/?' + text), flavour);
        return { ...base(), data: ct.startsWith('application/x-www-form-urlencoded') ? '' : text, files: {}, form, json: parsed, method };
      };
      const only = (m: string) => {
        if (method === m || (m === 'GET' && method === 'HEAD')) return true;
        send(res, 405, flavour === 'go' ? JSON.stringify({ status_code: 405, error: 'Method Not Allowed' }) : '<!doctype html>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n', flavour === 'go' ? json : { 'Content-Type': 'text/html' });
        return false;
      };
      let m: RegExpExecArray | null;
      if (path === '/get') {
        if (only('GET')) send(res, 200, pretty(base()), json);
      } else if (['/post', '/put', '/patch', '/delete'].includes(path)) {
        if (only(path.slice(1).toUpperCase())) send(res, 200, pretty(await withBody()), json);
      } else if (path === '/anything' || path.startsWith('/anything/')) {
        send(res, 200, pretty(await withBody()), json);
      } else if (path === '/headers') {
        send(res, 200, pretty({ headers: headersOf(req, flavour) }), json);
      } else if (path === '/ip') {
        send(res, 200, pretty({ origin }), json);
      } else if (path === '/user-agent') {
        send(res, 200, pretty({ 'user-agent': req.headers['user-agent'] ?? '' }), json);
      } else if ((m = /^\/status\/([^/]+)$/.exec(path))) {
        req.resume();
        const codes = m[1]!.split(',').map((c) => Number(c));
        if (codes.some((c) => !Number.isInteger(c) || c < 100 || c > 599)) return send(res, 400, 'Invalid status code\n', { 'Content-Type': 'text/plain' });
        const code = codes[Math.floor(Math.random() * codes.length)]!;
        if (code >= 300 && code < 400 && code !== 304) res.setHeader('Location', '/redirect/1');
        send(res, code, '', { 'Content-Type': 'text/html; charset=utf-8' });
      } else if ((m = /^\/delay\/([^/]+)$/.exec(path))) {
        const n = Number(m[1]);
        if (!Number.isFinite(n) || n < 0) return send(res, 400, 'Invalid delay\n', { 'Content-Type': 'text/plain' });
        const body = await withBody();
        await new Promise((r) => setTimeout(r, Math.min(n, MAX_DELAY_S) * 1000));
        send(res, 200, pretty(body), json);
      } else if (path === '/' || path === '') {
        req.resume();
        send(res, 200, `<!DOCTYPE html>\n<html><head><title>httpbin</title></head><body><h1>httpbin (beeline)</h1><p>A simple HTTP Request &amp; Response Service: /get /post /put /patch /delete /anything /headers /ip /user-agent /status/:code /delay/:n</p></body></html>\n`, { 'Content-Type': 'text/html; charset=utf-8' });
      } else {
        req.resume();
        send(res, 404, flavour === 'go' ? JSON.stringify({ status_code: 404, error: 'Not Found' }) : '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n', flavour === 'go' ? json : { 'Content-Type': 'text/html' });
      }
    };
    const server = httpServer(handle, (req, res, ms) =>
      ctx.out(flavour === 'go' ? `time="${new Date().toISOString()}" level=INFO msg="${res.statusCode} ${req.method} ${req.url} ${ms.toFixed(1)}ms" status=${res.statusCode} method=${req.method} uri=${req.url} duration_ms=${ms.toFixed(3)}` : `${goLogTime()} ${remoteIP(req)} "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode}`),
    );
    const running = await serveHttp(ctx, host, port, server);
    ctx.out(flavour === 'go' ? `time="${new Date().toISOString()}" level=INFO msg="go-httpbin listening on http://${ctx.listenHost ?? host}:${running.ports[0]}"` : `[INFO] Listening at: http://${ctx.listenHost ?? host}:${running.ports[0]}`);
    return running;
  };
}

export const kennethreitzHttpbin: Builtin = httpbinImpl('kennethreitz', 80);
export const goHttpbin: Builtin = httpbinImpl('go', 8080);
