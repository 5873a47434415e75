/**
 * The agent's side of IPAM: the node's pod CIDR (claimed from the cluster
 * pool through the store, remembered locally so a restart with the store down
 * still knows it) and the per-node address pool the CNI plugin draws from.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BeelineError, UsageError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { FilePoolStore, PersistentPool } from '../ipam/store.js';
import type { AgentConfig, IpamAllocation } from './types.js';

export interface NodeIpam {
  readonly podCIDR: string;
  /** The pods' default gateway (first usable address of the pod CIDR). */
  readonly gateway: string;
  allocate(owner: string): IpamAllocation;
  /** Exactly `ip` for `owner`; refuses (naming why) an address outside the pod CIDR, reserved, or held by another owner. */
  allocateSpecific(ip: string, owner: string): IpamAllocation;
  /** Every allocation, in address order. */
  entries(): { ip: string; owner: string }[];
  /** The address the owner holds, if any (what an endpoint request's address is checked against). */
  lookup(owner: string): string | undefined;
  /** Idempotent; returns the released address, if the owner had one. */
  release(owner: string): string | undefined;
  stats(): { used: number; capacity: number };
}

/** Where the agent remembers its pod CIDR, so a restart with the store down still knows it. */
export function podCIDRFile(stateDir: string): string {
  return join(stateDir, 'podcidr');
}

/**
 * This node's pod CIDR: the configured one, else the one remembered from a
 * previous run, else one claimed from the cluster pool through the store
 * (waiting for the store as long as it takes: without a CIDR no pod can start).
 */
export async function resolvePodCIDR(config: AgentConfig, claim: (() => Promise<string>) | undefined, log: Logger): Promise<string> {
  const file = podCIDRFile(config.stateDir);
  if (config.podCIDR) return config.podCIDR;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  if (!claim) throw new UsageError(`agent ${config.node}: no podCIDR configured and no kvstore or Kubernetes API to claim one from`);
  for (let attempt = 1; ; attempt++) {
    try {
      const cidr = await claim();
      writeFileSync(file, cidr + '\n');
      return cidr;
    } catch (e) {
      if (e instanceof BeelineError && e.code !== 'BL_ERR_INTERNAL') throw e;
      if (attempt % 10 === 1) log.warn('waiting for the cluster store to claim a pod CIDR', { error: (e as Error).message });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The node's address pool, persisted in the agent's state directory. */
export function openNodeIpam(stateDir: string, podCIDR: string): NodeIpam {
  return PersistentPool.open(new FilePoolStore(join(stateDir, 'ipam.json')), podCIDR);
}
