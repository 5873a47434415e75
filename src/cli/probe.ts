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

/** `beeline serve`: test servers for inside lab pods (HTTP who-am-I, TCP and UDP echo). */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run test servers in this namespace until killed: http (answers with the pod name), tcp and udp echo (refuses the root namespace)')
    .option('--http <port>', 'HTTP port')
    .option('--tcp <port>', 'TCP echo port')
    .option('--udp <port>', 'UDP echo port')
    .option('--name <name>', 'what the HTTP server reports as the pod name (default: $BEELINE_POD or the hostname)')
    .action(async (o: { http?: string; tcp?: string; udp?: string; name?: string }) => {
      const want = (['http', 'tcp', 'udp'] as const).filter((p) => o[p] !== undefined);
      if (want.length === 0) throw new UsageError('serve: give at least one of --http, --tcp, --udp');
      const servers = await Promise.all(want.map((p) => serve(p, Number(o[p]), o.name)));
      process.stderr.write(`serving ${want.map((p) => `${p}:${o[p]}`).join(' ')}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await Promise.all(servers.map((s) => s.close()));
    });
}
