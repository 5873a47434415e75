/**
 * The lab's stand-in for what keeps a node's daemons running (systemd for the
 * kubelet, the kubelet for the agent's DaemonSet pod): it starts the daemon,
 * restarts it when it dies (kill -9, crash) with a growing back-off, and on
 * SIGTERM stops it and exits. The daemon's state (the agent's pinned maps and
 * endpoints file, the kubelet's pod records) lets the new process pick up
 * where the old one left off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, writeFileSync, rmSync } from 'node:fs';
import { logger } from '../common/log.js';

export interface SuperviseOptions {
  /** What runs: `agent` or `kubelet` (for log lines). */
  role: string;
  /** The daemon's command line. */
  cmd: string[];
  log: string;
  /** Where the running daemon's pid is written (removed when none runs). */
  pidFile: string;
  name: string;
}

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000];

/** Runs until SIGTERM/SIGINT; resolves after the daemon has stopped. */
export function supervise(opts: SuperviseOptions): Promise<void> {
  const log = logger(`supervisor[${opts.name}]`);
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let timer: NodeJS.Timeout | undefined;

  const start = () => {
    const fd = openSync(opts.log, 'a');
    const startedAt = Date.now();
    child = spawn(opts.cmd[0]!, opts.cmd.slice(1), { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (child.pid) writeFileSync(opts.pidFile, String(child.pid));
    log.info(`${opts.role} started`, { pid: child.pid, restarts });
    child.on('exit', (code, signal) => {
      rmSync(opts.pidFile, { force: true });
      if (stopping) return;
      // A run that lasted a while resets the back-off, as kubelet's crash-loop back-off does.
      if (Date.now() - startedAt > 30_000) restarts = 0;
      const delay = BACKOFF_MS[Math.min(restarts, BACKOFF_MS.length - 1)]!;
      restarts++;
      log.warn(`${opts.role} exited; restarting`, { code, signal, inMs: delay, restarts });
      timer = setTimeout(start, delay);
    });
  };

  return new Promise((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      if (timer) clearTimeout(timer);
      log.info(`stopping ${opts.role}`, { signal: sig });
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child?.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    start();
  });
}
