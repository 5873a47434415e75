/**
 * A connection-per-request load generator for the service load-balancing
 * benchmark (issue 5), run inside pod or node namespaces (`beeline loadgen`
 * under `ip netns exec` / `beeline exec`). Every request is a fresh TCP
 * connection (connect → write → read until the server closes), so every
 * request pays the service translation once: that is what the benchmark
 * compares (eBPF socket/tc load-balancing vs kube-proxy's iptables / nftables).
 *
 * It uses node:net directly, reuses one request buffer, records latencies into
 * preallocated typed arrays, and discards response bytes without copying them,
 * so that the generator is not the bottleneck; it reports its own CPU use so a
 * run can show whether it was.
 *
 * Being a traffic generator it refuses the machine's root network namespace,
 * except when every target is a loopback address (loopback traffic never leaves
 * the machine; the unit tests use it).
 */
import { createConnection, isIPv4, isIPv6, type Socket } from 'node:net';
import { UsageError } from '../common/errors.js';
import { parseTarget } from './probe.js';
import { assertNotRootNetns } from './safety.js';

export interface LoadTarget {
  host: string;
  port: number;
}

export interface LoadOptions {
  /** Round-robin over these (e.g. many Service IPs). */
  targets: LoadTarget[];
  /** Connections in flight at once. */
  concurrency: number;
  /** Stop starting requests after this long (at least one of durationMs / requests). */
  durationMs?: number;
  /** Stop after this many requests have been started. */
  requests?: number;
  /** Bytes written on each connection (default: an HTTP/1.1 GET with Connection: close). */
  request?: string | Buffer;
  /** Give up on one request after this long (default 5000 ms); counts as an error. */
  timeoutMs?: number;
}

/** What every load generator reports (`beeline loadgen`, wrk through src/lab/wrk.ts), times in ms. */
export interface LoadCounts {
  /** Requests that completed with a response. */
  requests: number;
  /** Requests that failed (refused, reset, timed out, empty or non-2xx/3xx response). */
  errors: number;
  /** Failures by kind: error codes (ECONNREFUSED, …), 'timeout', 'empty', 'status'. */
  errorKinds: Record<string, number>;
  /** Completed requests per second of wall time. */
  rps: number;
  connectP50Ms: number;
  connectP99Ms: number;
  totalP50Ms: number;
  totalP99Ms: number;
}

export interface LoadResult extends LoadCounts {
  /** Wall time from the first request to the last completion. */
  elapsedMs: number;
  concurrency: number;
  targets: number;
  /** The generator's own CPU time (this process) and its share of one core. */
  cpuUserMs: number;
  cpuSystemMs: number;
  cpuPercent: number;
}

export const DEFAULT_REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Parses `ip:port,ip:port,…` (or an array of them). */
export function parseTargets(raw: string | string[]): LoadTarget[] {
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((r) => r.split(',')).map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new UsageError('loadgen: no targets', 'give --targets IP:PORT[,IP:PORT…]');
  return parts.map((p) => parseTarget(p));
}

/** Growable latency store in microseconds (Float64Array; doubles when full). */
class Samples {
  private a = new Float64Array(1 << 14);
  n = 0;
  push(us: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = us;
  }
  /** Nearest-rank percentiles in milliseconds. */
  percentiles(ps: number[]): number[] {
    if (this.n === 0) return ps.map(() => 0);
    const s = this.a.slice(0, this.n).sort();
    return ps.map((p) => s[Math.min(this.n - 1, Math.max(0, Math.ceil((p / 100) * this.n) - 1))]! / 1000);
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Runs the load and resolves when every started request has finished. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const { targets, concurrency } = opts;
  if (!targets.length) throw new UsageError('loadgen: no targets');
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`loadgen: concurrency ${concurrency}: expected a positive integer`);
  if (opts.durationMs === undefined && opts.requests === undefined) throw new UsageError('loadgen: give a duration or a request count');
  if (opts.durationMs !== undefined && !(opts.durationMs > 0)) throw new UsageError(`loadgen: duration ${opts.durationMs}: expected > 0`);
  if (opts.requests !== undefined && !(Number.isInteger(opts.requests) && opts.requests > 0)) throw new UsageError(`loadgen: requests ${opts.requests}: expected a positive integer`);
  if (!targets.every((t) => isLoopback(t.host))) assertNotRootNetns(`loadgen ${targets.map((t) => `${t.host}:${t.port}`).join(',')}`);

  const payload = typeof opts.request === 'string' || opts.request === undefined ? Buffer.from(opts.request ?? DEFAULT_REQUEST, 'latin1') : opts.request;
  const checkHttp = payload.subarray(0, 16).toString('latin1').includes(' HTTP/1.');
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxRequests = opts.requests ?? Infinity;
  const connect = new Samples();
  const total = new Samples();
  const errorKinds: Record<string, number> = {};
  let started = 0;
  let ok = 0;
  let errors = 0;
  let next = 0;
  let lastDone = 0n;

  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const deadline = opts.durationMs !== undefined ? t0 + BigInt(Math.round(opts.durationMs * 1e6)) : undefined;
  const more = (): boolean => started < maxRequests && (deadline === undefined || process.hrtime.bigint() < deadline);
  const fail = (kind: string): void => {
    errors++;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };

  await new Promise<void>((resolveAll) => {
    let active = 0;
    const one = (): void => {
      const t = targets[next]!;
      next = next + 1 === targets.length ? 0 : next + 1;
      started++;
      active++;
      const start = process.hrtime.bigint();
      let connectedAt = 0n;
      let gotBytes = false;
      let failed: string | undefined;
      const s: Socket = createConnection({ host: t.host, port: t.port });
      s.setTimeout(timeoutMs);
      s.once('connect', () => {
        connectedAt = process.hrtime.bigint();
        s.write(payload); // the server closes (Connection: close); our end follows (allowHalfOpen off)
      });
      s.once('data', (chunk: Buffer) => {
        gotBytes = true;
        // "HTTP/1.1 200 …": status digit at byte 9.
        if (checkHttp && !(chunk.length > 9 && chunk[0] === 0x48 && (chunk[9] === 0x32 || chunk[9] === 0x33))) failed = 'status';
      });
      s.resume(); // keep flowing after the once('data') listener is gone; bytes are dropped
      s.once('timeout', () => {
        failed ??= 'timeout';
        s.destroy();
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        failed ??= e.code ?? 'error';
      });
      s.once('close', () => {
        const end = process.hrtime.bigint();
        lastDone = end;
        if (failed === undefined && !gotBytes) failed = 'empty';
        if (failed !== undefined) fail(failed);
        else {
          ok++;
          connect.push(Number(connectedAt - start) / 1000);
          total.push(Number(end - start) / 1000);
        }
        active--;
        if (more()) one();
        else if (active === 0) resolveAll();
      });
    };
    for (let i = 0; i < concurrency && more(); i++) one();
    if (active === 0) resolveAll();
  });

  const elapsedNs = Number((lastDone || process.hrtime.bigint()) - t0);
  const cpu = process.cpuUsage(cpu0);
  const [c50, c99] = connect.percentiles([50, 99]);
  const [t50, t99] = total.percentiles([50, 99]);
  const elapsedMs = elapsedNs / 1e6;
  return {
    requests: ok,
    errors,
    errorKinds,
    rps: elapsedMs > 0 ? Math.round((ok / elapsedMs) * 1000 * 10) / 10 : 0,
    connectP50Ms: round3(c50!),
    connectP99Ms: round3(c99!),
    totalP50Ms: round3(t50!),
    totalP99Ms: round3(t99!),
    elapsedMs: Math.round(elapsedMs),
    concurrency,
    targets: targets.length,
    cpuUserMs: Math.round(cpu.user / 1000),
    cpuSystemMs: Math.round(cpu.system / 1000),
    cpuPercent: elapsedMs > 0 ? Math.round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 1000) / 10 : 0,
  };
}
