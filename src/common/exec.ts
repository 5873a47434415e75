import { spawn, spawnSync } from 'node:child_process';
import { CommandError } from './errors.js';

/** Result of a finished external command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Text written to the command's stdin. */
  input?: string;
  /** Do not throw on a non-zero exit; return the result instead. */
  allowFailure?: boolean;
  /** What the caller was doing, for the error message. */
  operation?: string;
  hint?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * Runs a command synchronously, without a shell. Throws CommandError naming the
 * command and its stderr's last line unless `allowFailure` is set.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(cmd, args, {
    input: opts.input,
    encoding: 'utf8',
    env: opts.env ?? process.env,
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) {
    const what = opts.operation ?? `${cmd} ${args.join(' ')}`;
    throw new CommandError(`${what}: ${r.error.message}`, null, '', opts.hint ?? `is ${cmd} installed? (make setup)`);
  }
  const res: RunResult = { code: r.status ?? 128 + (r.signal ? 9 : 0), stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (res.code !== 0 && !opts.allowFailure) {
    const what = opts.operation ?? `${cmd} ${args.join(' ')}`;
    const last = res.stderr.trim().split('\n').pop() || `exit status ${res.code}`;
    throw new CommandError(`${what}: ${last}`, res.code, res.stderr, opts.hint);
  }
  return res;
}

/** Asynchronous variant of run(), for long commands that must not block the event loop. */
export function runAsync(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new CommandError(`${opts.operation ?? cmd}: ${e.message}`, null, '', opts.hint));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const res = { code: code ?? (signal ? 137 : 1), stdout, stderr };
      if (res.code !== 0 && !opts.allowFailure) {
        const last = stderr.trim().split('\n').pop() || `exit status ${res.code}`;
        reject(new CommandError(`${opts.operation ?? `${cmd} ${args.join(' ')}`}: ${last}`, res.code, stderr, opts.hint));
      } else resolve(res);
    });
    // A command that exits without reading all its input (EPIPE) is judged by its exit status, not this.
    child.stdin.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') stderr += `stdin: ${e.message}\n`;
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
