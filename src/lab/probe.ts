/**
 * Connectivity probes run inside lab namespaces (like agnhost's `connect` in
 * the upstream network-policy tests): one TCP connect, one UDP exchange or one
 * HTTP GET, with a verdict of connected / refused / timeout. Being a traffic
 * generator, it refuses to run in the machine's root network namespace.
 */
import { createConnection } from 'node:net';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { UsageError } from '../common/errors.js';
import { assertNotRootNetns } from './safety.js';

export type ProbeProtocol = 'tcp' | 'udp' | 'http';
export type ProbeVerdict = 'connected' | 'refused' | 'timeout' | 'error';

export interface ProbeResult {
  protocol: ProbeProtocol;
  target: string;
  verdict: ProbeVerdict;
  millis: number;
  detail?: string;
}

export function parseTarget(target: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(target);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`probe target '${target}': expected HOST:PORT with a port 1-65535`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

export async function probe(protocol: ProbeProtocol, target: string, timeoutMs = 1000): Promise<ProbeResult> {
  assertNotRootNetns(`probe ${protocol} ${target}`);
  const { host, port } = parseTarget(target);
  const start = Date.now();
  const done = (verdict: ProbeVerdict, detail?: string): ProbeResult => ({ protocol, target, verdict, millis: Date.now() - start, ...(detail ? { detail } : {}) });
  const classify = (e: NodeJS.ErrnoException): ProbeResult =>
    e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' ? done('refused', e.code) : e.code === 'ETIMEDOUT' ? done('timeout') : done('error', e.code ?? e.message);

  if (protocol === 'tcp') {
    return new Promise((resolve) => {
      const s = createConnection({ host, port, timeout: timeoutMs });
      s.once('connect', () => {
        s.destroy();
        resolve(done('connected'));
      });
      s.once('timeout', () => {
        s.destroy();
        resolve(done('timeout'));
      });
      s.once('error', (e) => resolve(classify(e)));
    });
  }
  if (protocol === 'udp') {
    // UDP has no handshake: send a datagram and wait for any reply. The lab's
    // UDP servers echo anything; agnhost netexec answers `echo <text>`, hence
    // the payload. An ICMP port-unreachable surfaces as ECONNREFUSED.
    return new Promise((resolve) => {
      const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      const timer = setTimeout(() => {
        s.close();
        resolve(done('timeout'));
      }, timeoutMs);
      s.once('message', () => {
        clearTimeout(timer);
        s.close();
        resolve(done('connected'));
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        s.close();
        resolve(classify(e));
      });
      s.connect(port, host, () => s.send('echo beeline-probe'));
    });
  }
  if (protocol === 'http') {
    return new Promise((resolve) => {
      const req = request({ host, port, path: '/', method: 'GET', timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => resolve(done('connected', `HTTP ${res.statusCode}`)));
      });
      req.once('timeout', () => {
        req.destroy();
        resolve(done('timeout'));
      });
      req.once('error', (e) => resolve(classify(e)));
      req.end();
    });
  }
  throw new UsageError(`probe: unknown protocol '${String(protocol)}'`, 'one of: tcp, udp, http');
}
