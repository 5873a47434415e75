/**
 * Test servers for inside lab pods (like agnhost's netexec): an HTTP server
 * that answers with who it is, a TCP echo server and a UDP echo server, so
 * that real clients (curl, dig-like UDP, beeline probe) have real peers.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { UsageError } from '../common/errors.js';
import { assertNotRootNetns } from './safety.js';

export type ServeProtocol = 'http' | 'tcp' | 'udp';

export interface Server {
  close(): Promise<void>;
}

/**
 * Starts one server on address:port (default every address); `name` is what
 * the HTTP server reports (default: the hostname). A UDP server bound to one
 * address answers from that address, so a namespace with several can serve
 * each on its own.
 */
export function serve(protocol: ServeProtocol, port: number, name = process.env.BEELINE_POD ?? hostname(), address = '0.0.0.0'): Promise<Server> {
  assertNotRootNetns(`serve ${protocol} :${port}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`serve --port ${port}: must be 1-65535`);
  return new Promise((resolve, reject) => {
    if (protocol === 'http') {
      const s = createHttpServer((req, res) => {
        const body = JSON.stringify({ pod: name, method: req.method, path: req.url, client: `${req.socket.remoteAddress}:${req.socket.remotePort}` });
        res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': name }).end(body + '\n');
      });
      s.once('error', reject);
      s.listen(port, address, () => resolve({ close: () => new Promise((r) => s.close(() => r())) }));
    } else if (protocol === 'tcp') {
      const s = createTcpServer((c) => c.pipe(c).on('error', () => c.destroy()));
      s.once('error', reject);
      s.listen(port, address, () => resolve({ close: () => new Promise((r) => s.close(() => r())) }));
    } else if (protocol === 'udp') {
      const s = createSocket('udp4');
      s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
      s.once('error', reject);
      s.bind(port, address, () => resolve({ close: () => new Promise((r) => s.close(() => r())) }));
    } else {
      reject(new UsageError(`serve: unknown protocol '${String(protocol)}'`, 'one of: http, tcp, udp'));
    }
  });
}
