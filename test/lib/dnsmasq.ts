/**
 * A real dnsmasq on loopback for unit tests (src/l7/dns/proxy.test.ts,
 * src/lab/dns.test.ts): a free port, the process with its log, and its end.
 * The caller gives the arguments (listen address 127.0.0.1 only: never an
 * address of the root network namespace other than loopback).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';

/** A free UDP port on loopback (the kernel picks; released at once for dnsmasq to take). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A dnsmasq the test started. */
export interface TestDnsmasq {
  child: ChildProcess;
  /** Everything it wrote to stderr so far (its log with --log-facility=-). */
  readonly log: string;
  /** SIGTERM unless it has exited; resolves when it has. */
  stop(): Promise<void>;
}

/** Starts `dnsmasq args…` (stdout ignored, stderr collected as its log). */
export function spawnDnsmasq(args: string[]): TestDnsmasq {
  const child = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  return {
    child,
    get log() { return log; },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
