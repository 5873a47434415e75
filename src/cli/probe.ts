/** `beeline probe`: one connectivity check from inside a lab namespace. */
import { Argument, Command, Option } from 'commander';
import { probe, type ProbeProtocol } from '../lab/probe.js';
import { serve } from '../lab/serve.js';
import { UsageError } from '../common/errors.js';
import { parseOutput, printStructured } from './output.js';

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('one TCP connect, UDP exchange or HTTP GET from this namespace (run it with lab exec; refuses the root namespace)')
    .addArgument(new Argument('<protocol>', 'tcp, udp or http').choices(['tcp', 'udp', 'http']))
    .argument('<target>', 'HOST:PORT')
    .option('--timeout <ms>', 'give up after this many milliseconds', '1000')
    .addOption(new Option('-o, --output <format>', 'json|yaml'))
    .action(async (protocol: ProbeProtocol, target: string, o: { timeout: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const r = await probe(protocol, target, Number(o.timeout));
      if (!printStructured(fmt, r)) process.stdout.write(`${r.protocol} ${r.target}: ${r.verdict}${r.detail ? ` (${r.detail})` : ''} in ${r.millis} ms\n`);
      if (r.verdict !== 'connected') process.exitCode = 1;
    });
}

/**
 * `beeline probes`: many probes at once from this namespace, each
 * `PROTOCOL://HOST:PORT`, all in parallel; one result per target, in order.
 * A network-policy truth table probes every pod from every pod this way, one
 * process per source pod.
 */
export function registerProbes(program: Command): void {
  program
    .command('probes')
    .description('many TCP/UDP/HTTP probes in parallel from this namespace: targets as tcp://HOST:PORT, udp://HOST:PORT, http://HOST:PORT (run it with lab exec)')
    .argument('<targets...>', 'PROTOCOL://HOST:PORT')
    .option('--timeout <ms>', 'give up on each after this many milliseconds', '1000')
    .addOption(new Option('-o, --output <format>', 'json|yaml'))
    .action(async (targets: string[], o: { timeout: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const parsed = targets.map((t) => {
        const m = /^(tcp|udp|http):\/\/(.+)$/.exec(t);
        if (!m) throw new UsageError(`probes: target '${t}': expected tcp://HOST:PORT, udp://HOST:PORT or http://HOST:PORT`);
        return { protocol: m[1] as ProbeProtocol, target: m[2]! };
      });
      const results = await Promise.all(parsed.map((t) => probe(t.protocol, t.target, Number(o.timeout))));
      if (!printStructured(fmt, results)) {
        for (const r of results) process.stdout.write(`${r.protocol} ${r.target}: ${r.verdict}${r.detail ? ` (${r.detail})` : ''} in ${r.millis} ms\n`);
      }
    });
}

/** `beeline serve`: test servers for inside lab pods (HTTP who-am-I, TCP and UDP echo). */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run test servers in this namespace until killed: http (answers with the pod name), tcp and udp echo (refuses the root namespace)')
    .option('--http <port>', 'HTTP port')
    .option('--tcp <port>', 'TCP echo port')
    .option('--udp <port>', 'UDP echo port')
    .option('--name <name>', 'what the HTTP server reports as the pod name (default: $BEELINE_POD or the hostname)')
    .option('--address <ip>', 'listen on this address only (default: every address)')
    .action(async (o: { http?: string; tcp?: string; udp?: string; name?: string; address?: string }) => {
      const want = (['http', 'tcp', 'udp'] as const).filter((p) => o[p] !== undefined);
      if (want.length === 0) throw new UsageError('serve: give at least one of --http, --tcp, --udp');
      const servers = await Promise.all(want.map((p) => serve(p, Number(o[p]), o.name, o.address)));
      process.stderr.write(`serving ${want.map((p) => `${p}:${o[p]}`).join(' ')}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await Promise.all(servers.map((s) => s.close()));
    });
}
