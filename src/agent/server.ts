/**
 * The agent's local API: HTTP/1.1 on a unix socket (like cilium-agent's
 * /var/run/cilium/cilium.sock). JSON in and out; errors as
 * `{ error: { code, message } }` with a 4xx/5xx status.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, unlinkSync } from 'node:fs';
import { BeelineError } from '../common/errors.js';

export type Handler = (req: IncomingMessage, body: unknown, query: URLSearchParams) => Promise<unknown> | unknown;
/** A handler that writes the response itself (streams). */
export type StreamHandler = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void;
/** A handler that gets the body unparsed and writes the response itself (the CNI route: its body is the plugin's stdin). */
export type RawHandler = (req: IncomingMessage, res: ServerResponse, body: string) => Promise<void>;

/** HTTP status for an error code; anything unlisted is a 500. */
const STATUS: Record<string, number> = {
  BL_ERR_USAGE: 400,
  BL_ERR_ENDPOINT_INVALID: 400,
  BL_ERR_NOT_FOUND: 404,
  BL_ERR_IPAM_EXHAUSTED: 507,
  BL_ERR_ENDPOINT_LIMIT: 507,
};

const json = (obj: unknown) => JSON.stringify(obj, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

export class ApiServer {
  private readonly routes = new Map<string, Handler>();
  private readonly streams = new Map<string, StreamHandler>();
  private readonly raws = new Map<string, RawHandler>();
  private server: Server | undefined;

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
    if (r) {
      let body = '';
      for await (const chunk of req) body += chunk;
      try {
        await r(req, res, body);
      } catch (e) {
        if (!res.headersSent) send(500, { error: { code: 'BL_ERR_INTERNAL', message: (e as Error).message } });
      }
      return;
    }
    const h = this.routes.get(key);
    if (!h) return send(404, { error: { code: 'BL_ERR_NOT_FOUND', message: `no route ${req.method} ${url.pathname}` } });
    let raw = '';
    for await (const chunk of req) raw += chunk;
    try {
      const body = raw ? JSON.parse(raw) : undefined;
      send(200, await h(req, body, url.searchParams));
    } catch (e) {
      if (e instanceof SyntaxError) return send(400, { error: { code: 'BL_ERR_USAGE', message: `request body is not JSON: ${e.message}` } });
      const code = e instanceof BeelineError ? e.code : 'BL_ERR_INTERNAL';
      send(STATUS[code] ?? 500, { error: { code, message: (e as Error).message } });
    }
  }

  listen(socketPath: string): Promise<void> {
    // A stale socket from a killed agent would make listen() fail with EADDRINUSE.
    if (existsSync(socketPath)) unlinkSync(socketPath);
    this.server = createServer((req, res) => void this.handle(req, res));
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(socketPath, () => resolve());
    });
  }

  close(): Promise<void> {
    if (!this.server) return Promise.resolve();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}
