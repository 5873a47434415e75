/**
 * Processes mesh-mtls-haproxy.test.ts runs inside its namespaces
 * (`ip netns exec NS node mesh-mtls-helper.js MODE ARGS`):
 * - `collect PORT FILE`: the agent's end of the records ring: every line received, appended to FILE;
 * - `http PORT`: the target pod: answers `<client address> <path>`;
 * - `load URL MS`: requests URL (new connection each) for MS milliseconds; prints `{"ok":n,"failed":n,"errors":[…]}`;
 * - `tls HOST PORT CERTFILE|- CAFILE [SRC:PORT DST:PORT SNI PATH]`: PROXY v2 (default 10.77.1.5:40000 →
 *   10.77.2.7:8080) then a TLS 1.3 handshake with that certificate (or none), SNI (default
 *   server.default.sa.beeline.mesh), and one request; prints `{"ok":bool,"error":"…","body":"…"}`.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { createConnection, createServer as createTcpServer } from 'node:net';
import * as tls from 'node:tls';

const [mode, ...args] = process.argv.slice(2);

function proxyV2(src: string, srcPort: number, dst: string, dstPort: number): Buffer {
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const body = Buffer.alloc(12);
  src.split('.').forEach((b, i) => body.writeUInt8(Number(b), i));
  dst.split('.').forEach((b, i) => body.writeUInt8(Number(b), 4 + i));
  body.writeUInt16BE(srcPort, 8);
  body.writeUInt16BE(dstPort, 10);
  return Buffer.concat([sig, Buffer.from([0x21, 0x11, 0x00, 12]), body]);
}

if (mode === 'collect') {
  const [port, file] = args as [string, string];
  createTcpServer((s) => {
    let buf = '';
    s.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const i = buf.lastIndexOf('\n');
      if (i >= 0) {
        appendFileSync(file, buf.slice(0, i + 1));
        buf = buf.slice(i + 1);
      }
    });
  }).listen(Number(port), '127.0.0.1');
} else if (mode === 'http') {
  createServer((req, res) => {
    res.end(`${req.socket.remoteAddress} ${req.url}\n`);
  }).listen(Number(args[0]), '0.0.0.0');
} else if (mode === 'load') {
  const [url, ms] = args as [string, string];
  const end = Date.now() + Number(ms);
  const r = { ok: 0, failed: 0, errors: [] as string[] };
  const one = () =>
    new Promise<void>((resolve) => {
      const q = request(url, { agent: false, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) r.ok++;
          else {
            r.failed++;
            r.errors.push(`status ${res.statusCode}`);
          }
          resolve();
        });
      });
      q.on('error', (e) => {
        r.failed++;
        r.errors.push(e.message);
        resolve();
      });
      q.on('timeout', () => q.destroy(new Error('timeout')));
      q.end();
    });
  void (async () => {
    while (Date.now() < end) await Promise.all([one(), one()]);
    process.stdout.write(JSON.stringify(r) + '\n');
  })();
} else if (mode === 'tls') {
  const [host, port, certFile, caFile, src = '10.77.1.5:40000', dst = '10.77.2.7:8080', sni = 'server.default.sa.beeline.mesh', path = '/rogue'] = args as [string, string, string, string, string?, string?, string?, string?];
  const [srcIp, srcPort] = src.split(':') as [string, string];
  const [dstIp, dstPort] = dst.split(':') as [string, string];
  const sock = createConnection({ host, port: Number(port) }, () => {
    sock.write(proxyV2(srcIp, Number(srcPort), dstIp, Number(dstPort)));
    const pem = certFile === '-' ? undefined : readFileSync(certFile, 'utf8');
    const c = tls.connect({ socket: sock, ...(pem ? { cert: pem, key: pem } : {}), ca: readFileSync(caFile, 'utf8'), servername: sni, minVersion: 'TLSv1.3' });
    let body = '';
    const done = (r: object) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    };
    c.on('secureConnect', () => c.write(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`));
    c.on('data', (d) => (body += d));
    c.on('end', () => done({ ok: /^HTTP\/1\.1 200/.test(body), protocol: c.getProtocol(), body }));
    c.on('error', (e) => done({ ok: false, error: e.message, body }));
    setTimeout(() => done({ ok: false, error: 'timeout', body }), 5000);
  });
  sock.on('error', (e) => {
    process.stdout.write(JSON.stringify({ ok: false, error: e.message }) + '\n');
    process.exit(0);
  });
} else {
  process.stderr.write(`mesh-mtls-helper: unknown mode ${mode}\n`);
  process.exit(2);
}
