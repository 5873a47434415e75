/** `beeline status`: the node agents' health, like `cilium status`. */
import { Command } from 'commander';
import { agentGet } from '../agent/client.js';
import type { AgentStatus } from '../agent/types.js';
import { asBeelineError } from '../common/errors.js';
import { labOption } from './options.js';
import { agentsOf } from './nodes.js';
import { age, parseOutput, printStructured } from './output.js';

/** The datapath's state as `status` prints it: Ok, Degraded or Failure (status.datapath.state). */
const DATAPATH_STATE: Record<string, string> = { ok: 'Ok', degraded: 'Degraded', failed: 'Failure' };

/** `beeline status`'s lines for one agent: [label, text]. */
export function statusLines(s: AgentStatus): [string, string][] {
  const ok = (b: boolean) => (b ? 'Ok' : 'Failure');
  return [
    ['Node', s.lab ? `${s.node} (lab ${s.lab})` : s.node],
    ['Health', s.health],
    ['KVStore', s.kvstore.state === 'ok' ? `Ok   etcd ${s.kvstore.endpoint}` : s.kvstore.state === 'disabled' ? 'Disabled' : `${s.kvstore.state} ${s.kvstore.message ?? ''}`.trim()],
    // As cilium status's "Kubernetes:" line: the API server the agent watches (Kubernetes mode).
    ['Kubernetes', !s.kubernetes ? 'Disabled' : s.kubernetes.state === 'ok' ? `Ok   ${s.kubernetes.server}` : `${s.kubernetes.state} ${s.kubernetes.server} ${s.kubernetes.message ?? ''}`.trim()],
    ['Datapath', `${DATAPATH_STATE[s.datapath.state] ?? s.datapath.state}   ${s.datapath.mode}${s.datapath.message ? ` (${s.datapath.message})` : ''}`],
    ['Routing', `${s.datapath.routing}${s.datapath.routing === 'tunnel' ? ' [vxlan]' : ''}`],
    ['Node IP', s.nodeIP],
    // Host-netns mode (beeline agent --host-netns, a real node) or a node namespace (the lab).
    ['Netns', `${s.netns || '?'}${s.hostNetns ? '   host-netns mode (--host-netns)' : ''}`],
    ['IPAM', `IPv4: ${s.ipam.used}/${s.ipam.capacity} allocated from ${s.podCIDR}`],
    ['Cluster nodes', `${s.nodes.count + 1} (this one and ${s.nodes.count} remote)`],
    ['Attachments', s.datapath.attachments.map((a) => `${a.iface}/${a.direction}:${a.program}`).join(', ') || 'none'],
    ['BPF maps', s.datapath.maps.map((m) => `${m.name} ${m.entries}/${m.maxEntries}`).join(', ') || 'none'],
    ['Monitor events', `${s.datapath.events.read} read, ${s.datapath.events.lost} lost`],
    ['Endpoints', String(s.endpoints.count)],
    // As cilium status's "Proxy Status": the node's L7 proxy, its listeners and the redirects in its rules.
    ['Proxy', s.proxy ? `${ok(s.proxy.state === 'ok')}   HAProxy (its own process), listeners ingress :${s.proxy.ingressPort}${s.proxy.egressPort ? ` egress :${s.proxy.egressPort}` : ''}, ${s.proxy.redirects} redirects, ${s.proxy.reloads} reloads${s.proxy.message ? ` (${s.proxy.message})` : ''}` : 'Disabled'],
    // As cilium status's DNS proxy line (and `cilium fqdn cache list` for the names).
    ['DNS proxy', s.dnsProxy ? `Ok   :${s.dnsProxy.port} (UDP, TCP), ${s.dnsProxy.queries} queries (${s.dnsProxy.refused} refused, ${s.dnsProxy.errors} errors), ${s.dnsProxy.names} names / ${s.dnsProxy.ips} addresses learned, answer to datapath p50 ${s.dnsProxy.learn.p50Ms.toFixed(2)} ms p99 ${s.dnsProxy.learn.p99Ms.toFixed(2)} ms` : 'Disabled'],
    // The periodic comparison of the maps with the model: entries repaired since start, per map.
    ['Datapath resync', s.resync ? `every ${s.resync.intervalMs / 1000}s, ${s.resync.runs} runs, drift repaired: ${Object.entries(s.resync.repaired).map(([m, n]) => `${m} ${n}`).join(', ') || 'none'}${s.resync.lastRepair ? ` (last ${s.resync.lastRepair.at})` : ''}` : 'Disabled'],
    ['Agent', `beeline ${s.version}, pid ${s.pid}, up ${age(s.uptimeSeconds)}`],
  ];
}

function printStatus(s: AgentStatus): void {
  for (const [k, v] of statusLines(s)) process.stdout.write(`${(k + ':').padEnd(16)}${v}\n`);
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("node agents' health: datapath, kvstore, maps, endpoints (like cilium status)")
    .addOption(labOption())
    .option('--node <node>', 'only this node (default: every node)')
    .option('-o, --output <format>', 'json|yaml')
    .action(async (o: { lab?: string; node?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const results = await Promise.all(
        agentsOf(o).map(async (a) => {
          try {
            return { node: a.node, status: await agentGet<AgentStatus>(a.socket, '/v1/status') };
          } catch (e) {
            return { node: a.node, error: asBeelineError(e) };
          }
        }),
      );
      if (printStructured(fmt, results.map((r) => ('status' in r ? r.status : { node: r.node, health: 'unreachable', error: { code: r.error!.code, message: r.error!.message } })))) {
        if (results.some((r) => !('status' in r) || r.status!.health !== 'ok')) process.exitCode = 1;
        return;
      }
      results.forEach((r, i) => {
        if (i) process.stdout.write('\n');
        if ('status' in r && r.status) printStatus(r.status);
        else process.stdout.write(`Node:           ${r.node}\nHealth:         unreachable (${r.error!.describe()})\n`);
      });
      if (results.some((r) => !('status' in r) || r.status!.health !== 'ok')) process.exitCode = 1;
    });
}
