/**
 * A throw-away etcd for tests: Debian's etcd 3.4 on unix sockets in a
 * temporary directory (no TCP port, no namespace needed), ended by its pid.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdEndpoint, etcdStatus } from '../../src/lab/etcd.js';

export interface TestEtcd {
  /** Client endpoint, `unix:///tmp/…/etcd.sock:2379`. */
  endpoint: string;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startTestEtcd(timeoutMs = 20_000): Promise<TestEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'bl-test-etcd-'));
  const log = openSync(join(dir, 'etcd.log'), 'a');
  // etcd 3.4 takes unix://name:port and creates the socket file `name:port` in its working directory.
  const child = spawn(
    'etcd',
    [
      '--name', 'test',
      '--data-dir', join(dir, 'data'),
      '--listen-client-urls', 'unix://etcd.sock:2379',
      '--advertise-client-urls', 'unix://etcd.sock:2379',
      '--listen-peer-urls', 'unix://peer.sock:2380',
      '--initial-advertise-peer-urls', 'unix://peer.sock:2380',
      '--initial-cluster', 'test=unix://peer.sock:2380',
      '--initial-cluster-state', 'new',
    ],
    { cwd: dir, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid!;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, 'SIGTERM');
      const t = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const { endpoint } = etcdEndpoint(dir);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      await etcdStatus(endpoint, 1000);
      return { endpoint, dir, pid, stop };
    } catch (e) {
      last = (e as Error).message;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await stop();
  throw new Error(`test etcd did not start: ${last} (exit ${child.exitCode})`);
}
