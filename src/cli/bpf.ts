/** `beeline bpf …`: the datapath's maps as the kernel holds them (like `cilium bpf …`). */
import { Command } from 'commander';
import { agentGet } from '../agent/client.js';
import { probeAll } from '../datapath/probes.js';
import { listLabs, readState } from '../lab/state.js';
import { labOption } from './lab.js';
import { agentsOf } from './nodes.js';
import { parseOutput, printStructured, table } from './output.js';

interface MetricJson {
  reason: number;
  reasonName: string;
  direction: string;
  packets: string;
  bytes: string;
}

export function registerBpf(program: Command): void {
  const bpf = program.command('bpf').description('inspect the BPF maps of node datapaths');
  const metrics = bpf.command('metrics').description('per-reason verdict counters');
  metrics
    .command('list')
    .description('list forward/drop counters by reason and direction (like cilium bpf metrics list)')
    .addOption(labOption())
    .option('--node <node>', 'only this node (default: every node)')
    .option('-o, --output <format>', 'json|yaml')
    .action(async (o: { lab?: string; node?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const all = await Promise.all(agentsOf(o).map(async (a) => ({ node: a.node, metrics: await agentGet<MetricJson[]>(a.socket, '/v1/metrics/datapath') })));
      if (printStructured(fmt, all)) return;
      process.stdout.write(
        table(
          ['NODE', 'REASON', 'DIRECTION', 'PACKETS', 'BYTES'],
          all.flatMap((n) => n.metrics.map((m) => [n.node, m.reasonName, m.direction.toUpperCase(), m.packets, m.bytes])),
        ),
      );
    });

  bpf
    .command('features')
    .description('probe the kernel for the BPF features the datapath uses (program, map and helper types, bpffs)')
    .option('--bpffs <path>', "where to look for a bpffs mount (default: the lab's, else /sys/fs/bpf)")
    .option('-o, --output <format>', 'json|yaml')
    .action((o: { bpffs?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const labs = listLabs();
      const bpffs = o.bpffs ?? (labs.length === 1 ? readState(labs[0]!)?.bpffs : undefined) ?? '/sys/fs/bpf';
      const results = probeAll({ bpffsPath: bpffs });
      if (!printStructured(fmt, results)) {
        process.stdout.write(table(['FEATURE', 'STATUS', 'DETAIL'], results.map((r) => [r.name, r.ok ? 'ok' : 'MISSING', r.detail ?? ''])));
      }
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    });
}
