/**
 * A throw-away etcd for tests: Debian's etcd 3.4 on unix sockets in a
 * temporary directory (no TCP port, no namespace needed), ended by its pid.
 * `kill` and `restart` stop it and start it again on the same data directory
 * and socket, for tests of what survives an outage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdEndpoint, etcdStatus } from '../../src/lab/etcd.js';
import { openEtcdStore, type EtcdStore } from '../../src/store/etcd.js';

export interface TestEtcd {
  /** Client endpoint, `unix:///tmp/…/etcd.sock:2379`. */
  endpoint: string;
  dir: string;
  /** The current process's pid (changes on restart). */
  readonly pid: number;
  /** Stops the process (by its pid) and removes the directory. */
  stop(): Promise<void>;
  /** Stops the process with `signal`, keeping its data directory. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same data directory and socket; resolves when it answers. */
  restart(timeoutMs?: number): Promise<void>;
}

function spawnEtcd(dir: string): { child: ChildProcess; exited: Promise<void> } {
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
  return { child, exited };
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

export async function startTestEtcd(timeoutMs = 20_000): Promise<TestEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'bl-test-etcd-'));
  let proc = spawnEtcd(dir);
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const { child, exited } = proc;
    if (running(child)) {
      process.kill(child.pid!, signal);
      const t = setTimeout(() => running(child) && process.kill(child.pid!, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  };
  const stop = async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  };
  const { endpoint } = etcdEndpoint(dir);
  const ready = async (limitMs: number) => {
    const deadline = Date.now() + limitMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!running(proc.child)) break;
      try {
        await etcdStatus(endpoint, 1000);
        return;
      } catch (e) {
        last = (e as Error).message;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new Error(`test etcd did not start: ${last} (exit ${proc.child.exitCode})`);
  };
  const restart = async (limitMs = timeoutMs) => {
    await kill();
    // A killed etcd leaves its socket files behind, and would not bind over them.
    for (const f of ['etcd.sock:2379', 'peer.sock:2380']) rmSync(join(dir, f), { force: true });
    proc = spawnEtcd(dir);
    await ready(limitMs);
  };
  try {
    await ready(timeoutMs);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    endpoint,
    dir,
    get pid() {
      return proc.child.pid!;
    },
    stop,
    kill,
    restart,
  };
}

/** A test etcd and stores opened on it, all closed and stopped after the test. */
export async function withEtcdStore(t: { after: (fn: () => Promise<void> | void) => void }): Promise<{ etcd: TestEtcd; open: (o?: { watchBackoff?: { initialMs: number; maxMs: number } }) => EtcdStore }> {
  const etcd = await startTestEtcd();
  const stores: EtcdStore[] = [];
  t.after(async () => {
    for (const s of stores) await s.close();
    await etcd.stop();
  });
  return {
    etcd,
    open: (o = {}) => {
      const s = openEtcdStore({ endpoint: etcd.endpoint, ...o });
      stores.push(s);
      return s;
    },
  };
}
