// The Cilium Star Wars demo images:
//   cilium/starwars   the deathstar (github.com/cilium/starwars-docker): a go-swagger server
//   cilium/json-mock  the spaceships (github.com/cilium/json-mock): json-server 0.17 with a small middleware
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ANY_HOST, type Builtin, goLogTime, httpServer, podHostname, readBody, remoteIP, send, sentBytes, serveHttp, parseFlags, str } from './common.js';

/** The backtrace the deathstar answers PUT /v1/exhaust-port with (as in starwars-docker). */
export const DEATHSTAR_BACKTRACE = `Panic: deathstar exploded

goroutine 1 [running]:
main.HandleGarbage(0x2080c3f50, 0x2, 0x4, 0x425c0, 0x5, 0xa)
        /code/src/github.com/empire/deathstar/
        temp/main.go:9 +0x64
main.main()
        /code/src/github.com/empire/deathstar/
        temp/main.go:5 +0x85
`;

export function deathstarInfo(hostname: string): string {
  return `{
	"name": "Death Star",
	"hostname": ${JSON.stringify(hostname)},
	"model": "DS-1 Orbital Battle Station",
	"manufacturer": "Imperial Department of Military Research, Sienar Fleet Systems",
	"cost_in_credits": "1000000000000",
	"length": "120000",
	"crew": "342953",
	"passengers": "843342",
	"cargo_capacity": "1000000000000",
	"hyperdrive_rating": "4.0",
	"starship_class": "Deep Space Mobile Battlestation",
	"api": [
		"GET   /v1",
		"GET   /v1/healthz",
		"POST  /v1/request-landing",
		"PUT   /v1/cargobay",
		"GET   /v1/hyper-matter-reactor/status",
		"PUT   /v1/exhaust-port"
	]
}
`;
}

/** How long after PUT /v1/exhaust-port the deathstar process panics (exit status 2, like a Go panic). */
export const DEATHSTAR_EXPLODE_MS = 2000;

/**
 * cilium/starwars: flags --host (default localhost, the image passes 0.0.0.0) and --port
 * (the image passes 80); env HOST/PORT as in go-swagger servers.
 */
export const deathstar: Builtin = async (args, ctx) => {
  const { flags } = parseFlags(args, { host: 'string', port: 'string' });
  const host = str(flags.host) ?? ctx.env.HOST ?? ANY_HOST;
  const port = Number(str(flags.port) ?? ctx.env.PORT ?? 80);
  const hostname = podHostname(ctx.env);
  const timers = new Set<NodeJS.Timeout>();
  // go-openapi's router: a path known for another method answers 405, an unknown path 404 (JSON errors).
  const routes: Record<string, Record<string, (res: ServerResponse) => void>> = {
    '/v1': { GET: (res) => send(res, 200, deathstarInfo(hostname), { 'Content-Type': 'text/plain' }) },
    '/v1/request-landing': { POST: (res) => send(res, 200, 'Ship landed\n', { 'Content-Type': 'text/plain' }) },
    '/v1/exhaust-port': {
      PUT: (res) => {
        send(res, 503, DEATHSTAR_BACKTRACE, { 'Content-Type': 'text/plain' });
        const t = setTimeout(() => {
          ctx.err('panic: deathstar exploded');
          ctx.err('');
          ctx.err('goroutine 1 [running]:');
          ctx.exit(2);
        }, DEATHSTAR_EXPLODE_MS);
        timers.add(t);
      },
    },
  };
  const server = httpServer(
    (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const key = path === '/v1/' ? '/v1' : path;
      const route = routes[key];
      const json = { 'Content-Type': 'application/json' };
      if (!route) return send(res, 404, JSON.stringify({ code: 404, message: `path ${path} was not found` }), json);
      const h = route[req.method ?? 'GET'];
      if (!h) {
        const allowed = Object.keys(route);
        return send(res, 405, JSON.stringify({ code: 405, message: `method ${req.method} is not allowed, but [${allowed.join(',')}] are` }), { ...json, Allow: allowed.join(',') });
      }
      req.resume();
      h(res);
    },
    (req, res) => ctx.out(`${goLogTime()} ${remoteIP(req)} "${req.method} ${req.url}" ${res.statusCode}`),
  );
  const running = await serveHttp(ctx, host, port, server);
  ctx.out(`${goLogTime()} Serving deathstar at http://${ctx.listenHost ?? host}:${running.ports[0]}`);
  return {
    ports: running.ports,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      await running.close();
      ctx.out(`${goLogTime()} Stopped serving deathstar at http://${ctx.listenHost ?? host}:${running.ports[0]}`);
    },
  };
};

/** The database the json-mock image ships (/default.json). */
export const JSON_MOCK_DEFAULT_DB = {
  private: [{ id: 1, body: 'secret information' }],
  public: [{ id: 1, body: 'public information' }],
  'auth-header-required': [{ id: 1, body: 'super secret information' }],
};

type Db = Record<string, unknown>;

const HOME = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>JSON Server</title></head>
<body>
<h1>Congrats!</h1>
<p>You're successfully running JSON Server</p>
<h2>Resources</h2>
<ul>
RESOURCES
</ul>
</body>
</html>
`;

/**
 * cilium/json-mock: run.sh starts json-server on $PORT (default 80) with $FILE (default the
 * built-in database) and a middleware adding /client-ip, /hostname and the Bearer check on
 * /auth-header-required. Flags passed as args (e.g. --port) go to json-server.
 */
export const jsonMock: Builtin = async (args, ctx) => {
  const { flags, rest } = parseFlags(args, { port: 'string', p: 'string', host: 'string', H: 'string', middlewares: 'string', m: 'string', watch: 'bool', w: 'bool' });
  const port = Number(ctx.env.PORT || str(flags.port) || str(flags.p) || 80);
  const host = str(flags.host) || str(flags.H) || ANY_HOST;
  const file = ctx.env.FILE || rest.find((a) => a.endsWith('.json'));
  let db: Db = structuredClone(JSON_MOCK_DEFAULT_DB);
  if (file && file !== '/default.json') {
    try {
      db = JSON.parse(readFileSync(file, 'utf8')) as Db;
    } catch (e) {
      ctx.err(`  Error reading ${file}: ${(e as Error).message}; using the default database`);
    }
  }
  const hostname = podHostname(ctx.env);
  const pretty = (v: unknown) => JSON.stringify(v, null, 2);
  const jsonHeaders = { 'Content-Type': 'application/json; charset=utf-8', 'X-Powered-By': 'Express', 'Access-Control-Allow-Credentials': 'true', 'Cache-Control': 'no-cache', Vary: 'Origin, Accept-Encoding' };
  const sendJson = (res: ServerResponse, status: number, v: unknown) => send(res, status, pretty(v), jsonHeaders);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    // middleware.js
    if (path.startsWith('/auth-header-required') && req.headers.authorization !== 'Bearer 123456') {
      return send(res, 401, 'Invalid Authorization header, try setting it to "Bearer 123456"', { 'Content-Type': 'text/html; charset=utf-8', 'X-Powered-By': 'Express' });
    }
    if (path.startsWith('/client-ip')) return send(res, 200, JSON.stringify({ 'client-ip': req.socket.remoteAddress }, null, 2), jsonHeaders);
    if (path.startsWith('/hostname')) return send(res, 200, JSON.stringify({ hostname }, null, 2), jsonHeaders);
    // json-server
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      const list = Object.keys(db).map((k) => `<li><a href="/${k}">/${k}</a></li>`).join('\n');
      return send(res, 200, HOME.replace('RESOURCES', list), { 'Content-Type': 'text/html; charset=UTF-8', 'X-Powered-By': 'Express' });
    }
    if (path === '/db' && (method === 'GET' || method === 'HEAD')) return sendJson(res, 200, db);
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const name = parts[0];
    if (!name || parts.length > 2 || !(name in db)) return sendJson(res, 404, {});
    const coll = db[name];
    const id = parts[1];
    let body: unknown = {};
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const raw = (await readBody(req)).toString('utf8');
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        return send(res, 400, `SyntaxError: Unexpected token in JSON`, { 'Content-Type': 'text/html; charset=utf-8' });
      }
      if (typeof body !== 'object' || body === null) body = {};
    } else req.resume();
    if (!Array.isArray(coll)) {
      // A singular resource: GET returns it, PUT/PATCH replace/merge it.
      if (id !== undefined) return sendJson(res, 404, {});
      if (method === 'GET' || method === 'HEAD') return sendJson(res, 200, coll);
      if (method === 'PUT') return sendJson(res, 200, (db[name] = body));
      if (method === 'PATCH') return sendJson(res, 200, (db[name] = { ...(coll as object), ...(body as object) }));
      return sendJson(res, 404, {});
    }
    const items = coll as Record<string, unknown>[];
    const find = () => items.findIndex((it) => String(it.id) === id);
    if (id === undefined) {
      if (method === 'GET' || method === 'HEAD') {
        let out = items;
        for (const [k, v] of url.searchParams) if (!k.startsWith('_')) out = out.filter((it) => String(it[k]) === v);
        return sendJson(res, 200, out);
      }
      if (method === 'POST') {
        const b = body as Record<string, unknown>;
        const item = { ...b, id: b.id ?? items.reduce((m, it) => Math.max(m, Number(it.id) || 0), 0) + 1 };
        items.push(item);
        return sendJson(res, 201, item);
      }
      return sendJson(res, 404, {});
    }
    const i = find();
    if (i < 0) return sendJson(res, 404, {});
    switch (method) {
      case 'GET':
      case 'HEAD':
        return sendJson(res, 200, items[i]);
      case 'PUT':
        items[i] = { ...(body as object), id: items[i]!.id };
        return sendJson(res, 200, items[i]);
      case 'PATCH':
        items[i] = { ...items[i], ...(body as object), id: items[i]!.id };
        return sendJson(res, 200, items[i]);
      case 'DELETE':
        items.splice(i, 1);
        return sendJson(res, 200, {});
      default:
        return sendJson(res, 404, {});
    }
  };
  // morgan 'dev': ":method :url :status :response-time ms - :res[content-length]"
  const server = httpServer(handle, (req, res, ms) => ctx.out(`${req.method} ${req.url} ${res.statusCode} ${ms.toFixed(3)} ms - ${sentBytes(res) || '-'}`));
  const running = await serveHttp(ctx, host, port, server);
  const p = running.ports[0];
  ctx.out('');
  ctx.out('  \\{^_^}/ hi!');
  ctx.out('');
  ctx.out(`  Loading ${file ?? '/default.json'}`);
  ctx.out('  Done');
  ctx.out('');
  ctx.out('  Resources');
  for (const k of Object.keys(db)) ctx.out(`  http://localhost:${p}/${k}`);
  ctx.out('');
  ctx.out('  Home');
  ctx.out(`  http://localhost:${p}`);
  ctx.out('');
  return running;
};
