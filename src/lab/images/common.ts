// Shared plumbing for beeline's built-in image implementations (see docs/images.md).
// Keep this file cheap to import: node:http/node:os only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname as osHostname } from 'node:os';

/** What a built-in implementation gets from its runner (main.ts, or a test). */
export interface BuiltinContext {
  /** The container's environment. */
  env: NodeJS.ProcessEnv;
  /** Write a line (no newline needed) to the container's stdout / stderr. */
  out: (line: string) => void;
  err: (line: string) => void;
  /** Listen-address overrides (tests): replaces the host, and the main TCP port, an image would use. */
  listenHost?: string;
  listenPort?: number;
  /** Terminate the container with this exit status (a server's own decision, e.g. a crash). */
  exit: (code: number) => void;
}

/** A started implementation. */
export interface Running {
  /** The ports actually bound, main TCP port first. */
  ports: number[];
  /** Stop serving (SIGTERM). */
  close(): Promise<void>;
}

export type Builtin = (args: string[], ctx: BuiltinContext) => Promise<Running>;

/** Default listen host of every built-in server: all IPv4 addresses of the pod's namespace. */
export const ANY_HOST = '0.0.0.0';

export function podHostname(env: NodeJS.ProcessEnv): string {
  return env.HOSTNAME || osHostname();
}

/** Go's log package timestamp, "2006/01/02 15:04:05" (local time). */
export function goLogTime(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Common/combined log format time, "10/Oct/2000:13:55:36 +0000". */
export function clfTime(d = new Date()): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const tz = `${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${p(d.getDate())}/${months[d.getMonth()]}/${d.getFullYear()}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${tz}`;
}

/** The peer as Go prints r.RemoteAddr: "1.2.3.4:5678" or "[fd00::1]:5678" (IPv4-mapped IPv6 unwrapped). */
export function remoteAddr(req: IncomingMessage): string {
  const ip = remoteIP(req);
  const port = req.socket.remotePort ?? 0;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function remoteIP(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** Go's canonical MIME header key: "user-agent" → "User-Agent". */
export function canonicalHeader(k: string): string {
  return k
    .split('-')
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1).toLowerCase() : w))
    .join('-');
}

export async function readBody(req: IncomingMessage, limit = 10 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    const b = c as Buffer;
    n += b.length;
    if (n > limit) break;
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Finish a response with a body (sets Content-Length; HEAD sends no body). */
export function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', buf.length);
  res.end(res.req?.method === 'HEAD' ? undefined : buf);
}

/** Bytes of the response body sent so far (for access logs). */
export function sentBytes(res: ServerResponse): number {
  const cl = res.getHeader('Content-Length');
  return typeof cl === 'number' ? cl : Number(cl ?? 0) || 0;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * An HTTP server running `handler`, calling `log(req, res, ms)` once per finished request.
 * A handler that throws answers 500.
 */
export function httpServer(handler: Handler, log?: (req: IncomingMessage, res: ServerResponse, ms: number) => void): Server {
  const server = createServer((req, res) => {
    const start = process.hrtime.bigint();
    if (log) res.on('finish', () => log(req, res, Number(process.hrtime.bigint() - start) / 1e6));
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((e: unknown) => {
        if (!res.headersSent) send(res, 500, `internal error: ${(e as Error).message}\n`, { 'Content-Type': 'text/plain' });
        else res.destroy();
      });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

/** Listen; resolves with the bound port. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}

/** Stop accepting, drop idle keep-alive connections, wait for in-flight requests (at most `graceMs`). */
export function closeServer(server: Server, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const t = setTimeout(() => {
      server.closeAllConnections();
    }, graceMs);
    t.unref();
    server.close(() => {
      clearTimeout(t);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Start one HTTP server on (override ?? host, override ?? port). */
export async function serveHttp(ctx: BuiltinContext, defaultHost: string, defaultPort: number, server: Server): Promise<Running> {
  const port = await listen(server, ctx.listenHost ?? defaultHost, ctx.listenPort ?? defaultPort);
  return { ports: [port], close: () => closeServer(server) };
}

/** Parse "host:port", ":port" or "port" (Go listen addresses). */
export function parseHostPort(s: string, defaultHost = ANY_HOST): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s);
  if (m) return { host: m[1] ?? (m[2] || defaultHost), port: Number(m[3]) };
  if (/^\d+$/.test(s)) return { host: defaultHost, port: Number(s) };
  throw new Error(`invalid listen address ${JSON.stringify(s)}`);
}

/**
 * A small flag parser covering Go's flag package and pflag/cobra spellings:
 * -name=value, --name=value, -name value, --name value; booleans as -name / -name=false.
 * Returns the values and the positional arguments.
 */
export function parseFlags(args: string[], spec: Record<string, 'string' | 'bool'>): { flags: Record<string, string | boolean>; rest: string[]; unknown: string[] } {
  const flags: Record<string, string | boolean> = {};
  const rest: string[] = [];
  const unknown: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    const m = /^--?([A-Za-z0-9][\w.-]*)(?:=(.*))?$/s.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const name = m[1]!;
    const kind = spec[name];
    if (!kind) {
      unknown.push(a);
      continue;
    }
    if (kind === 'bool') flags[name] = m[2] === undefined ? true : !/^(false|0|f)$/i.test(m[2]);
    else if (m[2] !== undefined) flags[name] = m[2];
    else if (i + 1 < args.length) flags[name] = args[++i]!;
    else unknown.push(a);
  }
  return { flags, rest, unknown };
}

export function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Wait until the process is told to stop; for images that only idle. */
export function idle(): Running {
  const t = setInterval(() => {}, 1 << 30);
  return {
    ports: [],
    close: async () => clearInterval(t),
  };
}
