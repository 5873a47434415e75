/**
 * Processes the lab starts: recorded by pid and start time, so that `lab down`
 * ends exactly them (never by name) and a recycled pid is never signalled.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { LabStepError } from '../common/errors.js';

/** A process the lab owns. `starttime` is field 22 of /proc/PID/stat (clock ticks since boot). */
export interface OwnedProcess {
  role: string;
  pid: number;
  starttime: string;
  cmd: string[];
  log: string;
}

/** A live process's parent, process group and start time (/proc/PID/stat), or undefined when it is gone (or a zombie). */
export function processStat(pid: number): { ppid: number; pgrp: number; starttime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parens: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return { ppid: Number(rest[1]), pgrp: Number(rest[2]), starttime: rest[19]! };
  } catch {
    return undefined;
  }
}

/** Start time of a live process, or undefined when it is gone (or a zombie). */
export function processStartTime(pid: number): string | undefined {
  return processStat(pid)?.starttime;
}

/** True when the recorded process is still the one we started. */
export function isAlive(p: Pick<OwnedProcess, 'pid' | 'starttime'>): boolean {
  return processStartTime(p.pid) === p.starttime;
}

/**
 * Starts a daemon detached from the CLI (its own session, stdio to a log file)
 * inside network namespace `netns`, moved into `cgroupDir` before it execs, so
 * that it is accounted to the lab from its first instruction. The pid recorded
 * is the daemon's own: `sh` and `ip netns exec` both exec in place.
 */
export function startDaemon(opts: {
  role: string;
  /** The lab namespace to run in; null: the machine's own (for a loopback listener the user's browser reaches, `beeline ui`). */
  netns: string | null;
  cgroupDir: string;
  cmd: string[];
  log: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Enter only the network namespace (nsenter), staying in the machine's mount
   * namespace: for daemons that create network namespaces themselves (the
   * kubelet), whose /run/netns mounts must be visible to everyone.
   * `ip netns exec` gives its command a private mount namespace.
   */
  netOnly?: boolean;
}): OwnedProcess {
  const fd = openSync(opts.log, 'a');
  try {
    const script =
      opts.netns === null
        ? 'echo $$ > "$0/cgroup.procs" && exec "$@"'
        : opts.netOnly
          ? 'ns=$1; shift; echo $$ > "$0/cgroup.procs" && exec nsenter --net="/run/netns/$ns" -- "$@"'
          : 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$@"';
    const child = spawn('sh', ['-c', script, opts.cgroupDir, ...(opts.netns === null ? [] : [opts.netns]), ...opts.cmd], {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: opts.cwd,
      env: opts.env ?? process.env,
    });
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new LabStepError(`start ${opts.role}: spawn failed`);
    const starttime = processStartTime(pid);
    if (starttime === undefined) {
      throw new LabStepError(`start ${opts.role}: exited at once`, { hint: `see ${opts.log}` });
    }
    return { role: opts.role, pid, starttime, cmd: opts.cmd, log: opts.log };
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ends one owned process: SIGTERM, then SIGKILL after `graceMs`. Safe on a process already gone. */
export async function stopProcess(p: Pick<OwnedProcess, 'pid' | 'starttime'>, graceMs = 3000): Promise<void> {
  if (!isAlive(p)) return;
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(p)) return;
    await sleep(50);
  }
  if (isAlive(p)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
    for (let i = 0; i < 40 && isAlive(p); i++) await sleep(25);
  }
}
