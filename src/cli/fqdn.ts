/**
 * `beeline fqdn cache list`: the names each node's DNS proxy learned from the
 * answers its pods received, with their addresses, TTLs and sources (like
 * `cilium fqdn cache list`). The cache is per node (each agent learns from
 * its own pods' answers), so every node is asked unless --node names one.
 */
import { Command } from 'commander';
import { agentGet } from '../agent/client.js';
import type { AgentReply } from '../agent/replies.js';
import { UsageError } from '../common/errors.js';
import { compileMatchPattern, dnsNameProblem, normaliseDnsName } from '../l7/dns/pattern.js';
import { labOption } from './options.js';
import { agentsOf } from './nodes.js';
import { parseOutput, printStructured, table } from './output.js';

const SOURCES = ['lookup', 'connection'];

interface ListOptions {
  lab?: string;
  node?: string;
  output?: string;
  endpoint?: string;
  matchpattern?: string;
  source?: string;
}

export function registerFqdn(program: Command): void {
  const fqdn = program.command('fqdn').description('DNS names learned by the node DNS proxies (toFQDNs)');
  const cache = fqdn.command('cache').description('the FQDN cache: names, addresses, TTLs');
  cache
    .command('list')
    .alias('ls')
    .description('list learned names and their addresses (like cilium fqdn cache list)')
    .addOption(labOption())
    .option('--node <node>', 'only this node (default: every node)')
    .option('-e, --endpoint <id>', 'only names this endpoint learned')
    .option('-p, --matchpattern <pattern>', 'only names this toFQDNs matchPattern selects (e.g. *.example.test)')
    .option('-s, --source <source>', 'only entries of this source: lookup or connection')
    .option('-o, --output <format>', 'json|yaml')
    .action(async (o: ListOptions) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      if (o.endpoint !== undefined && !/^\d+$/.test(o.endpoint)) throw new UsageError(`fqdn cache list --endpoint ${o.endpoint}: not an endpoint id`, 'give a numeric endpoint id, see beeline endpoint list');
      if (o.source !== undefined && !SOURCES.includes(o.source)) throw new UsageError(`fqdn cache list --source ${o.source}: unknown source`, `one of ${SOURCES.join(', ')}`);
      let selects: ((name: string) => boolean) | undefined;
      if (o.matchpattern !== undefined) {
        const problem = dnsNameProblem(o.matchpattern, true);
        if (problem) throw new UsageError(`fqdn cache list --matchpattern ${o.matchpattern}: ${problem}`, 'a toFQDNs matchPattern, e.g. *.example.test');
        const m = compileMatchPattern(o.matchpattern, 'toFQDNs', '--matchpattern');
        selects = (name) => m.test(normaliseDnsName(name));
      }
      const all = await Promise.all(agentsOf(o).map(async (a) => ({ node: a.node, rows: await agentGet<AgentReply<'ListFqdnCache'>>(a.socket, '/v1/fqdn/cache') })));
      const kept = all.map((n) => ({
        node: n.node,
        rows: n.rows.filter((r) => (o.endpoint === undefined || r.endpoint === Number(o.endpoint)) && (o.source === undefined || r.source === o.source) && (!selects || selects(r.fqdn))),
      }));
      if (printStructured(fmt, kept.length === 1 ? kept[0]!.rows : kept)) return;
      const many = kept.length > 1;
      const rows = kept.flatMap((n) => n.rows.map((r) => [...(many ? [n.node] : []), r.endpoint, r.source, r.fqdn, r.ttl, r.expirationTime, r.ips.join(',')]));
      process.stdout.write(table([...(many ? ['Node'] : []), 'Endpoint', 'Source', 'FQDN', 'TTL', 'ExpirationTime', 'IPs'], rows));
    });
}
