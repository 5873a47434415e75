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

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('run the node agent (started by the lab inside a node namespace)')
    .requiredOption('--config <file>', 'agent configuration (written by the lab)')
    .option('--host-netns', "run in, and change, the machine's root network namespace, as on a real node (the DaemonSet); never in the lab")
    .action(async (o: { config: string; hostNetns?: boolean }) => {
      let config: AgentConfig;
      try {
        config = JSON.parse(readFileSync(o.config, 'utf8')) as AgentConfig;
      } catch (e) {
        throw new UsageError(`agent --config ${o.config}: ${(e as Error).message}`);
      }
      // The flag overrides the config. The datapath's guards read the process's mode, the
      // status and the CNI plugin the config: both set here, from the one value.
      if (o.hostNetns) config.hostNetns = true;
      if (config.hostNetns) enableHostNetns();
      const log = logger(`agent[${config.node}]`);
      if (config.hostNetns) log.info('host-netns mode: this agent may change the network namespace it runs in, root included', { netns: ownNetns() });
      const agent = new Agent(config, {
        datapath: config.datapath === 'none' ? new PlainDatapath(config) : new KernelDatapath(config, log),
        podCIDR: (etcd) => resolvePodCIDR(config, etcd, log),
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
