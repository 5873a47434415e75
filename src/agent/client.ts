/**
 * Client for the node agent's local API: HTTP/1.1 over a unix socket, JSON
 * bodies. Used by the CLI, the CNI plugin and the lab.
 */
import { request } from 'node:http';
import { AgentUnreachableError } from '../common/errors.js';

export interface AgentResponse<T> {
  status: number;
  body: T;
}

export function agentRequest<T = unknown>(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<AgentResponse<T>> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        // No connection pooling: a pooled socket to an agent that restarted is dead (EPIPE).
        agent: false,
        method,
        path,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        timeout: timeoutMs,
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: (data ? JSON.parse(data) : undefined) as T });
          } catch {
            reject(new AgentUnreachableError(`agent ${socketPath}: ${method} ${path}: response is not JSON`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (e) =>
      reject(new AgentUnreachableError(`agent ${socketPath}: ${method} ${path}: ${e.message}`, 'is the agent running? (beeline lab status)')),
    );
    if (payload) req.end(payload);
    else req.end();
  });
}

/** GET a JSON document, throwing on a non-2xx status. */
export async function agentGet<T>(socketPath: string, path: string, timeoutMs?: number): Promise<T> {
  const r = await agentRequest<T & { error?: { code: string; message: string } }>(socketPath, 'GET', path, undefined, timeoutMs);
  if (r.status < 200 || r.status > 299) {
    const msg = r.body?.error?.message ?? `HTTP ${r.status}`;
    throw new AgentUnreachableError(`agent ${socketPath}: GET ${path}: ${msg}`);
  }
  return r.body;
}

/** POST a JSON body and read the JSON answer, throwing on a non-2xx status. */
export async function agentPost<T>(socketPath: string, path: string, body: unknown, timeoutMs?: number): Promise<T> {
  const r = await agentRequest<T & { error?: { code: string; message: string } }>(socketPath, 'POST', path, body, timeoutMs);
  if (r.status < 200 || r.status > 299) {
    const msg = r.body?.error?.message ?? `HTTP ${r.status}`;
    throw new AgentUnreachableError(`agent ${socketPath}: POST ${path}: ${msg}`);
  }
  return r.body;
}
