/** Durations as Cilium's and kubectl's flags take them (Go syntax). */
import { UsageError } from './errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * `--timeout`: a Go duration (what Cilium's flags take): `5s`, `500ms`, `1m30s`,
 * `1.5h`. Returns milliseconds; a unit is required except for `0`.
 */
export function parseDuration(raw: string, flag = '--timeout'): number {
  const s = raw.trim();
  const fail = () => new UsageError(`${flag} ${raw}: not a duration`, 'a number with a unit, e.g. 500ms, 5s, 2m, 1h30m');
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let ms = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(s)) !== null) {
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = re.lastIndex;
  }
  if (end === 0 || end !== s.length || !Number.isFinite(ms)) throw fail();
  return ms;
}
