/**
 * The lab's own cgroup v2 subtree: `<cgroup2 root>/beeline/<lab>/…`. Every
 * process the lab starts lives in it, and BPF cgroup programs attach only
 * below it, never to the root cgroup.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FeatureMissingError, LabStepError } from '../common/errors.js';
import { cgroup2Root } from './safety.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `<root>/beeline/<lab>/<...sub>`, without creating it. */
export function cgroupPath(lab: string, ...sub: string[]): string {
  const root = cgroup2Root();
  if (!root) throw new FeatureMissingError('lab cgroup: no cgroup v2 hierarchy is mounted', 'mount cgroup2 (e.g. at /sys/fs/cgroup/unified)');
  return join(root, 'beeline', lab, ...sub);
}

/** Creates (if needed) and returns `<root>/beeline/<lab>/<...sub>`. */
export function ensureCgroup(lab: string, ...sub: string[]): string {
  const dir = cgroupPath(lab, ...sub);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new LabStepError(`create cgroup ${dir}: ${(e as Error).message}`);
  }
  return dir;
}

/** Pids in a cgroup and all its descendants. */
export function cgroupPids(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) pids.push(Number(l));
      for (const n of readdirSync(d)) if (statSync(join(d, n)).isDirectory()) walk(join(d, n));
    } catch {
      /* removed meanwhile */
    }
  };
  walk(dir);
  return pids;
}

/**
 * Removes a lab cgroup subtree. Any process still in it was started by the lab
 * (that is how it got there): it is killed by pid first.
 */
export async function removeCgroup(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (let attempt = 0; attempt < 50; attempt++) {
    const pids = cgroupPids(dir);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (pids.length === 0) break;
    await sleep(50);
  }
  const rmTree = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) rmTree(p);
    }
    rmdirSync(d);
  };
  try {
    rmTree(dir);
  } catch (e) {
    throw new LabStepError(`remove cgroup ${dir}: ${(e as Error).message}`, { hint: 'a process is still in it: see its cgroup.procs' });
  }
}

/** Removes `<root>/beeline` (in the cgroup2 and every v1 hierarchy) when no lab is left in it. */
export function removeCgroupBaseIfEmpty(): void {
  const root = cgroup2Root();
  for (const r of [...(root ? [root] : []), ...cgroupV1Roots()]) {
    const base = join(r, 'beeline');
    try {
      if (existsSync(base) && readdirSync(base).filter((n) => statSync(join(base, n)).isDirectory()).length === 0) rmdirSync(base);
    } catch {
      /* still in use */
    }
  }
}

/** runc's cgroupsPath for a lab cgroup: `/beeline/<lab>/<...sub>`, the same path in every hierarchy. */
export function runcCgroupsPath(lab: string, ...sub: string[]): string {
  return `/${['beeline', lab, ...sub].join('/')}`;
}

/**
 * The cgroup v1 hierarchies mounted beside cgroup2 (a hybrid layout, as on
 * this machine): runc makes a container's cgroup in each of them too, and
 * leaves the parents behind when the container ends.
 */
export function cgroupV1Roots(): string[] {
  const base = '/sys/fs/cgroup';
  const v2 = cgroup2Root();
  if (!existsSync(base) || v2 === base) return [];
  return readdirSync(base)
    .map((n) => join(base, n))
    .filter((d) => d !== v2 && existsSync(join(d, 'cgroup.procs')) && !existsSync(join(d, 'cgroup.subtree_control')));
}

/** Removes `<v1 hierarchy>/beeline/<lab>/<...sub>` in every v1 hierarchy, deepest first (the processes must be gone). */
export function removeCgroupV1(lab: string, ...sub: string[]): void {
  const rmTree = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) rmTree(p);
    }
    rmdirSync(d);
  };
  for (const root of cgroupV1Roots()) {
    const dir = join(root, 'beeline', lab, ...sub);
    if (!existsSync(dir)) continue;
    try {
      rmTree(dir);
    } catch (e) {
      throw new LabStepError(`remove cgroup ${dir}: ${(e as Error).message}`, { hint: 'a process is still in it: see its cgroup.procs' });
    }
  }
}
