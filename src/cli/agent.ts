/** `beeline agent`: the per-node daemon. The lab starts one in each node namespace. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { Agent } from '../agent/agent.js';
import type { AgentConfig } from '../agent/types.js';
import { openNodeIpam, resolvePodCIDR } from '../agent/ipam.js';
import { BeelineError, UsageError } from '../common/errors.js';
import { logger } from '../common/log.js';
import { enableHostNetns, ownNetns } from '../common/netns.js';
import { KernelDatapath } from '../datapath/node.js';
import { PlainDatapath } from '../datapath/plain.js';
import { TUNNEL_OVERHEAD, linkMtu } from '../datapath/devices.js';
import { run } from '../common/exec.js';
import { tryParseIPv4 } from '../ipam/cidr.js';

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('run the node agent (started by the lab inside a node namespace)')
    .requiredOption('--config <file>', 'agent configuration (written by the lab; on a cluster the ConfigMap)')
    .option('--k8s-kubeconfig <file>', "Kubernetes mode: watch this API server instead of the kvstore ('in-cluster': the pod's service account)")
    .option('--node <name>', "this node's name (default: $BEELINE_NODE_NAME, else the config's)")
    .option('--node-ip <ip>', "this node's address (default: $BEELINE_NODE_IP, else the config's)")
    .option('--uplink <ifname>', "the node's uplink (default: the config's, else the interface holding the node's address)")
    .option('--host-netns', "run in, and change, the machine's root network namespace, as on a real node (the DaemonSet); never in the lab")
    .action(async (o: { config: string; k8sKubeconfig?: string; node?: string; nodeIp?: string; uplink?: string; hostNetns?: boolean }) => {
      let config: AgentConfig;
      try {
        config = JSON.parse(readFileSync(o.config, 'utf8')) as AgentConfig;
      } catch (e) {
        throw new UsageError(`agent --config ${o.config}: ${(e as Error).message}`);
      }
      config = nodeConfig(config, o, process.env);
      // The flag overrides the config. The datapath's guards read the process's mode, the
      // status and the CNI plugin the config: both set here, from the one value.
      if (o.hostNetns) config.hostNetns = true;
      if (config.hostNetns) enableHostNetns();
      const log = logger(`agent[${config.node}]`);
      if (config.hostNetns) log.info('host-netns mode: this agent may change the network namespace it runs in, root included', { netns: ownNetns() });
      const agent = new Agent(config, {
        datapath: config.datapath === 'none' ? new PlainDatapath(config) : new KernelDatapath(config, log),
        podCIDR: (cluster) => resolvePodCIDR(config, cluster && (() => cluster.claimPodCIDR()), log),
        ipam: (podCIDR) => openNodeIpam(config.stateDir, podCIDR),
        podMTU: () => linkMtu(config.uplink) - (config.routing === 'tunnel' && config.datapath !== 'none' ? TUNNEL_OVERHEAD : 0),
        log,
      });
      try {
        await agent.start();
      } catch (e) {
        // A datapath that cannot load is fatal: say why and exit non-zero.
        const err = e instanceof BeelineError ? e : undefined;
        log.error('start failed', { code: err?.code ?? 'BL_ERR_INTERNAL', error: (e as Error).message });
        await agent.stop().catch(() => undefined);
        throw e;
      }
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          log.info('signal', { sig });
          void agent.stop().finally(resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}

/**
 * The per-node part of the configuration, from flags, then the environment
 * (the DaemonSet's downward API: BEELINE_NODE_NAME, BEELINE_NODE_IP), then
 * the file; the uplink is the interface holding the node's address when the
 * file names none. A cluster's ConfigMap holds only the cluster-wide part.
 */
export function nodeConfig(
  config: AgentConfig,
  o: { k8sKubeconfig?: string; node?: string; nodeIp?: string; uplink?: string },
  env: NodeJS.ProcessEnv,
  uplinkOf: (ip: string) => string | undefined = interfaceWithAddress,
): AgentConfig {
  const c: AgentConfig = { ...config };
  const node = o.node ?? env.BEELINE_NODE_NAME ?? c.node;
  const nodeIP = o.nodeIp ?? env.BEELINE_NODE_IP ?? c.nodeIP;
  if (!node) throw new UsageError('agent: node: required', 'pass --node or set BEELINE_NODE_NAME (the DaemonSet sets it from spec.nodeName)');
  if (!nodeIP || tryParseIPv4(nodeIP) === undefined) throw new UsageError(`agent: node IP: ${nodeIP ? `'${nodeIP}' is not an IPv4 address` : 'required'}`, 'pass --node-ip or set BEELINE_NODE_IP (the DaemonSet sets it from status.hostIP)');
  c.node = node;
  c.nodeIP = nodeIP;
  if (o.k8sKubeconfig) c.k8sKubeconfig = o.k8sKubeconfig;
  if (o.uplink) c.uplink = o.uplink;
  if (!c.uplink) {
    const dev = uplinkOf(nodeIP);
    if (!dev) throw new UsageError(`agent: uplink: no interface holds the node's address ${nodeIP}`, 'pass --uplink');
    c.uplink = dev;
  }
  c.lab ??= '';
  c.netns ??= '';
  return c;
}

/** The interface that holds `ip` in this network namespace. */
function interfaceWithAddress(ip: string): string | undefined {
  const r = run('ip', ['-j', '-4', 'addr', 'show'], { allowFailure: true });
  if (r.code !== 0) return undefined;
  const links = JSON.parse(r.stdout || '[]') as { ifname: string; addr_info?: { local?: string }[] }[];
  return links.find((l) => l.addr_info?.some((a) => a.local === ip))?.ifname;
}
