/**
 * `beeline ui`'s server: the web app's files (dist/ui, built from ui/) and
 * the API the app calls (api/ui/ui.proto): the relay's Observer and
 * ServiceMap forwarded as JSON/NDJSON, plus the UI's own rpcs. It listens on
 * loopback by default and reaches the relay over its unix socket, so the
 * browser never needs a route into the lab.
 *
 * Requests from other sites are refused: the Host header must name the
 * address the server listens on (DNS rebinding), and a POST's Origin, when
 * present, must be the server's own (cross-site requests).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { Metadata, status as GrpcStatus, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { observerClient, serviceMapClient } from '../api/grpc.js';
import type { ErrorReply } from '../api/generated/ui/ErrorReply.js';
import type { UiConfig } from '../api/generated/ui/UiConfig.js';
import type { ParseFilterReply } from '../api/generated/ui/ParseFilterReply.js';
import type { SuggestPolicyRequest__Output } from '../api/generated/ui/SuggestPolicyRequest.js';
import type { SuggestPolicyReply } from '../api/generated/ui/SuggestPolicyReply.js';
import type { ExportFlowsRequest__Output } from '../api/generated/ui/ExportFlowsRequest.js';
import type { ExportFlowsReply } from '../api/generated/ui/ExportFlowsReply.js';
import { BeelineError, ObserverUnreachableError, UiNotBuiltError, UiRequestError, UsageError } from '../common/errors.js';
import { version } from '../common/version.js';
import { readBody } from '../common/body.js';
import { compileFlowFilters } from '../observer/filter.js';
import { FlowPrinter } from '../observer/printer.js';
import type { FlowFilter, GetFlowsRequest, GetFlowsResponse } from '../observer/types.js';
import { stableLabels } from '../policy/suggest.js';
import { callError, parseTimeFlag } from '../cli/observe.js';
import { suggestFromObserver, suggestOptions, suggestionYaml } from '../cli/policy.js';
import { parseFilterText } from './filter-text.js';

export interface UiServerOptions {
  /** The relay's gRPC address (`unix:///…/observer.sock`). */
  relay: string;
  /** The lab, when started for one (shown in the app). */
  lab?: string;
  /** Where to listen: 127.0.0.1 by default. */
  address?: string;
  /** 0: a free port. */
  port: number;
  /** The built app (dist/ui). */
  staticDir: string;
  /** How long a call waits for the relay before answering 503. */
  relayTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface UiServer {
  /** `http://127.0.0.1:12000/` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Request bodies: the export carries the flows the app holds (up to 100k); everything else is small. */
const MAX_BODY = 1 << 20;
const MAX_EXPORT_BODY = 256 << 20;
/** Bytes of a stream held for a slow browser before the relay's stream is paused. */
const STREAM_BUFFER = 32 << 20;
/** A stream's lines are written together up to about this many characters. */
const BATCH_BYTES = 1 << 20;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

function errorReply(e: unknown): { status: number; body: ErrorReply } {
  if (e instanceof BeelineError) {
    const status =
      e instanceof UiRequestError ? e.status
      : e instanceof UiNotBuiltError ? 500
      : e instanceof ObserverUnreachableError ? 503
      : e.code === 'BL_ERR_USAGE' || e.code === 'BL_ERR_FLOW_FILTER' || (e as { grpcCode?: string }).grpcCode === 'INVALID_ARGUMENT' ? 400
      : 502;
    return { status, body: { error: { code: e.code, message: e.message, hint: e.hint ?? '' } } };
  }
  return { status: 500, body: { error: { code: 'BL_ERR_INTERNAL', message: e instanceof Error ? e.message : String(e), hint: '' } } };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readBody(req, limit, () => new UiRequestError(413, `request body over ${limit} bytes`));
  if (text.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v;
  } catch (e) {
    throw new UiRequestError(400, `request body: ${(e as Error).message}`, 'the request message as a JSON object');
  }
}

/** The relay's answer to an error from a gRPC call, as the CLI words it. */
function relayError(e: ServiceError, relay: string, what: string): Error {
  if (e.message?.includes('serialization failure')) return new UiRequestError(400, `${what}: the request does not fit its message type: ${e.details || e.message}`);
  return callError(e, relay, what);
}

type StreamCall = (client: Client, req: object) => ClientReadableStream<object>;
type UnaryCall = (client: Client, req: object, deadline: Date, cb: (e: ServiceError | null, r?: object) => void) => void;

export async function startUiServer(o: UiServerOptions): Promise<UiServer> {
  const address = o.address ?? '127.0.0.1';
  const relayTimeoutMs = o.relayTimeoutMs ?? 2000;
  const observer = observerClient(o.relay);
  const serviceMap = serviceMapClient(o.relay);
  const staticRoot = resolve(o.staticDir);
  const log = o.log ?? (() => {});

  const ready = (client: Client, what: string) =>
    new Promise<void>((ok, fail) =>
      client.waitForReady(Date.now() + relayTimeoutMs, (e) =>
        e ? fail(new ObserverUnreachableError(`${what}: relay at ${o.relay} unreachable: ${e.message}`, { hint: 'is the lab up? see beeline lab status' })) : ok(),
      ),
    );

  const streams: Record<string, { client: Client; call: StreamCall }> = {
    'observer.Observer/GetFlows': { client: observer, call: (c, r) => (c as typeof observer).GetFlows(r as GetFlowsRequest, new Metadata()) as ClientReadableStream<object> },
    'servicemap.ServiceMap/WatchServiceMap': { client: serviceMap, call: (c, r) => (c as typeof serviceMap).WatchServiceMap(r, new Metadata()) as ClientReadableStream<object> },
  };
  const unaries: Record<string, { client: Client; call: UnaryCall }> = {
    'observer.Observer/ServerStatus': { client: observer, call: (c, r, deadline, cb) => (c as typeof observer).ServerStatus(r, { deadline }, cb) },
    'observer.Observer/GetNodes': { client: observer, call: (c, r, deadline, cb) => (c as typeof observer).GetNodes(r, { deadline }, cb) },
    'servicemap.ServiceMap/GetServiceMap': { client: serviceMap, call: (c, r, deadline, cb) => (c as typeof serviceMap).GetServiceMap(r, { deadline }, cb) },
  };
  const own: Record<string, (req: Record<string, unknown>) => Promise<object>> = {
    'ui.Ui/GetConfig': async (): Promise<UiConfig> => ({ relay: o.relay, lab: o.lab ?? '', version }),
    'ui.Ui/ParseFilter': async (req): Promise<ParseFilterReply> => {
      const text = typeof req.text === 'string' ? req.text : '';
      return parseFilterText(text);
    },
    'ui.Ui/SuggestPolicy': (req) => suggest(req as unknown as SuggestPolicyRequest__Output),
    'ui.Ui/ExportFlows': async (req): Promise<ExportFlowsReply> => {
      const flows = (req as unknown as ExportFlowsRequest__Output).flows;
      if (!Array.isArray(flows)) throw new UiRequestError(400, 'ExportFlows: flows: expected a list of GetFlowsResponse');
      const lines: string[] = [];
      const printer = new FlowPrinter({ output: 'json', timeFormat: 'RFC3339', nodeName: true, policyNames: true, ipTranslation: true, debug: false, out: (s) => void lines.push(s), err: () => {} });
      flows.forEach((f, i) => {
        if (typeof f !== 'object' || f === null) throw new UiRequestError(400, `ExportFlows: flows[${i}]: not a GetFlowsResponse`);
        try {
          printer.write(f as GetFlowsResponse);
        } catch (e) {
          throw new UiRequestError(400, `ExportFlows: flows[${i}]: ${(e as Error).message}`);
        }
      });
      printer.close();
      return { jsonl: lines.join('') };
    },
  };

  async function suggest(req: SuggestPolicyRequest__Output): Promise<SuggestPolicyReply> {
    const labels = Object.entries(req.labels ?? {}).map(([k, v]) => `${k}=${v}`);
    // The map's labels carry their source (`k8s:app=web`): the stable ones, as `policy suggest` would pick them.
    const selector = labels.some((l) => /^[a-z0-9-]+:/.test(l)) ? Object.entries(stableLabels(labels)).map(([k, v]) => `${k}=${v}`) : labels;
    if (labels.length && !selector.length) throw new UsageError('SuggestPolicy: labels: none of them is a stable pod label', 'select the workload by its k8s labels, e.g. app=web');
    const opts = suggestOptions({ namespace: req.namespace, pod: req.pods ?? [], label: selector, kind: req.kind || 'cnp', l7: !!req.l7 });
    const since = req.since ?? parseTimeFlag('since', '1h');
    const { result: r, flows } = await suggestFromObserver(o.relay, opts, since, relayTimeoutMs, 'SuggestPolicy');
    return {
      yaml: suggestionYaml(r),
      rules: r.explanations.map((e) => ({ policy: e.policy, direction: e.direction, index: e.index, peer: e.peer, ports: e.ports, flows: e.flows, example: e.example })),
      warnings: r.warnings,
      flows,
    };
  }

  async function api(req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
    if (req.method !== 'POST') throw new UiRequestError(405, `${route}: use POST with the request message as JSON`);
    const body = (await readJsonBody(req, route === 'ui.Ui/ExportFlows' ? MAX_EXPORT_BODY : MAX_BODY)) as Record<string, unknown>;
    const mine = own[route];
    if (mine) return sendJson(res, 200, await mine(body));
    const unary = unaries[route];
    if (unary) {
      await ready(unary.client, route);
      const reply = await new Promise<object>((ok, fail) => unary.call(unary.client, body, new Date(Date.now() + relayTimeoutMs * 5), (e, r) => (e ? fail(relayError(e, o.relay, route)) : ok(r ?? {}))));
      return sendJson(res, 200, reply);
    }
    const stream = streams[route];
    if (!stream) throw new UiRequestError(404, `no rpc ${route}`, 'see api/ui/ui.proto for the routes');
    // A filter that does not compile is the browser's mistake: say so before asking the relay.
    compileFlowFilters((body.whitelist ?? []) as FlowFilter[], (body.blacklist ?? []) as FlowFilter[]);
    await ready(stream.client, route);
    const call = stream.call(stream.client, body);
    // Streams that never end by themselves: an end is the relay going away.
    const endless = route === 'servicemap.ServiceMap/WatchServiceMap' || body.follow === true;
    let started = false;
    let ended = false;
    let leaving = false;
    // Lines wait for the end of the event loop's turn (or BATCH_BYTES) and go out as one chunk: a burst
    // (the first 10,000 flows) in a few hundred writes instead of one write and one HTTP chunk per flow.
    let batch: string[] = [];
    let batchBytes = 0;
    let flushing: NodeJS.Immediate | undefined;
    const flush = () => {
      clearImmediate(flushing);
      flushing = undefined;
      if (!batch.length) return;
      const text = batch.join('');
      batch = [];
      batchBytes = 0;
      if (!res.writableEnded) res.write(text);
      // Taken whole into the socket's buffer; only a browser that stops reading for longer slows the
      // relay down. Pausing at every full 16 KiB buffer made the relay, the nodes and the browser wait
      // on each other's turns.
      if (res.writableLength > STREAM_BUFFER) call.pause();
    };
    const trailer = (e: Error) => {
      flush();
      if (res.writableEnded) return;
      const { status, body: reply } = errorReply(e);
      if (!started && !res.headersSent) sendJson(res, status, reply);
      else res.end(JSON.stringify(reply) + '\n');
    };
    const start = () => {
      if (started || res.headersSent) return;
      started = true;
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.flushHeaders();
    };
    // The first answer of a follow with nothing to send may take long: the browser knows the stream is up.
    const headerTimer = setTimeout(start, 300);
    await new Promise<void>((done) => {
      const finish = () => {
        if (ended) return;
        ended = true;
        clearTimeout(headerTimer);
        done();
      };
      res.on('close', () => {
        leaving = true;
        clearImmediate(flushing);
        call.cancel();
        finish();
      });
      res.on('drain', () => {
        if (res.writableLength <= STREAM_BUFFER) call.resume();
      });
      call.on('data', (m: object) => {
        if (res.writableEnded) return;
        start();
        const line = JSON.stringify(m) + '\n';
        batch.push(line);
        batchBytes += line.length;
        if (batchBytes >= BATCH_BYTES) flush();
        else flushing ??= setImmediate(flush);
      });
      call.on('error', (e: ServiceError) => {
        if (leaving) return finish();
        // The relay cancelling (shutting down) reads as CANCELLED here: it went away all the same.
        trailer(e.code === GrpcStatus.CANCELLED ? new ObserverUnreachableError(`${route}: the relay at ${o.relay} ended the stream`, { hint: 'reconnect' }) : relayError(e, o.relay, route));
        finish();
      });
      call.on('end', () => {
        if (endless && !leaving) trailer(new ObserverUnreachableError(`${route}: the relay at ${o.relay} ended the stream`, { hint: 'reconnect' }));
        else if (!res.writableEnded) {
          start();
          flush();
          res.end();
        }
        finish();
      });
    });
  }

  function serveFile(req: IncomingMessage, res: ServerResponse, pathname: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new UiRequestError(405, `${req.method} ${pathname}: not allowed`);
    let rel = normalize(decodeURIComponent(pathname)).replace(/^[/\\]+/, '');
    // The app is one page: paths without a file extension are the app.
    if (rel === '' || rel === '.' || !extname(rel)) rel = 'index.html';
    const file = resolve(staticRoot, rel);
    if (file !== staticRoot && !file.startsWith(staticRoot + sep)) throw new UiRequestError(404, `${pathname}: not found`);
    if (!existsSync(file) || !statSync(file).isFile()) {
      if (rel === 'index.html') throw new UiNotBuiltError(`the web app is not built: no ${join(o.staticDir, 'index.html')}`);
      throw new UiRequestError(404, `${pathname}: not found`);
    }
    const data = readFileSync(file);
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': data.length,
      // Vite names the assets by content; the page itself is always fetched anew.
      'cache-control': rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'",
    });
    res.end(req.method === 'HEAD' ? undefined : data);
  }

  let port = o.port;
  const loopback = address === '127.0.0.1' || address === 'localhost' || address === '::1';
  const allowedHost = (host: string | undefined) => {
    if (!loopback) return true; // listening beyond loopback was asked for: any name may reach it
    if (!host) return false;
    return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host.toLowerCase());
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    const handle = async () => {
      if (!allowedHost(req.headers.host)) throw new UiRequestError(403, `Host ${req.headers.host ?? '(none)'}: not this server's address`, `open http://127.0.0.1:${port}/`);
      if (url.pathname.startsWith('/api/')) {
        const origin = req.headers.origin;
        if (origin && origin !== `http://${req.headers.host}`) throw new UiRequestError(403, `Origin ${origin}: requests from other sites are refused`);
        return api(req, res, url.pathname.slice('/api/'.length));
      }
      return serveFile(req, res, url.pathname);
    };
    handle().catch((e: unknown) => {
      const { status, body } = errorReply(e);
      if (status >= 500 && status !== 503) log(`${req.method} ${url.pathname}: ${body.error?.message}`);
      if (!res.headersSent) sendJson(res, status, body);
      else res.end();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new UsageError(`ui: cannot listen on ${address}:${o.port}: ${e.code ?? e.message}`, e.code === 'EADDRINUSE' ? 'another program has the port: pass --port' : 'check --address')));
    server.listen(o.port, address, () => ok());
  });
  const a = server.address();
  port = typeof a === 'object' && a ? a.port : o.port;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((ok) => {
        observer.close();
        serviceMap.close();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
