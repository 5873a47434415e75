/**
 * Progress and logs. Progress goes to stderr so stdout stays machine-readable
 * (`lab up -o json`, `status -o json`).
 */
export interface Progress {
  step(msg: string): void;
  done(msg?: string): void;
}

/** Numbered progress for long operations: `[2/6] creating namespaces`. */
export function progress(total: number, quiet = false): Progress {
  let n = 0;
  const start = Date.now();
  return {
    step(msg: string) {
      n++;
      if (!quiet) process.stderr.write(`[${n}/${total}] ${msg}\n`);
    },
    done(msg?: string) {
      if (!quiet && msg) process.stderr.write(`${msg} (${((Date.now() - start) / 1000).toFixed(1)}s)\n`);
    },
  };
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured log line for daemons (agent): `time level subsys msg key=value…`. */
export function logger(subsys: string, out: NodeJS.WritableStream = process.stderr) {
  const write = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    const kv = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
      .join(' ');
    out.write(`${new Date().toISOString()} ${level} ${subsys}: ${msg}${kv ? ' ' + kv : ''}\n`);
  };
  return {
    debug: (m: string, f?: Record<string, unknown>) => process.env.BEELINE_DEBUG && write('debug', m, f),
    info: (m: string, f?: Record<string, unknown>) => write('info', m, f),
    warn: (m: string, f?: Record<string, unknown>) => write('warn', m, f),
    error: (m: string, f?: Record<string, unknown>) => write('error', m, f),
  };
}
export type Logger = ReturnType<typeof logger>;
