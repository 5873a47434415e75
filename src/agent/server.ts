/**
 * The agent's local API: HTTP/1.1 on a unix socket (like cilium-agent's
 * /var/run/cilium/cilium.sock). JSON in and out; errors as
 * `{ error: { code, message, field? } }` with a 4xx/5xx status (`field`: the
 * request field at fault, when one is). Request bodies are limited to
 * MAX_BODY_BYTES (413). The socket is the node's control: it is created
 * mode 0600, and a socket another agent still answers on is never taken over.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { readBody } from '../common/body.js';
import { AgentRunningError, BeelineError, RequestTooLargeError, UsageError } from '../common/errors.js';

export type Handler = (req: IncomingMessage, body: unknown, query: URLSearchParams) => Promise<unknown> | unknown;
/** A handler that writes the response itself (streams). */
export type StreamHandler = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void;
/** A handler that gets the body unparsed and writes the response itself (the CNI route: its body is the plugin's stdin). */
export type RawHandler = (req: IncomingMessage, res: ServerResponse, body: string) => Promise<void>;

/** HTTP status for an error code; anything unlisted is a 500. */
const STATUS: Record<string, number> = {
  BL_ERR_USAGE: 400,
  BL_ERR_ENDPOINT_INVALID: 400,
  BL_ERR_ENDPOINT_INTERFACE: 403,
  BL_ERR_ENDPOINT_ADDRESS: 403,
  BL_ERR_REQUEST_TOO_LARGE: 413,
  BL_ERR_NOT_FOUND: 404,
  BL_ERR_IPAM_EXHAUSTED: 507,
  BL_ERR_ENDPOINT_LIMIT: 507,
};

/** The largest request body any route takes: an endpoint request is under 1 KiB, a CNI network configuration a few. */
export const MAX_BODY_BYTES = 1 << 20;

/** How long a probe of an existing socket waits for an agent to accept. */
const PROBE_TIMEOUT_MS = 1000;

/** The error reply of a failure: its code, message and (for a request field at fault) the field. */
export function errorReply(e: unknown): { status: number; body: { error: { code: string; message: string; field?: string } } } {
  const code = e instanceof BeelineError ? e.code : 'BL_ERR_INTERNAL';
  const field = (e as { field?: unknown }).field;
  return { status: STATUS[code] ?? 500, body: { error: { code, message: (e as Error).message, ...(typeof field === 'string' && field !== '' ? { field } : {}) } } };
}

/**
 * What answers on a unix socket path: 'agent' (something accepts), 'stale'
 * (a socket nobody listens on), 'none' (no such path). Anything else there
 * (a file, a directory) is an error: it is not ours to remove.
 */
export async function probeSocket(path: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<'agent' | 'stale' | 'none'> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw e;
  }
  if (!isSocket) throw new UsageError(`agent socket ${path}: exists and is not a socket; refusing to remove it`);
  return new Promise((resolve) => {
    const s = connect({ path });
    const done = (r: 'agent' | 'stale') => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    // A listener that does not accept within the timeout is still a listener (a busy agent).
    const timer = setTimeout(() => done('agent'), timeoutMs);
    s.once('connect', () => done('agent'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' || e.code === 'ENOENT' ? 'stale' : 'agent'));
  });
}

const json = (obj: unknown) => JSON.stringify(obj, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

export class ApiServer {
  private readonly routes = new Map<string, Handler>();
  private readonly streams = new Map<string, StreamHandler>();
  private readonly raws = new Map<string, RawHandler>();
  private server: Server | undefined;

  constructor(private readonly maxBodyBytes = MAX_BODY_BYTES) {}

  route(method: string, path: string, h: Handler): this {
    this.routes.set(`${method} ${path}`, h);
    return this;
  }

  stream(path: string, h: StreamHandler): this {
    this.streams.set(`GET ${path}`, h);
    return this;
  }

  raw(method: string, path: string, h: RawHandler): this {
    this.raws.set(`${method} ${path}`, h);
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const key = `${req.method} ${url.pathname}`;
    const send = (status: number, obj: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(json(obj));
    };
    const s = this.streams.get(key);
    if (s) return s(req, res, url.searchParams);
    const r = this.raws.get(key);
    const h = r ? undefined : this.routes.get(key);
    if (!r && !h) return send(404, { error: { code: 'BL_ERR_NOT_FOUND', message: `no route ${req.method} ${url.pathname}` } });
    let raw: string;
    try {
      raw = await readBody(req, this.maxBodyBytes, () => new RequestTooLargeError(`${req.method} ${url.pathname}: request body over ${this.maxBodyBytes} bytes`));
    } catch (e) {
      // The rest of the body is read into nothing (readBody), so the client, still sending, gets the answer.
      const { status, body } = errorReply(e);
      return send(status, body);
    }
    if (r) {
      try {
        await r(req, res, raw);
      } catch (e) {
        if (!res.headersSent) send(500, { error: { code: 'BL_ERR_INTERNAL', message: (e as Error).message } });
      }
      return;
    }
    try {
      const body = raw ? JSON.parse(raw) : undefined;
      send(200, await h!(req, body, url.searchParams));
    } catch (e) {
      if (e instanceof SyntaxError) return send(400, { error: { code: 'BL_ERR_USAGE', message: `request body is not JSON: ${e.message}` } });
      const { status, body } = errorReply(e);
      send(status, body);
    }
  }

  /**
   * Throws AgentRunningError when an agent answers on `socketPath`: the agent
   * asks before it touches anything (a second agent must not replace the
   * first one's programs either), and listen() asks again.
   */
  static async checkFree(socketPath: string): Promise<'stale' | 'none'> {
    const found = await probeSocket(socketPath);
    if (found === 'agent') throw new AgentRunningError(`agent socket ${socketPath}: another agent is listening on it`);
    return found;
  }

  /**
   * Listens on `socketPath`, mode 0600. A socket left by a killed agent is
   * removed (listen() would fail with EADDRINUSE); one that an agent still
   * answers on is left alone and this agent does not start (AgentRunningError).
   */
  async listen(socketPath: string): Promise<void> {
    if ((await ApiServer.checkFree(socketPath)) === 'stale') unlinkSync(socketPath);
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // bind() makes the socket file with the process umask: never let it be wider than 0600, not even for a moment.
      const umask = process.umask(0o177);
      try {
        server.listen(socketPath, () => resolve());
      } finally {
        process.umask(umask);
      }
    });
    chmodSync(socketPath, 0o600);
  }

  close(): Promise<void> {
    if (!this.server) return Promise.resolve();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}
