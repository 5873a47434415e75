/**
 * A stand-in for a Kubernetes API server that replays recorded responses over
 * HTTP on 127.0.0.1: scripted answers per `METHOD path`, taken in order, and
 * watch streams (chunked JSON lines, one event per line) that end, or stay open
 * until the server closes. Every request is recorded so tests can check what
 * the client asked for (resourceVersion, labelSelector, watch=true).
 *
 * No API server runs on these machines; the store's Kubernetes mode is tested
 * against this, not a live cluster.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeTestKubeconfig } from './kubeconfig.js';

/** One scripted answer. `events` makes it a watch stream; `hold` keeps that stream open after the events. */
export interface Recorded {
  status?: number;
  body?: unknown;
  events?: unknown[];
  hold?: boolean;
  /** Delay between streamed events, ms (default 10). */
  gapMs?: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface FakeApiServer {
  url: string;
  /** A kubeconfig naming this server (written to a temp file). */
  kubeconfig: string;
  /** Queues answers for `METHOD /path` (watch requests are `WATCH /path`). */
  script(key: string, ...answers: Recorded[]): void;
  requests: SeenRequest[];
  /** Resolves when `n` requests matching `key` have been seen. */
  waitFor(key: string, n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const gone = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'too old resource version',
  reason: 'Expired',
  code: 410,
};

/** The recorded 410: as an HTTP answer, and as the ERROR event a watch stream carries. */
export const GONE_STATUS: Recorded = { status: 410, body: gone };
export const GONE_EVENT = { type: 'ERROR', object: gone };

export async function startFakeApiServer(): Promise<FakeApiServer> {
  const scripts = new Map<string, Recorded[]>();
  const requests: SeenRequest[] = [];
  const open = new Set<ServerResponse>();
  const waiters: { key: string; n: number; resolve: () => void }[] = [];
  const keyOf = (r: SeenRequest) => `${r.query.watch === 'true' ? 'WATCH' : r.method} ${r.path}`;
  const count = (key: string) => requests.filter((r) => keyOf(r) === key).length;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://x');
    const text = Buffer.concat(chunks).toString();
    const seen: SeenRequest = { method: req.method ?? 'GET', path: u.pathname, query: Object.fromEntries(u.searchParams), body: text ? JSON.parse(text) : undefined };
    requests.push(seen);
    const key = keyOf(seen);
    for (const w of waiters.filter((w) => w.key === key && count(key) >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    const answer = scripts.get(key)?.shift();
    if (!answer) {
      if (key.startsWith('WATCH ')) {
        // Nothing more recorded: an idle watch, open until the server closes.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        open.add(res);
        res.on('close', () => open.delete(res));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `nothing recorded for ${key}` }));
      return;
    }
    if (!answer.events) {
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body ?? {}));
      return;
    }
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    open.add(res);
    res.on('close', () => open.delete(res));
    for (const ev of answer.events) {
      res.write(JSON.stringify(ev) + '\n');
      await new Promise((r) => setTimeout(r, answer.gapMs ?? 10));
    }
    if (!answer.hold) res.end();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const kubeconfig = writeTestKubeconfig(url, 'fake-apiserver', 'recorded');
  return {
    url,
    kubeconfig,
    requests,
    script(key, ...answers) {
      scripts.set(key, [...(scripts.get(key) ?? []), ...answers]);
    },
    waitFor(key, n, timeoutMs = 10_000) {
      if (count(key) >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`fake apiserver: ${count(key)} of ${n} '${key}' requests after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ key, n, resolve: () => (clearTimeout(t), resolve()) });
      });
    },
    async close() {
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dirname(kubeconfig), { recursive: true, force: true });
    },
  };
}
