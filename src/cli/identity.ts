/** `beeline identity list|get`: security identities (like `cilium identity list|get`). */
import { Command } from 'commander';
import { agentGet } from '../agent/client.js';
import type { AgentReply, IdentityJson, IdentityReference as ReferenceJson } from '../agent/replies.js';
import { UsageError } from '../common/errors.js';
import { formatIdentityList } from '../identity/allocator.js';
import { parseLabel } from '../identity/labels.js';
import { labOption } from './options.js';
import { agentsOf, type AgentRef } from './nodes.js';
import { parseOutput, printStructured } from './output.js';

/** Identities are cluster-wide: the first agent that answers (or the one of --node) gives the list. */
async function identities(agents: AgentRef[]): Promise<IdentityJson[]> {
  let last: unknown;
  for (const a of agents) {
    try {
      return await agentGet<AgentReply<'ListIdentities'>>(a.socket, '/v1/identities');
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

const text = (list: IdentityJson[]) => formatIdentityList(list.map((i) => ({ id: i.id, labels: i.labels.map(parseLabel) })));

export function registerIdentity(program: Command): void {
  const id = program.command('identity').description('security identities (reserved and allocated cluster-wide)');
  id.command('list')
    .alias('ls')
    .description('list identities, the reserved ones first (like cilium identity list)')
    .addOption(labOption())
    .option('--node <node>', 'ask this node’s agent')
    .option('-o, --output <format>', 'json|yaml')
    .action(async (o: { lab?: string; node?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const list = await identities(agentsOf(o));
      if (printStructured(fmt, list)) return;
      process.stdout.write(text(list));
    });
  id.command('get')
    .description('one identity, with the nodes that reference it')
    .argument('<id>', 'numeric identity')
    .addOption(labOption())
    .option('--node <node>', 'ask this node’s agent')
    .option('-o, --output <format>', 'json|yaml')
    .action(async (key: string, o: { lab?: string; node?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      if (!/^\d+$/.test(key)) throw new UsageError(`identity get ${key}: not a number`, 'give a numeric identity, see beeline identity list');
      const agents = agentsOf(o);
      const found = (await identities(agents)).find((i) => i.id === Number(key));
      if (!found) throw new UsageError(`identity ${key}: not found`, 'see beeline identity list');
      const refs = (await Promise.all(agentsOf({ lab: o.lab }).map((a) => agentGet<AgentReply<'ListIdentityReferences'>>(a.socket, '/v1/identities/references').catch(() => [] as ReferenceJson[]))))
        .flat()
        .filter((r) => r.id === found.id);
      const references = Object.fromEntries(refs.map((r) => [r.node, r.references]));
      if (printStructured(fmt, { ...found, references })) return;
      process.stdout.write(text([found]));
      if (refs.length) process.stdout.write(`\nREFERENCES  ${refs.map((r) => `${r.node}=${r.references}`).join(' ')}\n`);
    });
  id.command('references')
    .alias('refs')
    .description("each node's identity references (endpoints per identity; the GC deletes identities no node references)")
    .addOption(labOption())
    .option('--node <node>', 'only this node')
    .option('-o, --output <format>', 'json|yaml')
    .action(async (o: { lab?: string; node?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const refs = (await Promise.all(agentsOf(o).map((a) => agentGet<AgentReply<'ListIdentityReferences'>>(a.socket, '/v1/identities/references')))).flat();
      if (printStructured(fmt, refs)) return;
      const lines = [`${'NODE'.padEnd(10)} ${'ID'.padEnd(10)} REFERENCES`, ...refs.map((r) => `${r.node.padEnd(10)} ${String(r.id).padEnd(10)} ${r.references}`)];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
