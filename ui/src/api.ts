/**
 * The client of `beeline ui`'s routes (api/ui/ui.proto): POST
 * /api/<pkg>.<Service>/<Method> with the request as JSON; unary replies are
 * one JSON object, streams NDJSON lines. Every failure (an ErrorReply status,
 * a stream's trailer, the network) is an ApiError with the server's code,
 * message and hint.
 */
import type { ErrorReply__Output } from '../../src/api/generated/ui/ErrorReply.js';
import { LineSplitter, parseStreamLine } from '../../src/ui/model/ndjson.js';

/** A failed call: the server's stable code (BL_ERR_…), or NETWORK / ABORTED for the browser's own failures. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint = '',
    readonly status = 0,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The code of an ApiError for a call the caller cancelled. */
export const ABORTED = 'ABORTED';

async function post(route: string, req: unknown, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`api/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req ?? {}), signal });
  } catch (e) {
    if (signal?.aborted) throw new ApiError(ABORTED, 'cancelled');
    throw new ApiError('NETWORK', `cannot reach the beeline ui server: ${(e as Error).message}`, 'is `beeline ui` still running?');
  }
  if (!res.ok) {
    let body: Partial<ErrorReply__Output> = {};
    try {
      body = (await res.json()) as ErrorReply__Output;
    } catch {
      /* not JSON: the status says it */
    }
    const e = body.error;
    throw new ApiError(e?.code || `HTTP_${res.status}`, e?.message || `${route}: HTTP ${res.status} ${res.statusText}`, e?.hint ?? '', res.status);
  }
  return res;
}

/** One unary call. */
export async function unary<Req, Rep>(route: string, req: Req, signal?: AbortSignal): Promise<Rep> {
  const res = await post(route, req, signal);
  try {
    return (await res.json()) as Rep;
  } catch (e) {
    if (signal?.aborted) throw new ApiError(ABORTED, 'cancelled');
    throw new ApiError('NETWORK', `${route}: bad reply: ${(e as Error).message}`);
  }
}

/**
 * One server stream: each message to onMessage until the server ends it
 * (resolves) or it fails (rejects with an ApiError: the trailer's error, or
 * the network's). Aborting the signal ends it quietly (rejects with ABORTED).
 * onOpen runs once the server has accepted the stream (before any message).
 */
export async function stream<Req, Msg>(route: string, req: Req, onMessage: (m: Msg) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
  const res = await post(route, req, signal);
  onOpen?.();
  if (!res.body) throw new ApiError('NETWORK', `${route}: no body`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const lines = new LineSplitter();
  const take = (ls: string[]) => {
    for (const l of ls) {
      const line = parseStreamLine<Msg>(l);
      if ('error' in line) throw new ApiError(line.error.code || 'STREAM', line.error.message, line.error.hint);
      onMessage(line.message);
    }
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      take(lines.push(value));
    }
    take(lines.end());
  } catch (e) {
    if (signal.aborted) throw new ApiError(ABORTED, 'cancelled');
    if (e instanceof ApiError) throw e;
    throw new ApiError('NETWORK', `${route}: stream broken: ${(e as Error).message}`, 'the server or the relay went away');
  } finally {
    reader.cancel().catch(() => {});
  }
}
