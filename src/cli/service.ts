/** `beeline service list` (cilium service list): each node's Service frontends and their backends, as programmed. */
import { Command } from 'commander';
import { agentGet } from '../agent/client.js';
import type { AgentReply } from '../agent/replies.js';
import { labOption } from './options.js';
import { agentsOf } from './nodes.js';
import { parseOutput, printStructured, table } from './output.js';

export function registerService(program: Command): void {
  const service = program.command('service').description('Services as the nodes load-balance them (kube-proxy replacement)');
  service
    .command('list')
    .description('list frontends and their backends (like cilium service list)')
    .addOption(labOption())
    .option('--node <node>', 'only this node (default: every node)')
    .option('-o, --output <format>', 'json|yaml')
    .action(async (o: { lab?: string; node?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const all = await Promise.all(agentsOf(o).map(async (a) => ({ node: a.node, ...(await agentGet<AgentReply<'ListServices'>>(a.socket, '/v1/services')) })));
      if (printStructured(fmt, all)) return;
      const rows: string[][] = [];
      for (const n of all) {
        for (const s of n.services) {
          const backends = s.backends.length ? s.backends.map((b, i) => `${i + 1} => ${b.address}:${b.port}/${s.frontend.split('/')[1]} (${b.state})`) : ['(none: connections are refused)'];
          backends.forEach((b, i) => rows.push(i === 0 ? [n.node, String(s.id), s.frontend, s.type, s.service, b] : ['', '', '', '', '', b]));
        }
      }
      process.stdout.write(table(['NODE', 'ID', 'FRONTEND', 'SERVICE TYPE', 'SERVICE', 'BACKEND'], rows));
      for (const n of all) for (const p of n.problems) process.stderr.write(`Warning: ${n.node}: service ${p.service}: ${p.field}: ${p.message}${p.severity === 'error' ? ' (not programmed)' : ''}\n`);
    });
}
