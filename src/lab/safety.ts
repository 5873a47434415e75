/**
 * Host safety. The machine's own root network namespace is never touched by
 * beeline: every link, address, route, rule and BPF attachment lives in lab
 * namespaces. This module holds the guards that enforce it and the snapshot
 * that tests compare before `lab up` and after `lab down`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HostSafetyError } from '../common/errors.js';
import { run } from '../common/exec.js';
import { inRootNetns } from '../common/netns.js';

export { inRootNetns } from '../common/netns.js';

/**
 * Every helper that generates traffic calls this first: it refuses to run in
 * the root network namespace, where a packet to a lab address would leave the
 * machine through its real uplink.
 */
export function assertNotRootNetns(what: string): void {
  if (inRootNetns()) {
    throw new HostSafetyError(
      `${what}: refusing to run in the machine's root network namespace`,
      "run it inside a lab namespace: 'beeline lab exec NODE -- …'",
    );
  }
}

/** Rejects a command line that would change the root namespace's network (defence in depth for `ip`). */
export function assertIpTargetsNetns(args: readonly string[]): void {
  const i = args.indexOf('-n');
  const netns = i >= 0 ? args[i + 1] : undefined;
  const read = ['show', 'list', 'ls', 'get'].some((v) => args.includes(v));
  if (!netns && !read && !args.includes('netns')) {
    throw new HostSafetyError(`ip ${args.join(' ')}: would change the root network namespace`);
  }
}

function tryRun(cmd: string, args: string[]): string {
  try {
    const r = run(cmd, args, { allowFailure: true });
    return r.code === 0 ? r.stdout : `(${cmd} exit ${r.code}: ${r.stderr.trim()})`;
  } catch {
    return `(${cmd} not available)`;
  }
}

/** Root cgroup v2 mount on this machine (hybrid hierarchies mount it at /sys/fs/cgroup/unified). */
export function cgroup2Root(): string | undefined {
  for (const p of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    if (existsSync(`${p}/cgroup.procs`) && existsSync(`${p}/cgroup.subtree_control`)) return p;
  }
  return undefined;
}

/**
 * A text snapshot of everything a lab must never change in the root network
 * namespace. Two snapshots taken before `lab up` and after `lab down` must be
 * equal. Must itself run in the root namespace.
 */
export function snapshotHost(): Record<string, string> {
  const cg = cgroup2Root();
  const snap: Record<string, string> = {
    'ip link': tryRun('ip', ['-o', 'link', 'show']),
    'ip addr': tryRun('ip', ['-o', 'addr', 'show']),
    'ip route': tryRun('ip', ['route', 'show', 'table', 'all']),
    'ip -6 route': tryRun('ip', ['-6', 'route', 'show', 'table', 'all']),
    'ip rule': tryRun('ip', ['rule', 'show']),
    'ip -6 rule': tryRun('ip', ['-6', 'rule', 'show']),
    'ip neigh (permanent)': tryRun('ip', ['neigh', 'show', 'nud', 'permanent']),
    'iptables-save': tryRun('iptables-save', []),
    'ip6tables-save': tryRun('ip6tables-save', []),
    'nft list ruleset': tryRun('nft', ['list', 'ruleset']),
    'bpftool net': tryRun('bpftool', ['net', 'show']),
    'root cgroup bpf': cg ? tryRun('bpftool', ['cgroup', 'show', cg]) : '(no cgroup v2)',
    'ip netns': tryRun('ip', ['netns', 'list']),
    // runc makes containers' cgroups in every hierarchy (v1 ones too, on a hybrid machine).
    'beeline cgroups': beelineCgroupDirs().join('\n'),
  };
  // iptables-save prints a timestamp and packet counters; neither is state.
  for (const k of ['iptables-save', 'ip6tables-save']) {
    snap[k] = snap[k]!
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
      .join('\n');
  }
  return snap;
}

/** Every directory named `beeline` (and below it) in each cgroup hierarchy under /sys/fs/cgroup. */
function beelineCgroupDirs(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    out.push(d);
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      /* removed meanwhile */
    }
  };
  const base = '/sys/fs/cgroup';
  const roots = existsSync(base) ? [base, ...readdirSync(base, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(base, e.name))] : [];
  for (const r of roots) if (existsSync(join(r, 'beeline'))) walk(join(r, 'beeline'));
  return out.sort();
}

/** Lines that differ between two snapshots, as `section: - old / + new`. Empty when equal. */
export function diffSnapshots(a: Record<string, string>, b: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const la = new Set((a[k] ?? '').split('\n'));
    const lb = new Set((b[k] ?? '').split('\n'));
    for (const l of la) if (!lb.has(l)) out.push(`${k}: - ${l}`);
    for (const l of lb) if (!la.has(l)) out.push(`${k}: + ${l}`);
  }
  return out;
}
