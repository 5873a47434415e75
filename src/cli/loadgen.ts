/** `beeline loadgen`: connection-per-request load from inside a lab namespace (the service benchmark's client). */
import { Command, Option } from 'commander';
import { UsageError } from '../common/errors.js';
import { parseDuration } from '../common/duration.js';
import { assertNotRootNetns } from '../lab/safety.js';
import { parseTargets, runLoad } from '../lab/loadgen.js';
import { parseOutput, printStructured } from './output.js';

function positiveInt(raw: string, flag: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} ${raw}: expected a positive integer`);
  return n;
}

export function registerLoadgen(program: Command): void {
  program
    .command('loadgen')
    .description('open one TCP connection per HTTP request against the targets (round-robin) and report rate and latency (run it in a lab namespace; refuses the root namespace)')
    .requiredOption('--targets <list>', 'IP:PORT[,IP:PORT…], used round-robin (e.g. many Service IPs)')
    .option('--concurrency <n>', 'connections in flight at once', '32')
    .option('--duration <d>', 'stop starting requests after this long (Go syntax: 5s, 500ms, 1m)')
    .option('--requests <n>', 'stop after this many requests (with --duration: whichever comes first)')
    .option('--timeout <d>', 'give up on one request after this long', '5s')
    .option('--host <name>', 'Host header of the GET', 'x')
    .addOption(new Option('-o, --output <format>', 'json|yaml'))
    .action(async (o: { targets: string; concurrency: string; duration?: string; requests?: string; timeout: string; host: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const targets = parseTargets(o.targets);
      // Unlike the library (which allows loopback targets for its tests), the command never runs in the root namespace.
      assertNotRootNetns('loadgen');
      const durationMs = o.duration !== undefined ? parseDuration(o.duration, '--duration') : o.requests === undefined ? 5000 : undefined;
      const r = await runLoad({
        targets,
        concurrency: positiveInt(o.concurrency, '--concurrency'),
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(o.requests !== undefined ? { requests: positiveInt(o.requests, '--requests') } : {}),
        timeoutMs: parseDuration(o.timeout, '--timeout'),
        request: `GET / HTTP/1.1\r\nHost: ${o.host}\r\nConnection: close\r\n\r\n`,
      });
      if (!printStructured(fmt, r)) {
        const kinds = Object.entries(r.errorKinds).map(([k, v]) => `${k}=${v}`).join(' ');
        process.stdout.write(
          `${r.requests} requests, ${r.errors} errors${kinds ? ` (${kinds})` : ''} in ${r.elapsedMs} ms: ${r.rps} req/s\n` +
            `connect p50 ${r.connectP50Ms} ms p99 ${r.connectP99Ms} ms; total p50 ${r.totalP50Ms} ms p99 ${r.totalP99Ms} ms\n` +
            `concurrency ${r.concurrency}, ${r.targets} targets; loadgen cpu ${r.cpuPercent}% (user ${r.cpuUserMs} ms, sys ${r.cpuSystemMs} ms)\n`,
        );
      }
      if (r.requests === 0 || r.errors > 0) process.exitCode = 1;
    });
}
