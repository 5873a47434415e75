/**
 * Reading an HTTP request body with a size limit, for the servers that take
 * JSON from local clients (the agent's API, `beeline ui`): a body over the
 * limit is never held in memory.
 */
import type { IncomingMessage } from 'node:http';

/**
 * The body as text; rejects with `tooLarge()` once a body over `limit` bytes
 * (by its Content-Length, or as it arrives) has been read into nothing: a
 * client that is still sending would get EPIPE, not the answer, if it were
 * answered before (the server's requestTimeout bounds how long that takes).
 */
export function readBody(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<string> {
  return new Promise((resolve, reject) => {
    let over = false;
    const refuse = () => {
      over = true;
      chunks.length = 0;
      req.off('data', onData);
      req.once('close', () => reject(tooLarge()));
      req.resume();
    };
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) return refuse();
      chunks.push(c);
    };
    const declared = Number(req.headers['content-length']);
    req.on('end', () => (over ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
    if (Number.isFinite(declared) && declared > limit) return refuse();
    req.on('data', onData);
  });
}
