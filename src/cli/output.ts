/**
 * Printers shared by every command: kubectl-style `-o json|yaml|wide` and
 * plain column tables (no borders, two-space gaps, upper-case headers).
 */
import { stringify } from 'yaml';
import { UsageError, type BeelineError } from '../common/errors.js';

/** An error as every command reports it: `Error [CODE]: message (hint)` on stderr; the stack too with BEELINE_DEBUG. */
export function printError(err: BeelineError): void {
  process.stderr.write(`Error [${err.code}]: ${err.describe()}\n`);
  if (process.env.BEELINE_DEBUG && err.stack) process.stderr.write(err.stack + '\n');
}

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

export function parseOutput(value: string | undefined, allowed: OutputFormat[] = ['table', 'wide', 'json', 'yaml']): OutputFormat {
  const v = (value ?? 'table') as OutputFormat;
  if (!allowed.includes(v)) throw new UsageError(`-o ${value}: unknown output format`, `one of: ${allowed.filter((a) => a !== 'table').join(', ')}`);
  return v;
}

const bigintSafe = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

export function toJSON(obj: unknown): string {
  return JSON.stringify(obj, bigintSafe, 2);
}

export function toYAML(obj: unknown): string {
  return stringify(JSON.parse(JSON.stringify(obj, bigintSafe)));
}

/** A table in kubectl's style: header row then rows, columns padded, separated by three spaces. */
export function table(headers: string[], rows: (string | number | bigint)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd()).join('\n') + '\n';
}

/** Prints a document in the requested structured format; returns false for table formats (the caller prints those). */
export function printStructured(fmt: OutputFormat, obj: unknown): boolean {
  if (fmt === 'json') process.stdout.write(toJSON(obj) + '\n');
  else if (fmt === 'yaml') process.stdout.write(toYAML(obj));
  else return false;
  return true;
}

/** `3661` → `1h1m`, the way kubectl prints ages. */
export function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d`;
}
