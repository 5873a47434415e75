/**
 * The beeline CLI as the lab benchmarks call it: a run that fails throws
 * with the last lines of its output, and a CLI that crashed while starting
 * because another session was rebuilding dist/ (Node prints its version as
 * the last line of stderr) is tried again.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../src/common/version.js';
import { readState } from '../src/lab/state.js';
import type { EtcdStore } from '../src/store/etcd.js';

export const BIN = join(repoRoot, 'bin', 'beeline');

/** Runs `beeline args…`; throws on a non-zero exit unless `allowFail`. */
export function beeline(args: string[], o: { allowFail?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): { status: number; out: string; err: string } {
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: o.timeoutMs ?? 300_000, maxBuffer: 64 << 20, ...(o.env ? { env: { ...process.env, ...o.env } } : {}) });
    const err = r.stderr ?? '';
    if (r.status !== 0 && /^Node\.js v\d+/.test(err.trim().split('\n').pop() ?? '') && attempt < 4) {
      spawnSync('sleep', ['3']);
      continue;
    }
    if (r.status !== 0 && !o.allowFail) throw new Error(`beeline ${args.join(' ').slice(0, 160)} exited ${r.status}: ${(err || r.stdout || String(r.error ?? '')).trim().split('\n').slice(-3).join(' | ')}`);
    return { status: r.status ?? -1, out: r.stdout ?? '', err };
  }
}

/** Brings a lab down, trying again while its state file remains; answers whether it is gone. */
export function labDown(name: string): boolean {
  for (let i = 0; i < 3 && readState(name); i++) {
    beeline(['lab', 'down', '--name', name, '-q'], { allowFail: true });
    if (readState(name)) spawnSync('sleep', ['3']);
  }
  return !readState(name);
}

/** Brings lab `name` up with 2 nodes (`beeline lab up … extra`), once more after a failure (the half-made lab brought down first). */
export async function labUp2(name: string, extra: string[], progress: (msg: string) => void): Promise<void> {
  labDown(name);
  for (let attempt = 1; ; attempt++) {
    try {
      beeline(['lab', 'up', '--nodes', '2', '--name', name, '-q', ...extra]);
      break;
    } catch (e) {
      if (attempt >= 2) throw e;
      progress(`lab up ${name} failed (${(e as Error).message}); again`);
      labDown(name);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

/** A benchmark pod as the lab's store lists it. */
export interface PodInfo {
  ip: string;
  uid: string;
  node: string;
}

/** A pod's cgroup below its lab's (node/kubepods/pod<uid>), as bench/load.ts's cgroupCpuUs takes it. */
export const podCgroup = (p: PodInfo) => join(p.node, 'kubepods', `pod${p.uid}`);

/** Waits (up to 180 s) until every pod named in `want` of namespace `ns` runs with an address; answers every running pod of `ns` by name. */
export async function runningPods(store: EtcdStore, ns: string, want: string[]): Promise<Record<string, PodInfo>> {
  const pods: Record<string, PodInfo> = {};
  const t0 = performance.now();
  for (;;) {
    const items = (await store.list('Pod', { namespace: ns })).items as any[];
    const running = items.filter((p) => p.status?.phase === 'Running' && p.status?.podIP);
    if (want.every((n) => running.some((p) => p.metadata.name === n))) {
      for (const p of running) pods[p.metadata.name] = { ip: p.status.podIP, uid: p.metadata.uid, node: p.spec.nodeName };
      return pods;
    }
    if (performance.now() - t0 > 180_000) throw new Error(`pods not running after 180 s: ${items.map((p) => `${p.metadata.name}=${p.status?.phase}`).join(' ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Polls every `everyMs` until `check` answers undefined (policies, proxies and DNS records take effect asynchronously); throws with `what` and the last problem after `timeoutMs`. */
export async function until(what: string, check: () => string | undefined | Promise<string | undefined>, timeoutMs = 60_000, everyMs = 1000): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const problem = await check();
    if (problem === undefined) return;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: ${problem}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs `cleanup` and exits 130 on SIGINT or SIGTERM (a benchmark interrupted leaves no lab or files behind). */
export function cleanupOnSignal(cleanup: () => void): void {
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
