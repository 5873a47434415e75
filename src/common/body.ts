/**
 * Reading an HTTP request body with a size limit, for the servers that take
 * JSON from local clients (the agent's API, `beeline ui`): a body over the
 * limit is never held in memory.
 */
import type { IncomingMessage } from 'node:http';

/**
 * The body as text; rejects with `tooLarge()` as soon as it passes `limit`
 * bytes (a Content-Length over it is refused before anything is read). The
 * rest is read into nothing, so the answer still reaches the client.
 */
export function readBody(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('error', reject);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
