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
