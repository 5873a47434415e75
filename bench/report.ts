/**
 * What the lab benchmarks (bench/http-l7.ts, bench/dns-kafka.ts) share around
 * their measurements: arguments, progress lines, number formatting, the median
 * over rounds, the tools they need, the machine they ran on and the results
 * file they write.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { cpus, loadavg, release } from 'node:os';

/** The value after `name` on the command line, else `def`. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

/** A progress logger: one stderr line per message, with the time and `[tag]`. */
export const progressOf = (tag: string) => (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} [${tag}] ${msg}\n`);

/** A number for a table: grouped, `digits` fraction digits, `–` when not measured. */
export const fmt = (n: number | undefined, digits = 0) => (n !== undefined && Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');

/** The median of the finite values (NaN when there are none). */
export const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Throws, naming the first of `bins` that is not on PATH. */
export function requireTools(bins: string[]): void {
  for (const bin of bins) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) throw new Error(`${bin} is not installed (scripts/setup.sh installs it)`);
  }
}

/** The machine a run was on, with the load average before it (`load0`) and now. */
export function machine(load0: number[]) {
  return { cpus: cpus().length, model: cpus()[0]?.model, kernel: release(), loadavgBefore: load0, loadavgAfter: loadavg() };
}

/** Writes `result` as indented JSON to `file`, making its directory. */
export function writeResults(file: string, result: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
}
