/** `beeline probe`: one connectivity check from inside a lab namespace. */
import { Argument, Command, Option } from 'commander';
import { probe, type ProbeProtocol } from '../lab/probe.js';
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
