/**
 * The agent's local API: HTTP/1.1 on a unix socket (like cilium-agent's
 * /var/run/cilium/cilium.sock). JSON in and out; errors as
 * `{ error: { code, message } }` with a 4xx/5xx status.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, unlinkSync } from 'node:fs';
import { BeelineError } from '../common/errors.js';

export type Handler = (req: IncomingMessage, body: unknown) => Promise<unknown> | unknown;

export class ApiServer {
  private readonly routes = new Map<string, Handler>();
  private server: Server | undefined;

  route(method: string, path: string, h: Handler): this {
    this.routes.set(`${method} ${path}`, h);
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const h = this.routes.get(`${req.method} ${path}`);
    const send = (status: number, obj: unknown) => {
      const text = JSON.stringify(obj, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    };
    if (!h) return send(404, { error: { code: 'BL_ERR_NOT_FOUND', message: `no route ${req.method} ${path}` } });
    let raw = '';
    for await (const chunk of req) raw += chunk;
    try {
      const body = raw ? JSON.parse(raw) : undefined;
      send(200, await h(req, body));
    } catch (e) {
      const code = e instanceof BeelineError ? e.code : 'BL_ERR_INTERNAL';
      send(e instanceof SyntaxError ? 400 : 500, { error: { code, message: (e as Error).message } });
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
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
