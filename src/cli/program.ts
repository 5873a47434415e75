/**
 * `beeline`: one executable for the lab, the agent and the user-facing
 * commands. kubectl's verbs for resources, cilium's for the agent, hubble's
 * for flows. Every failure ends in one line on stderr,
 * `Error [CODE]: what failed (what to do)`, and a non-zero exit.
 */
import { Command, CommanderError } from 'commander';
import { BeelineError, UsageError, asBeelineError } from '../common/errors.js';
import { version } from '../common/version.js';
import { printError } from './output.js';
import { registerLab } from './lab.js';
import { registerAgent } from './agent.js';
import { registerOperator } from './operator.js';
import { registerRelay } from './relay.js';
import { registerStatus } from './status.js';
import { registerBpf } from './bpf.js';
import { registerFqdn } from './fqdn.js';
import { registerProbe, registerProbes, registerServe } from './probe.js';
import { registerMonitor } from './monitor.js';
import { registerObserve } from './observe.js';
import { registerEndpoint } from './endpoint.js';
import { registerIdentity } from './identity.js';
import { registerResources } from './resources.js';
import { registerWorkloads } from './workloads.js';
import { registerLoadgen } from './loadgen.js';
import { registerService } from './service.js';
import { registerPolicy } from './policy.js';
import { registerUi } from './ui.js';

export function buildProgram(): Command {
  const program = new Command('beeline')
    .description('Kubernetes networking, security and observability with an eBPF datapath')
    .version(version, '-v, --version', 'print the version')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  registerLab(program);
  registerStatus(program);
  registerEndpoint(program);
  registerIdentity(program);
  registerResources(program);
  registerWorkloads(program);
  registerService(program);
  registerPolicy(program);
  registerBpf(program);
  registerFqdn(program);
  registerMonitor(program);
  registerObserve(program);
  registerUi(program);
  registerAgent(program);
  registerOperator(program);
  registerRelay(program);
  registerProbe(program);
  registerProbes(program);
  registerServe(program);
  registerLoadgen(program);
  program
    .command('version')
    .description('print the client version')
    .action(() => console.log(`beeline ${version}`));
  // Every command, however deep, exits through our error path instead of commander's.
  const harden = (c: Command) => {
    c.exitOverride();
    c.configureOutput({ outputError: () => undefined });
    c.commands.forEach(harden);
  };
  harden(program);
  return program;
}

/** Turns a commander error into our usage error, keeping its text. */
function fromCommander(e: CommanderError, argv: string[]): BeelineError | undefined {
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return undefined;
  const cmd = ['beeline', ...argv.filter((a) => !a.startsWith('-')).slice(0, 2)].join(' ');
  const msg = e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  return new UsageError(`${cmd}: ${msg}`, `see '${cmd} --help'`);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      const err = fromCommander(e, argv);
      if (!err) return e.exitCode;
      printError(err);
      return 2;
    }
    const err = asBeelineError(e);
    printError(err);
    return err instanceof UsageError ? 2 : 1;
  }
}

