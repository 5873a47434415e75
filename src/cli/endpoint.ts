/** `beeline endpoint list|get`: the endpoints the node agents manage (like `cilium endpoint list`). */
import { Command } from 'commander';
import { agentGet } from '../agent/client.js';
import type { AgentReply } from '../agent/replies.js';
import type { EndpointModel } from '../agent/types.js';
import { UsageError } from '../common/errors.js';
import { labOption } from './options.js';
import { agentsOf } from './nodes.js';
import { parseOutput, printStructured, table } from './output.js';
import { enforcementText } from './policy.js';

/** Cilium prints labels as `source:key=value`; pod labels come from Kubernetes. */
export function labelList(ep: EndpointModel): string[] {
  if (ep.identityLabels?.length) return [...ep.identityLabels];
  const l = Object.entries(ep.labels).map(([k, v]) => `k8s:${k}${v ? `=${v}` : ''}`);
  if (ep.pod) l.push(`k8s:io.kubernetes.pod.namespace=${ep.pod.namespace}`);
  return l.length ? l.sort() : ['reserved:init'];
}

async function collect(o: { lab?: string; node?: string }): Promise<(AgentReply<'ListEndpoints'>[number] & { node: string })[]> {
  const per = await Promise.all(agentsOf(o).map(async (a) => (await agentGet<AgentReply<'ListEndpoints'>>(a.socket, '/v1/endpoints')).map((e) => ({ ...e, node: a.node }))));
  return per.flat();
}

export function registerEndpoint(program: Command): void {
  const ep = program.command('endpoint').alias('ep').description('endpoints (pods) managed by the node agents');
  ep.command('list')
    .alias('ls')
    .description('list endpoints on every node (or one with --node)')
    .addOption(labOption())
    .option('--node <node>', 'only this node')
    .option('-o, --output <format>', 'json|yaml')
    .action(async (o: { lab?: string; node?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const eps = await collect(o);
      if (printStructured(fmt, eps)) return;
      const rows: string[][] = [];
      for (const e of eps) {
        const labels = labelList(e);
        // Absent from an agent older than the field (a lab upgraded in place).
        const pe = e.policyEnforcement as typeof e.policyEnforcement | undefined;
        const audit = pe?.audit ?? false;
        rows.push([e.node, String(e.id), enforcementText(pe?.ingress ?? false, pe?.ingressDefaultDeny ?? false, audit), enforcementText(pe?.egress ?? false, pe?.egressDefaultDeny ?? false, audit), String(e.identity), labels[0]!, e.ipv4, e.state]);
        for (const l of labels.slice(1)) rows.push(['', '', '', '', '', l, '', '']);
      }
      process.stdout.write(table(['NODE', 'ENDPOINT', 'POLICY (ingress)', 'POLICY (egress)', 'IDENTITY', 'LABELS (source:key[=value])', 'IPv4', 'STATUS'], rows));
    });
  ep.command('get')
    .description('one endpoint in full, by id (with --node) or by pod IPv4 address')
    .argument('<id-or-ip>', 'endpoint id or IPv4 address')
    .addOption(labOption())
    .option('--node <node>', 'the node (needed for an id: ids are per node)')
    .option('-o, --output <format>', 'json|yaml', 'json')
    .action(async (key: string, o: { lab?: string; node?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['json', 'yaml']);
      const eps = await collect(o);
      const found = eps.filter((e) => e.ipv4 === key || String(e.id) === key);
      if (found.length === 0) throw new UsageError(`endpoint ${key}: not found`, 'see beeline endpoint list');
      if (found.length > 1) throw new UsageError(`endpoint ${key}: ${found.length} endpoints match on nodes ${found.map((e) => e.node).join(', ')}`, 'add --node');
      printStructured(fmt, found[0]);
    });
}
