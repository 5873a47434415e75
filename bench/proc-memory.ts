/**
 * Memory of benchmark processes, as bench/http-l7.ts and bench/mesh.ts report
 * it: a process's VmRSS and peak VmHWM (/proc/<pid>/status) and its PSS
 * (/proc/<pid>/smaps_rollup: shared pages divided among the processes that
 * map them, so that a sum over many processes of the same program does not
 * count the binary and its libraries once per process), and every HAProxy
 * process of a cgroup, master and workers.
 */
import { readFileSync } from 'node:fs';
import { cgroupPids } from '../src/lab/cgroup.js';

export interface ProcMemory {
  pid: number;
  role: string;
  rssMiB: number;
  hwmMiB: number;
  /** Proportional set size (NaN when smaps_rollup cannot be read). */
  pssMiB: number;
}

/** A process's memory; undefined when it is gone. */
export function procMemory(pid: number, role: string): ProcMemory | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (text: string, k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    let pss = NaN;
    try {
      pss = kb(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
    } catch {
      // older kernel or gone meanwhile
    }
    return { pid, role, rssMiB: kb(s, 'VmRSS') / 1024, hwmMiB: kb(s, 'VmHWM') / 1024, pssMiB: pss / 1024 };
  } catch {
    return undefined;
  }
}

/** A process's command name; '' when it is gone. */
export function procComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Every HAProxy process of a cgroup: the master (its parent is not HAProxy) and its workers. */
export function haproxyMemory(cg: string): ProcMemory[] {
  const out: ProcMemory[] = [];
  for (const pid of cgroupPids(cg)) {
    if (procComm(pid) !== 'haproxy') continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const m = procMemory(pid, procComm(ppid) === 'haproxy' ? 'worker' : 'master');
    if (m) out.push(m);
  }
  return out.sort((a, b) => a.role.localeCompare(b.role) || a.pid - b.pid);
}
