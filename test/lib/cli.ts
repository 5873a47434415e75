/** Runs the real `bin/beeline` for end-to-end tests. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../src/common/version.js';

export const beelineBin = join(repoRoot, 'bin', 'beeline');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function beeline(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000): CliResult {
  const r = spawnSync(beelineBin, args, {
    encoding: 'utf8',
    env: { ...process.env, BEELINE_LAB: undefined, ...env } as NodeJS.ProcessEnv,
    timeout: timeoutMs,
    // Flows as JSON run to megabytes (spawnSync's default cap is 1 MiB, cut silently).
    maxBuffer: 256 << 20,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Like beeline() but throws with the command's stderr when it fails. */
export function beelineOk(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = beeline(args, env);
  if (r.code !== 0) throw new Error(`beeline ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r;
}
