/**
 * A raw HTTP/1.1 client for the privileged L7 tests, run INSIDE a lab pod
 * (`beeline exec -i -n NS POD -- node dist/test/lib/pod-http-client.js`): it
 * reads commands as JSON lines on stdin and answers each with one JSON line
 * (same `rid`) on stdout. The test side is `PodHttpClient` (test/lib/pod-http.ts).
 *
 * Commands:
 *   batch   cases over their own connections (test/lib/http-probes.ts exchange), `concurrency` at a time
 *   open    a connection kept under an id (keep-alive across the test's steps)
 *   request write raw bytes on it and read one response (Content-Length, chunked or close)
 *   state   whether the peer closed it
 *   poll    a fresh connection + one request every `everyMs` until the status comes; answers the
 *           wall-clock time (ms since the epoch) of the first success
 * Refuses to run in the machine's root network namespace (it is a traffic generator).
 */
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type Socket } from 'node:net';
import { assertNotRootNetns } from '../../src/lab/safety.js';
import { exchange, type ExchangeOptions, type ExchangeResult } from './http-probes.js';

export interface BatchCase extends ExchangeOptions {
  name: string;
  steps: string[];
}
export type PodCommand =
  | { rid: number; op: 'batch'; host: string; port: number; cases: BatchCase[]; concurrency?: number }
  | { rid: number; op: 'open'; id: string; host: string; port: number }
  | { rid: number; op: 'request'; id: string; data: string; timeoutMs?: number }
  | { rid: number; op: 'state'; id: string }
  | { rid: number; op: 'poll'; host: string; port: number; data: string; status: number; everyMs: number; attemptMs: number; timeoutMs: number };

export interface BatchResult extends ExchangeResult {
  name: string;
}
export interface ResponseResult {
  status?: number;
  body?: string;
  closed: boolean;
  ms: number;
  timedOut?: boolean;
}

/** Bytes kept of each exchange's answer (a 403 page or a 400 fits). */
const TEXT_MAX = 4096;

interface Conn {
  s: Socket;
  buf: string;
  closed: boolean;
  wake?: () => void;
}
const conns = new Map<string, Conn>();

/** One complete response at the start of buf: [status, body, bytes used], skipping 1xx; undefined if not complete yet. */
export function parseResponse(buf: string, closed: boolean): [number, string, number] | undefined {
  let off = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', off);
    if (end < 0) return undefined;
    const head = buf.slice(off, end);
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!m) return undefined;
    const status = Number(m[1]);
    const bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      off = bodyStart;
      continue;
    }
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (cl) {
      const n = Number(cl[1]);
      if (buf.length - bodyStart < n) return undefined;
      return [status, buf.slice(bodyStart, bodyStart + n), bodyStart + n];
    }
    if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const last = buf.indexOf('\r\n0\r\n\r\n', bodyStart - 2);
      if (last < 0) return undefined;
      return [status, buf.slice(bodyStart, last), last + 7];
    }
    if (status === 204 || status === 304) return [status, '', bodyStart];
    return closed ? [status, buf.slice(bodyStart), buf.length] : undefined;
  }
}

async function readResponse(c: Conn, timeoutMs: number): Promise<ResponseResult> {
  const t0 = performance.now();
  for (;;) {
    const r = parseResponse(c.buf, c.closed);
    if (r) {
      c.buf = c.buf.slice(r[2]);
      return { status: r[0], body: r[1], closed: c.closed, ms: performance.now() - t0 };
    }
    if (c.closed) return { closed: true, ms: performance.now() - t0 };
    const left = timeoutMs - (performance.now() - t0);
    if (left <= 0) return { closed: false, ms: performance.now() - t0, timedOut: true };
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      c.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

function open(id: string, host: string, port: number): Promise<{ localPort?: number; error?: string }> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    const c: Conn = { s, buf: '', closed: false };
    s.on('data', (d: Buffer) => {
      c.buf += d.toString('latin1');
      c.wake?.();
    });
    s.on('close', () => {
      c.closed = true;
      c.wake?.();
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    s.once('connect', () => {
      conns.set(id, c);
      resolve({ localPort: s.localPort });
    });
  });
}

async function poll(cmd: Extract<PodCommand, { op: 'poll' }>): Promise<{ ok: boolean; at?: number; attempts: number; last?: string }> {
  const deadline = Date.now() + cmd.timeoutMs;
  let attempts = 0;
  let last: string | undefined;
  while (Date.now() < deadline) {
    attempts++;
    const started = Date.now();
    const r = await exchange(cmd.host, cmd.port, [cmd.data], { waitMs: cmd.attemptMs, lingerMs: 0, connectTimeoutMs: cmd.attemptMs });
    if (r.statuses.includes(cmd.status)) return { ok: true, at: Date.now(), attempts };
    last = r.error ?? (r.statuses.join(',') || (r.closed ? 'closed' : 'no answer'));
    const wait = cmd.everyMs - (Date.now() - started);
    if (wait > 0) await new Promise((r2) => setTimeout(r2, wait));
  }
  return { ok: false, attempts, ...(last ? { last } : {}) };
}

async function run(cmd: PodCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'batch': {
      const out: BatchResult[] = new Array(cmd.cases.length);
      let next = 0;
      const worker = async () => {
        while (next < cmd.cases.length) {
          const i = next++;
          const c = cmd.cases[i]!;
          const r = await exchange(cmd.host, cmd.port, c.steps, c);
          out[i] = { name: c.name, ...r, text: r.text.slice(0, TEXT_MAX) };
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, cmd.concurrency ?? 1) }, worker));
      return { results: out };
    }
    case 'open':
      return open(cmd.id, cmd.host, cmd.port);
    case 'request': {
      const c = conns.get(cmd.id);
      if (!c) return { error: `no connection ${cmd.id}` };
      if (!c.closed) c.s.write(cmd.data, 'latin1');
      return readResponse(c, cmd.timeoutMs ?? 10_000);
    }
    case 'state': {
      const c = conns.get(cmd.id);
      return c ? { closed: c.closed } : { error: `no connection ${cmd.id}` };
    }
    case 'poll':
      return poll(cmd);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  assertNotRootNetns('pod-http-client');
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    const cmd = JSON.parse(line) as PodCommand;
    run(cmd).then(
      (r) => process.stdout.write(`${JSON.stringify({ rid: cmd.rid, ...(r as object) })}\n`),
      (e: Error) => process.stdout.write(`${JSON.stringify({ rid: cmd.rid, error: e.message })}\n`),
    );
  });
  rl.on('close', () => {
    for (const c of conns.values()) c.s.destroy();
    // Commands still running finish and answer; the process ends with its last socket.
  });
}
