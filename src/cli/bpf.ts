/** `beeline bpf …`: the datapath's maps as the kernel holds them (like `cilium bpf …`). */
import { Command } from 'commander';
import { agentGet, agentRequest } from '../agent/client.js';
import type { AgentReply } from '../agent/replies.js';
import { frontendFlagNames } from '../datapath/lb.js';
import { probeAll } from '../datapath/probes.js';
import { listLabs, readState, resolveLabName } from '../lab/state.js';
import { labOption } from './options.js';
import { agentsOf } from './nodes.js';
import { parseOutput, printStructured, table } from './output.js';
import { UsageError } from '../common/errors.js';

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
      const all = await Promise.all(agentsOf(o).map(async (a) => ({ node: a.node, metrics: await agentGet<AgentReply<'GetDatapathMetrics'>>(a.socket, '/v1/metrics/datapath') })));
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
    .option('--bpffs <path>', "where to look for a bpffs mount (default: the lab's (--lab, $BEELINE_LAB, else the only lab that is up), else /sys/fs/bpf)")
    .addOption(labOption())
    .option('-o, --output <format>', 'json|yaml')
    .action((o: { bpffs?: string; lab?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      // The lab's own bpffs when a lab is named or is the only one up; without a lab, the machine's.
      const lab = o.lab ?? process.env.BEELINE_LAB ?? (listLabs().length === 1 ? listLabs()[0] : undefined);
      const bpffs = o.bpffs ?? (lab ? readState(resolveLabName(lab))?.bpffs : undefined) ?? '/sys/fs/bpf';
      const results = probeAll({ bpffsPath: bpffs });
      if (!printStructured(fmt, results)) {
        process.stdout.write(table(['FEATURE', 'STATUS', 'DETAIL'], results.map((r) => [r.name, r.ok ? 'ok' : 'MISSING', r.detail ?? ''])));
      }
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    });

  const perNode = async <K extends 'ListBpfEndpoints' | 'ListBpfIpcache' | 'ListBpfConntrack'>(o: { lab?: string; node?: string }, path: string) =>
    Promise.all(agentsOf(o).map(async (a) => ({ node: a.node, rows: await agentGet<AgentReply<K>>(a.socket, path) })));
  const common = (c: Command) => c.addOption(labOption()).option('--node <node>', 'only this node (default: every node)').option('-o, --output <format>', 'json|yaml');

  common(
    bpf
      .command('endpoint')
      .description('the local endpoint map (bl_lxc)')
      .command('list')
      .description('list local endpoints as the datapath sees them (like cilium bpf endpoint list)'),
  ).action(async (o: { lab?: string; node?: string; output?: string }) => {
    const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
    const all = await perNode<'ListBpfEndpoints'>(o, '/v1/bpf/endpoints');
    if (printStructured(fmt, all)) return;
    process.stdout.write(
      table(
        ['NODE', 'IP ADDRESS', 'LOCAL ENDPOINT INFO'],
        all.flatMap((n) =>
          n.rows.map((r) => [n.node, `${r.ip}:0`, `id=${r.id} sec_id=${r.identity} flags=0x${r.flags.toString(16).padStart(4, '0')} ifindex=${r.ifindex} mac=${r.mac.toUpperCase()} nodemac=${r.nodeMac.toUpperCase()}`]),
        ),
      ),
    );
  });

  common(
    bpf
      .command('ipcache')
      .description('the IP cache (bl_ipcache): prefix → identity and tunnel endpoint')
      .command('list')
      .description('list the IP cache (like cilium bpf ipcache list)'),
  ).action(async (o: { lab?: string; node?: string; output?: string }) => {
    const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
    const all = await perNode<'ListBpfIpcache'>(o, '/v1/bpf/ipcache');
    if (printStructured(fmt, all)) return;
    process.stdout.write(
      table(
        ['NODE', 'IP PREFIX/ADDRESS', 'IDENTITY'],
        all.flatMap((n) => n.rows.map((r) => [n.node, r.prefix, `identity=${r.identity} encryptkey=0 tunnelendpoint=${r.tunnelEndpoint} nodeid=${r.nodeId}${r.authRequired ? ' flags=auth-required' : ''}`])),
      ),
    );
  });

  common(
    bpf
      .command('lb')
      .description('the service load-balancing maps (bl_lb4_services, bl_lb4_backends)')
      .command('list')
      .description('list frontends with their backend slots (like cilium bpf lb list)'),
  ).action(async (o: { lab?: string; node?: string; output?: string }) => {
    const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
    const all = await Promise.all(agentsOf(o).map(async (a) => ({ node: a.node, ...(await agentGet<AgentReply<'ListBpfLb'>>(a.socket, '/v1/bpf/lb')) })));
    if (printStructured(fmt, all)) return;
    const rows: string[][] = [];
    for (const n of all) {
      const byId = new Map(n.backends.map((b) => [b.id, b]));
      for (const f of n.frontends) {
        const fe = `${f.address}:${f.port}/${f.protocol}`;
        // A routed (mesh) frontend's master names the node proxy's mesh listener port, as Cilium's l7-load-balancer.
        rows.push([n.node, `${fe} (0)`, `0.0.0.0:${f.proxyPort ?? 0} (${f.id}) (0) [${frontendFlagNames(f.flags)}]`]);
        f.backends.forEach((id, i) => {
          const b = byId.get(id);
          rows.push(['', '', `${b ? `${b.address}:${b.port}/${b.protocol}` : `<backend ${id} missing>`} (${f.id}) (${i + 1})`]);
        });
      }
    }
    process.stdout.write(table(['NODE', 'SERVICE ADDRESS', 'BACKEND ADDRESS (REVNAT_ID) (SLOT)'], rows));
  });

  const pol = bpf.command('policy').description('the policy map (bl_policy): per endpoint, what each peer identity may reach');
  pol
    .command('get')
    .description("one endpoint's policy map entries, or every endpoint's (like cilium bpf policy get)")
    .argument('[endpoint]', 'endpoint id (see beeline endpoint list); default: every endpoint')
    .addOption(labOption())
    .option('--node <node>', 'only this node (default: every node; an endpoint id names one node\'s endpoint, so give --node with it)')
    .option('-o, --output <format>', 'json|yaml')
    .action(async (endpoint: string | undefined, o: { lab?: string; node?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      if (endpoint !== undefined && !/^\d+$/.test(endpoint)) throw new UsageError(`bpf policy get ${endpoint}: expected a numeric endpoint id`, 'see beeline endpoint list');
      const path = endpoint === undefined ? '/v1/bpf/policy' : `/v1/bpf/policy?endpoint=${endpoint}`;
      const all = await Promise.all(agentsOf(o).map(async (a) => ({ node: a.node, rows: await agentGet<AgentReply<'ListBpfPolicy'>>(a.socket, path) })));
      if (printStructured(fmt, all)) return;
      const rows: string[][] = [];
      for (const n of all) {
        for (const r of n.rows) {
          const verdict = r.verdict === 'allow' ? 'Allow' : r.verdict === 'deny' ? 'Deny' : 'Default deny';
          const port = r.protocol === 0 ? 'ANY' : `${r.portPrefixLen === 0 ? 'ANY' : r.portPrefixLen === 16 ? r.port : `${r.port}/${r.portPrefixLen}`}/${protoName(r.protocol)}`;
          // PROXY PORT as cilium prints it: the node proxy's listener the connection is handed to (L7 rules), else NONE;
          // AUTH as cilium's AUTH TYPE: required (authentication.mode required) or disabled.
          rows.push([n.node, String(r.endpoint), verdict, r.direction === 'ingress' ? 'Ingress' : 'Egress', r.identity === 0 ? 'ANY' : String(r.identity), port, r.proxyPort ? String(r.proxyPort) : 'NONE', r.authRequired ? 'required' : 'disabled', String(r.packets), String(r.bytes), r.policies.join(', ')]);
        }
      }
      process.stdout.write(table(['NODE', 'ENDPOINT', 'POLICY', 'DIRECTION', 'IDENTITY', 'PORT/PROTO', 'PROXY PORT', 'AUTH', 'PACKETS', 'BYTES', 'DECIDED BY'], rows));
    });

  const ct = bpf.command('ct').description('the connection-tracking table (bl_ct4)');
  common(
    ct
      .command('list')
      .description('list connection-tracking entries (like cilium bpf ct list global)')
      .argument('[table]', 'the table: global', 'global'),
  ).action(async (tbl: string, o: { lab?: string; node?: string; output?: string }) => {
    if (tbl !== 'global') throw new UsageError(`bpf ct list ${tbl}: unknown table`, 'beeline has one table per node: global');
    const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
    const all = await perNode<'ListBpfConntrack'>(o, '/v1/bpf/ct');
    if (printStructured(fmt, all)) return;
    for (const n of all) {
      for (const r of n.rows) {
        const flags = r.flags.length ? r.flags.join(' ') : '';
        process.stdout.write(
          `${all.length > 1 ? `[${n.node}] ` : ''}${r.proto} ${r.direction} ${r.src} -> ${r.dst} expires=${r.expiresIn} RxPackets=${r.rxPackets} RxBytes=${r.rxBytes} RxFlagsSeen=0x${r.rxFlagsSeen.toString(16).padStart(2, '0')} TxPackets=${r.txPackets} TxBytes=${r.txBytes} TxFlagsSeen=0x${r.txFlagsSeen.toString(16).padStart(2, '0')} Flags=[ ${flags} ]${r.revNat ? ` RevNAT=${r.revNat}` : ''}${r.backendId ? ` BackendID=${r.backendId}` : ''}\n`,
        );
      }
    }
  });
  common(ct.command('gc').description('delete expired entries now (the agent also does it periodically)')).action(
    async (o: { lab?: string; node?: string; output?: string }) => {
      for (const a of agentsOf(o)) {
        const r = await agentRequest<AgentReply<'ConntrackGc'>>(a.socket, 'POST', '/v1/bpf/ct/gc');
        process.stdout.write(`${a.node}: deleted ${r.body.deleted} expired entries\n`);
      }
    },
  );
}


function protoName(p: number): string {
  return ({ 1: 'ICMP', 6: 'TCP', 17: 'UDP', 132: 'SCTP' } as Record<number, string>)[p] ?? String(p);
}
