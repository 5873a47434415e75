/**
 * Raw HTTP/1.1 probes an L7 proxy must survive, and the one-connection
 * exchange that sends them: shared by the engine benchmark
 * (bench/http-engine.ts, against HAProxy and a TypeScript proxy on
 * loopback) and the lab's bad-input tests (test/privileged/l7-bad-input.test.ts,
 * against the node proxy through the datapath, the client in a pod). Every
 * smuggling probe hides `PUT /v1/exhaust-port` (which the Star Wars policy
 * denies) behind an allowed `POST /v1/request-landing`: whatever the proxy
 * does, that PUT must never reach the server.
 */
import { connect } from 'node:net';

/** A probe: raw bytes written over one TCP connection. */
export interface ProbeSpec {
  name: string;
  what: string;
  /** Written one after the other, each once the previous one's response came (or the wait passed). */
  steps: string[];
  /** The statuses the engine must answer with (else the verdict is FAIL), when one sequence is right. */
  expect?: number[];
  /** The median time to an answer must stay under this (ms), else FAIL: a request that costs the engine's one worker this long is a denial of service. */
  budgetMs?: number;
}

export const PROBE_HOST = 'Host: deathstar\r\n';
/** The request every smuggling probe hides: the Star Wars policy denies it (and the deathstar explodes on it). */
export const SMUGGLED = `PUT /v1/exhaust-port HTTP/1.1\r\n${PROBE_HOST}Content-Length: 0\r\n\r\n`;
export const ALLOWED_GET = `GET /v1/ships HTTP/1.1\r\n${PROBE_HOST}\r\n`;
/** `POST /v1/request-landing` (the Star Wars policy allows it) with extra header lines and a body. */
export const landing = (headers: string, body: string) => `POST /v1/request-landing HTTP/1.1\r\n${PROBE_HOST}${headers}\r\n${body}`;
/** A body that ends a chunked request at once ("0" chunk) and then holds the smuggled PUT. */
export const CL_TE_BODY = `0\r\n\r\n${SMUGGLED}`;
/** One chunk holding `s`, then the last chunk. */
export const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n0\r\n\r\n`;
const clte = (te: string) => landing(`Content-Length: ${Buffer.byteLength(CL_TE_BODY)}\r\n${te}`, CL_TE_BODY);
const tecl = (te: string) => landing(`Content-Length: 4\r\n${te}`, chunk(SMUGGLED));

/**
 * Request smuggling (CL.TE, TE.CL, TE.TE with obfuscated Transfer-Encoding,
 * duplicate Content-Length), each hiding SMUGGLED; and the keep-alive probe
 * (`keepAliveSteps`: allowed, denied, allowed on one connection). Safe
 * answers: refuse (400, close) or read the request one way only (then the
 * PUT is a request of its own and denied, or body).
 */
export function smugglingProbes(allowed: string): ProbeSpec[] {
  return [
    { name: 'keep-alive after 403', what: 'allowed, PUT /v1/exhaust-port, allowed on one connection', steps: [allowed, SMUGGLED, allowed], expect: [200, 403, 200] },
    // CL.TE: a front end that goes by Content-Length forwards the smuggled PUT as body; a back end that goes by chunked sees it as a request.
    { name: 'CL.TE', what: 'Content-Length (whole body) + Transfer-Encoding: chunked; body "0" chunk, then a PUT', steps: [clte('Transfer-Encoding: chunked\r\n')] },
    // TE.CL: the front end goes by chunked, the back end by Content-Length: 4 and reads the chunk's content as the next request.
    { name: 'TE.CL', what: 'Transfer-Encoding: chunked + Content-Length: 4; the chunk holds a PUT', steps: [tecl('Transfer-Encoding: chunked\r\n')] },
    { name: 'TE.TE xchunked', what: 'Transfer-Encoding: xchunked + Content-Length (CL.TE body)', steps: [clte('Transfer-Encoding: xchunked\r\n')] },
    { name: 'TE.TE space before colon', what: '"Transfer-Encoding : chunked" + Content-Length (CL.TE body)', steps: [clte('Transfer-Encoding : chunked\r\n')] },
    { name: 'TE.TE two headers', what: 'Transfer-Encoding: chunked + Transfer-Encoding: x + Content-Length (CL.TE body)', steps: [clte('Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n')] },
    { name: 'TE.TE obs-fold', what: '"Transfer-Encoding:" folded onto " chunked" + Content-Length (CL.TE body)', steps: [clte('Transfer-Encoding:\r\n chunked\r\n')] },
    { name: 'duplicate Content-Length', what: 'Content-Length: 0 and Content-Length: N; the N bytes are a PUT', steps: [landing(`Content-Length: 0\r\nContent-Length: ${Buffer.byteLength(SMUGGLED)}\r\n`, SMUGGLED)] },
    { name: 'TE.TE chunked, identity', what: '"Transfer-Encoding: chunked, identity" + Content-Length (CL.TE body)', steps: [clte('Transfer-Encoding: chunked, identity\r\n')] },
    { name: 'TE.TE identity, chunked', what: '"Transfer-Encoding: identity, chunked" + Content-Length (CL.TE body)', steps: [clte('Transfer-Encoding: identity, chunked\r\n')] },
    { name: 'TE.TE tab', what: '"Transfer-Encoding:\\tchunked" + Content-Length (CL.TE body)', steps: [clte('Transfer-Encoding:\tchunked\r\n')] },
    { name: 'TE.TE tab before colon', what: '"Transfer-Encoding\\t: chunked" + Content-Length (CL.TE body)', steps: [clte('Transfer-Encoding\t: chunked\r\n')] },
    { name: 'TE.TE case', what: '"transfer-encoding: CHUNKED" + Content-Length (CL.TE body)', steps: [clte('transfer-encoding: CHUNKED\r\n')] },
    { name: 'TE.TE duplicate chunked', what: 'Transfer-Encoding: chunked twice + Content-Length (CL.TE body)', steps: [clte('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n')] },
    { name: 'TE.TE trailing space', what: '"Transfer-Encoding: chunked " + Content-Length (CL.TE body)', steps: [clte('Transfer-Encoding: chunked \r\n')] },
    { name: 'TE.TE vertical tab', what: '"Transfer-Encoding:\\x0bchunked" + Content-Length (CL.TE body)', steps: [clte('Transfer-Encoding:\x0bchunked\r\n')] },
    { name: 'TE.CL xchunked', what: 'Transfer-Encoding: xchunked + Content-Length: 4 (TE.CL body)', steps: [tecl('Transfer-Encoding: xchunked\r\n')] },
    { name: 'TE.CL chunked, identity', what: '"Transfer-Encoding: chunked, identity" + Content-Length: 4 (TE.CL body)', steps: [tecl('Transfer-Encoding: chunked, identity\r\n')] },
    { name: 'TE.CL case', what: '"Transfer-Encoding: Chunked" + Content-Length: 4 (TE.CL body)', steps: [tecl('Transfer-Encoding: Chunked\r\n')] },
    { name: 'chunk size overflow', what: 'chunked with a chunk size of 2^64 + 1 hex digits, then a PUT', steps: [landing('Transfer-Encoding: chunked\r\n', `10000000000000000\r\n\r\n0\r\n\r\n${SMUGGLED}`)] },
    { name: 'chunk extension LF', what: 'a chunk extension with a bare LF, then a PUT', steps: [landing('Transfer-Encoding: chunked\r\n', `2;x\nxx\r\n0\r\n\r\n${SMUGGLED}`)] },
    { name: 'pipelined', what: 'allowed POST and the PUT in one write', steps: [landing('Content-Length: 0\r\n', '') + SMUGGLED] },
    { name: 'upgrade then PUT', what: 'allowed POST with Upgrade: websocket, then the PUT on the same connection', steps: [landing('Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 0\r\n', ''), SMUGGLED] },
    { name: 'Expect then PUT as body', what: 'allowed POST, Expect: 100-continue, Content-Length: PUT; the PUT as body', steps: [landing(`Expect: 100-continue\r\nContent-Length: ${Buffer.byteLength(SMUGGLED)}\r\n`, ''), SMUGGLED] },
  ];
}

/** What one exchange saw. */
export interface ExchangeResult {
  /** Statuses of the responses, in order (`HTTP/1.x NNN ` found in what came back). */
  statuses: number[];
  /** The peer closed the connection (within the wait). */
  closed: boolean;
  /** Each step's time from its write to its response (or the close), ms. */
  stepMs: number[];
  /** The bytes received (latin1). */
  text: string;
  /** The connection's own port (the flows' source port). */
  localPort: number;
  /** ms from connect to the close by the peer (when it closed). */
  closedAfterMs?: number;
  /** The connect failed (the error's code). */
  error?: string;
}

export interface ExchangeOptions {
  /** How long to wait for each step's answer (ms; default 10 s). */
  waitMs?: number;
  /** How long to wait after the last step for a further answer or a close (ms; default 300). */
  lingerMs?: number;
  /** Write the steps every paceMs, not waiting for answers (slowloris); stops at a close. */
  paceMs?: number;
  /** Give up connecting after this long (ms; error ETIMEDOUT). Default: the system's. */
  connectTimeoutMs?: number;
}

/**
 * Sends the steps over one TCP connection, each once the previous one's
 * response came (or the wait passed), or every `paceMs`; answers what came
 * back. Statuses are counted from the status lines in the received bytes
 * (a 100 Continue counts).
 */
export async function exchange(host: string, port: number, steps: string[], opts: ExchangeOptions = {}): Promise<ExchangeResult> {
  const waitMs = opts.waitMs ?? 10_000;
  const s = connect(port, host);
  let text = '';
  let closed = false;
  let closedAt = 0;
  const statuses = () => [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
  s.on('data', (d: Buffer) => (text += d.toString('latin1')));
  s.on('close', () => {
    closed = true;
    closedAt = performance.now();
  });
  let error: string | undefined;
  s.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
  const connected = await new Promise<boolean>((r) => {
    const t = opts.connectTimeoutMs === undefined ? undefined : setTimeout(() => {
      error ??= 'ETIMEDOUT';
      s.destroy();
    }, opts.connectTimeoutMs);
    s.once('connect', () => (clearTimeout(t), r(true)));
    s.once('close', () => (clearTimeout(t), r(false)));
  });
  const t00 = performance.now();
  const localPort = s.localPort ?? 0;
  if (!connected) return { statuses: [], closed: true, stepMs: [], text: '', localPort, ...(error ? { error } : {}) };
  const until = async (cond: () => boolean, ms: number) => {
    const t = performance.now();
    // Polled on every turn of the event loop for the first 50 ms (answer times to well under a
    // millisecond), then every millisecond (a slowloris probe waits for seconds).
    while (!cond() && performance.now() - t < ms) await new Promise((r) => (performance.now() - t < 50 ? setImmediate(r) : setTimeout(r, 1)));
  };
  const stepMs: number[] = [];
  for (const step of steps) {
    if (closed) break;
    const before = statuses().length;
    const t0 = performance.now();
    s.write(step, 'latin1');
    if (opts.paceMs !== undefined) await until(() => closed, opts.paceMs);
    else await until(() => closed || statuses().length > before, waitMs);
    stepMs.push(performance.now() - t0);
  }
  // Linger: a second response (the smuggled request's) or a close may follow.
  await until(() => closed, opts.lingerMs ?? 300);
  s.destroy();
  return { statuses: statuses(), closed, stepMs, text, localPort, ...(closedAt ? { closedAfterMs: closedAt - t00 } : {}), ...(error ? { error } : {}) };
}
