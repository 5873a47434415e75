/**
 * Reading a node agent's event stream, `GET /v1/monitor`: HTTP/1.1 over the
 * agent's unix socket, NDJSON (one MonitorLine per line, see agent/types.ts).
 * Lines are handed over as they arrive; nothing buffers more than one line.
 *
 * The stream counts as open once the socket is connected and the request
 * sent: an agent may hold back its response headers until the first event
 * (Node sends them with the first body write), and a quiet node must not look
 * unreachable. An error status, whenever it comes, ends the stream as fatal.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { MonitorLine } from '../agent/types.js';
import { AgentUnreachableError } from '../common/errors.js';

/** The agent's event stream (agent/types.ts MonitorLine). */
export const MONITOR_PATH = '/v1/monitor';

export interface MonitorStreamOptions {
  /** How long connecting to the agent's socket may take; default 5000 ms. */
  connectTimeoutMs?: number;
  /** A longer line is an error (a 176-byte record is ~300 bytes of JSON); default 1 MiB. */
  maxLineBytes?: number;
}

/**
 * How a stream ended: closed by us, or by the agent side. `fatal`: the agent
 * refused the stream (an error status); reconnecting would not help.
 */
export type StreamEnd = { by: 'client' } | { by: 'agent'; error?: Error; fatal: boolean };

export interface MonitorStream {
  readonly node: string;
  /** Stops reading and closes the connection. Idempotent. */
  close(): void;
  /** Settles when the stream is over, however it ended. Never rejects. */
  readonly ended: Promise<StreamEnd>;
}

export interface MonitorStreamHandlers {
  line(line: MonitorLine): void;
  /** A line that is not a MonitorLine; the stream goes on. */
  badLine(text: string, why: string): void;
}

/** Why a parsed line is not a MonitorLine, or undefined when it is one. */
export function checkMonitorLine(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (o.node !== undefined && typeof o.node !== 'string') return 'node is not a string';
  if (o.data !== undefined && typeof o.data !== 'string') return 'data is not a string';
  if (o.lost !== undefined && (typeof o.lost !== 'number' || !Number.isSafeInteger(o.lost) || o.lost < 0)) return 'lost is not a count';
  if (o.data === undefined && o.lost === undefined) return 'neither data nor lost';
  return undefined;
}

/**
 * Splits a byte stream into lines and hands each parsed MonitorLine on.
 * Returns a function to feed chunks (undefined: end of stream); it returns
 * an error message when a line grows past maxLine.
 */
export function ndjsonSplitter(on: MonitorStreamHandlers, maxLine = 1 << 20): (chunk: Buffer | undefined) => string | undefined {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const deliver = (text: string) => {
    if (text.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      on.badLine(text, 'not JSON');
      return;
    }
    const why = checkMonitorLine(v);
    if (why) on.badLine(text, why);
    else on.line(v as MonitorLine);
  };
  return (chunk) => {
    if (chunk === undefined) {
      pending += decoder.end();
      const last = pending;
      pending = '';
      deliver(last);
      return undefined;
    }
    pending += decoder.write(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      deliver(text);
    }
    return pending.length > maxLine ? `a line longer than ${maxLine} bytes` : undefined;
  };
}

/**
 * Opens the monitor stream of one agent. Resolves once the agent's socket is
 * connected and the request is on its way; rejects with AgentUnreachableError
 * when the socket cannot be reached in time.
 */
export function openMonitorStream(agent: { node: string; socket: string }, on: MonitorStreamHandlers, opts: MonitorStreamOptions = {}): Promise<MonitorStream> {
  const timeoutMs = opts.connectTimeoutMs ?? 5000;
  const what = `agent ${agent.node} (${agent.socket}): GET ${MONITOR_PATH}`;
  const hint = 'is the agent running? (beeline lab status)';
  return new Promise((resolve, reject) => {
    let opened = false;
    let closedByUs = false;
    let endResolve!: (e: StreamEnd) => void;
    const ended = new Promise<StreamEnd>((r) => (endResolve = r));
    let finished = false;
    /** Set as soon as the agent answers with an error status: however the connection then ends, the end is fatal. */
    let refusal: AgentUnreachableError | undefined;
    const finish = (e: StreamEnd) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      endResolve(closedByUs ? { by: 'client' } : refusal ? { by: 'agent', error: refusal, fatal: true } : e);
    };
    /** Before the stream is open: reject. After: end the stream with the error. */
    const fail = (err: AgentUnreachableError, fatal: boolean) => {
      if (!opened) {
        opened = true;
        reject(err);
      }
      finish({ by: 'agent', error: err, fatal });
      req.destroy();
    };
    const stream: MonitorStream = {
      node: agent.node,
      ended,
      close() {
        if (closedByUs) return;
        closedByUs = true;
        finish({ by: 'client' });
        req.destroy();
      },
    };
    const open = () => {
      if (opened) return;
      opened = true;
      clearTimeout(timer);
      resolve(stream);
    };
    const timer = setTimeout(() => fail(new AgentUnreachableError(`${what}: no connection within ${timeoutMs} ms`, hint), false), timeoutMs);

    const onResponse = (res: IncomingMessage) => {
      open();
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        const refusalHint = status === 404 ? 'this agent has no monitor stream (is it older than this CLI?)' : undefined;
        refusal = new AgentUnreachableError(`${what}: HTTP ${status}`, refusalHint);
        // An error answer is a small JSON document: read it for the message.
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 4096) body += d;
        });
        res.on('end', () => {
          let msg = `HTTP ${status}`;
          try {
            const m = (JSON.parse(body) as { error?: { message?: string } }).error?.message;
            if (m) msg = `${msg}: ${m}`;
          } catch {
            /* not JSON: the status says enough */
          }
          refusal = new AgentUnreachableError(`${what}: ${msg}`, refusalHint);
          fail(refusal, true);
        });
        return;
      }
      const feed = ndjsonSplitter(on, opts.maxLineBytes);
      res.on('data', (chunk: Buffer) => {
        if (closedByUs) return;
        const err = feed(chunk);
        if (err) fail(new AgentUnreachableError(`${what}: ${err}`), true);
      });
      res.on('end', () => {
        if (!closedByUs) feed(undefined);
        finish({ by: 'agent', fatal: false });
      });
      res.on('error', (e) => finish({ by: 'agent', error: e, fatal: false }));
      res.on('close', () => finish({ by: 'agent', fatal: false }));
    };

    // agent: false: a connection of its own, never a pooled one (the stream holds it for good).
    const req: ClientRequest = request(
      { socketPath: agent.socket, method: 'GET', path: MONITOR_PATH, headers: { accept: 'application/x-ndjson' }, agent: false },
      onResponse,
    );
    req.on('socket', (sock: Socket) => {
      if (!sock.connecting) open();
      else sock.once('connect', open);
    });
    req.on('error', (e) => {
      if (closedByUs) return;
      if (!opened) fail(new AgentUnreachableError(`${what}: ${e.message}`, hint), false);
      else finish({ by: 'agent', error: e, fatal: false });
    });
    req.on('close', () => finish({ by: 'agent', fatal: false }));
    req.end();
  });
}
