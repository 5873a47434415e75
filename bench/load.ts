/**
 * Load for the services and policy benchmarks: wrk (C, Debian) by default,
 * `beeline loadgen` (Node.js) on request; the generator pinned to one CPU and
 * the labs' own processes (servers, agents, etcd, kubelets, …) to the others,
 * and each run's CPU use reported: the generator's own, and every CPU's busy
 * share from /proc/stat, so a saturated generator or server side shows.
 *
 * Why pin, on this 2-vCPU machine: unpinned, the generator's 16 threads and
 * the 4 servers, two agents and etcd all compete for both CPUs and the
 * scheduler moves them around. Pinned, CPU 0 runs the generator and the
 * kernel work its sends trigger (a veth send is processed on the sending
 * CPU: the SYN's whole path through the node's stack, tc programs or
 * iptables, into the server's socket), CPU 1 the servers and everything of
 * the labs (their replies' path likewise). Each side's busy share then says
 * which one saturated. Other sessions' work on the machine is not pinned.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../src/common/version.js';
import { cgroupPath, cgroupPids } from '../src/lab/cgroup.js';
import { podNetnsName } from '../src/lab/pods.js';
import { parseWrk, wrkArgv, wrkScript, type WrkResult } from '../src/lab/wrk.js';
import type { LoadResult as Loaded } from '../src/lab/loadgen.js';

const BIN = join(repoRoot, 'bin', 'beeline');

export type Generator = 'wrk' | 'loadgen';

export interface LoadConfig {
  generator: Generator;
  /** Connections in flight (wrk: threads too). */
  connections: number;
  seconds: number;
  /** Connection per request (default) or keep-alive (wrk only). */
  close: boolean;
  /** Pin the generator to GEN_CPU and the labs to the other CPUs. */
  pin: boolean;
  /** A directory for the wrk scripts. */
  tmp: string;
}

/** What one measurement reports (times in ms). */
export type LoadResult = Pick<Loaded, 'requests' | 'errors' | 'errorKinds' | 'rps' | 'connectP50Ms' | 'connectP99Ms' | 'totalP50Ms' | 'totalP99Ms' | 'cpuPercent'> & {
  generator: Generator;
  /** wrk's own (coordinated-omission corrected) latency, request written → response. */
  requestP50Ms?: number;
  requestP99Ms?: number;
  /** Busy share of each CPU over the run (user+nice+system+irq+softirq+steal), percent. */
  cpuBusy: number[];
};

/** Where the generator runs: in a pod through `beeline exec` (its container's cgroup: under the node's, so socket LB applies), or in the pod's netns only (outside every lab cgroup: packet-level). */
export interface Where {
  lab: string;
  namespace: string;
  pod: string;
  packetLevel?: boolean;
}

export const GEN_CPU = 0;
export const CPUS = Number(spawnSync('nproc', [], { encoding: 'utf8' }).stdout.trim()) || 1;
/** The CPUs the labs get when pinned: all but the generator's. */
export const LAB_CPUS = CPUS > 1 ? `${GEN_CPU + 1}-${CPUS - 1}` : `${GEN_CPU}`;

/** Parses the generator options shared by both benchmarks. */
export function loadConfigFromArgs(arg: (name: string, def: string) => string, tmp: string, def: { connections: number; seconds: number }): LoadConfig {
  const generator = arg('--generator', 'wrk') as Generator;
  if (generator !== 'wrk' && generator !== 'loadgen') throw new Error(`--generator ${generator}: wrk or loadgen`);
  const close = arg('--mode', 'close') !== 'keepalive';
  if (!close && generator !== 'wrk') throw new Error('--mode keepalive needs --generator wrk');
  return {
    generator,
    connections: Number(arg('--concurrency', String(def.connections))),
    seconds: Number(arg('--seconds', String(def.seconds))),
    close,
    pin: arg('--pin', CPUS > 1 ? 'yes' : 'no') === 'yes' && CPUS > 1,
    tmp,
  };
}

export function describeLoad(c: LoadConfig): string {
  const gen = c.generator === 'wrk' ? `wrk ${c.close ? "-H 'Connection: close' (a TCP connection per request)" : '(keep-alive)'}` : 'beeline loadgen (a TCP connection per request)';
  return `${gen}, ${c.connections} connections, ${c.seconds} s; ${c.pin ? `generator on CPU ${GEN_CPU}, labs on CPU ${LAB_CPUS}` : 'not pinned'}`;
}

/** Every pid in a lab's cgroup subtree. */
function labPids(lab: string): number[] {
  const root = cgroupPath(lab);
  const pids: number[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
      pids.push(...readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
    } catch {
      return; // removed meanwhile
    }
    for (const n of names) walk(join(d, n));
  };
  if (existsSync(root)) walk(root);
  return pids;
}

/** Sets the CPU affinity of every process of the labs (all threads); children they start inherit it. Answers how many. */
function setLabAffinity(labs: string[], cpus: string): number {
  const pids = labs.flatMap(labPids);
  if (pids.length === 0) return 0;
  const r = spawnSync('sh', ['-c', `n=0; for p; do taskset -a -p -c ${cpus} "$p" >/dev/null 2>&1 && n=$((n+1)); done; echo $n`, 'sh', ...pids.map(String)], { encoding: 'utf8' });
  return Number(r.stdout.trim()) || 0;
}

/** Pins every process of the labs to LAB_CPUS (for a measurement). Answers how many processes. */
export function pinLabs(labs: string[]): number {
  return setLabAffinity(labs, LAB_CPUS);
}

/**
 * Gives the labs every CPU again. Only the measurements are pinned: programming 50k
 * Services with every lab process on one CPU (agents, etcd, the controllers and the
 * DNS servers reloading 50k names) starved a restarted agent's first list past its
 * 10 s timeout in the first pinned run.
 */
export function unpinLabs(labs: string[]): number {
  return setLabAffinity(labs, `0-${CPUS - 1}`);
}

/** Cgroups of a lab (`sub`: relative to the lab's cgroup) whose processes a measurement puts on the generator's CPU. */
export interface PinExceptions {
  onGenCpu?: { lab: string; sub: string }[];
}

/** Runs `fn` with the labs pinned (when c.pin), except the `onGenCpu` cgroups' processes (on GEN_CPU), unpinned again after. */
export function pinnedFor<T>(c: LoadConfig, labs: string[], fn: () => T, except: PinExceptions = {}): T {
  if (!c.pin) return fn();
  pinLabs(labs);
  const moved = (except.onGenCpu ?? []).flatMap(({ lab, sub }) => cgroupPids(join(cgroupPath(lab), sub)));
  if (moved.length) spawnSync('sh', ['-c', `for p; do taskset -a -p -c ${GEN_CPU} "$p" >/dev/null 2>&1; done`, 'sh', ...moved.map(String)]);
  try {
    return fn();
  } finally {
    unpinLabs(labs);
  }
}

/** CPU time used so far by a lab's cgroup (`sub` of it), µs (cgroup v2 cpu.stat); NaN when it is gone. */
export function cgroupCpuUs(lab: string, sub: string): number {
  try {
    const m = /^usage_usec (\d+)$/m.exec(readFileSync(join(cgroupPath(lab, sub), 'cpu.stat'), 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Waits until a lab's `sub` cgroup (its DNS servers: `dns`) uses less than `share` of a CPU
 * over a 2 s window, at most `maxMs`. Answers how long it waited and the last window's share.
 * The services benchmark measures after the cluster has settled: at 50k Services the lab's
 * dnsmasq servers re-read the 50,001-name hosts file once per change event they queued while
 * the Services streamed in, about 40 % of a CPU each for minutes.
 */
export async function settleCgroup(lab: string, sub: string, maxMs: number, share = 0.05): Promise<{ waitedMs: number; lastShare: number }> {
  const t0 = Date.now();
  for (;;) {
    const a = cgroupCpuUs(lab, sub);
    await new Promise((r) => setTimeout(r, 2000));
    const b = cgroupCpuUs(lab, sub);
    const lastShare = (b - a) / 2_000_000;
    if (!(lastShare >= share) || Date.now() - t0 >= maxMs) return { waitedMs: Date.now() - t0, lastShare };
  }
}

/** Per-CPU [busy, total] jiffies from /proc/stat. */
export function cpuTimes(): [number, number][] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => {
      const [user, nice, system, idle, iowait, irq, softirq, steal] = l.trim().split(/\s+/).slice(1, 9).map(Number) as number[];
      const busy = user! + nice! + system! + irq! + softirq! + steal!;
      return [busy, busy + idle! + iowait!];
    });
}

/** Per-CPU busy % between two cpuTimes() readings (one decimal; NaN for a CPU with no time passed). */
export function busyShare(a: [number, number][], b: [number, number][]): number[] {
  return b.map(([busy, total], i) => {
    const d = total - a[i]![1];
    return d > 0 ? Math.round(((busy - a[i]![0]) / d) * 1000) / 10 : NaN;
  });
}

let scriptSeq = 0;

/** What one wrk measurement asks for beyond the LoadConfig (wrk only). */
export interface RunOptions {
  /** The request's path (default "/"). */
  path?: string;
  /** wrk threads when fewer than the connections (keep-alive load on one server: `-t 1 -c 32`). */
  threads?: number;
  /** Pacing: requests per second per thread (src/lab/wrk.ts's send slots); unpaced without. */
  ratePerThread?: number;
}

/** One measurement: the generator against `targets` ("ip:port") from `where`. */
export function runLoad(c: LoadConfig, where: Where, targets: string[], o: RunOptions = {}): LoadResult {
  const timeoutMs = (c.seconds + 60) * 1000;
  let argv: string[];
  if (c.generator === 'wrk') {
    const script = join(c.tmp, `wrk-${process.pid}-${++scriptSeq}.lua`);
    writeFileSync(script, wrkScript(targets, { ...(o.path !== undefined ? { path: o.path } : {}), ...(o.ratePerThread !== undefined ? { ratePerThread: o.ratePerThread } : {}) }));
    argv = wrkArgv({ targets, connections: c.connections, ...(o.threads !== undefined ? { threads: o.threads } : {}), seconds: c.seconds, close: c.close, script, ...(c.pin ? { cpu: GEN_CPU } : {}) });
  } else {
    if (o.path !== undefined || o.threads !== undefined || o.ratePerThread !== undefined) throw new Error('runLoad: a path, threads or pacing need the wrk generator');
    argv = [...(c.pin ? ['taskset', '-c', String(GEN_CPU)] : []), BIN, 'loadgen', '--targets', targets.join(','), '--concurrency', String(c.connections), '--duration', `${c.seconds}s`, '-o', 'json'];
  }
  // Packet-level: the pod's network namespace, but this process's cgroup, outside the node's:
  // no socket hook translates its connects. Otherwise the pod's container (under the node's cgroup).
  const cmd = where.packetLevel
    ? ['nsenter', `--net=/run/netns/${podNetnsName(where.lab, where.namespace, where.pod)}`, '--', ...argv]
    : [BIN, 'exec', '--lab', where.lab, '-n', where.namespace, where.pod, '--', ...argv];
  const t0 = cpuTimes();
  // loadgen exits 1 when a request failed; failures are counted in its JSON (and the table).
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  const cpuBusy = busyShare(t0, cpuTimes());
  if (c.generator === 'wrk') {
    let w: WrkResult;
    try {
      w = parseWrk(r.stdout ?? '', new Set(targets.slice(0, c.connections)).size);
    } catch (e) {
      throw new Error(`wrk in ${where.lab}/${where.pod}: exit ${r.status}: ${(e as Error).message} ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}`);
    }
    const { requests, errors, errorKinds, rps, connectP50Ms, connectP99Ms, totalP50Ms, totalP99Ms, cpuPercent, requestP50Ms, requestP99Ms } = w;
    return { generator: 'wrk', requests, errors, errorKinds, rps, connectP50Ms, connectP99Ms, totalP50Ms, totalP99Ms, cpuPercent, requestP50Ms, requestP99Ms, cpuBusy };
  }
  try {
    const l = JSON.parse(r.stdout) as Loaded;
    const { requests, errors, errorKinds, rps, connectP50Ms, connectP99Ms, totalP50Ms, totalP99Ms, cpuPercent } = l;
    return { generator: 'loadgen', requests, errors, errorKinds, rps, connectP50Ms, connectP99Ms, totalP50Ms, totalP99Ms, cpuPercent, cpuBusy };
  } catch {
    throw new Error(`loadgen in ${where.lab}/${where.pod}: exit ${r.status}, no JSON: ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}`);
  }
}
