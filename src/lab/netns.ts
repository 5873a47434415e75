/**
 * Network namespaces of the lab and the `ip` invocations that build them.
 * Every link/address/route command here carries `-n NETNS`: nothing is ever
 * created in the root network namespace (assertIpTargetsNetns checks it).
 */
import { existsSync, readdirSync } from 'node:fs';
import { run, runAsync, type RunResult } from '../common/exec.js';
import { LabStepError } from '../common/errors.js';
import { assertIpTargetsNetns } from './safety.js';

/** Runs `ip ARGS` after checking it targets a namespace. */
export function ip(args: string[], operation: string): RunResult {
  assertIpTargetsNetns(args);
  return run('ip', args, { operation });
}

/** `ip -n NS ARGS…` */
export function ipIn(netns: string, args: string[], operation: string): RunResult {
  return ip(['-n', netns, ...args], operation);
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

export function listNetns(): string[] {
  try {
    return readdirSync('/run/netns').sort();
  } catch {
    return [];
  }
}

/** Creates a namespace with its loopback up. */
export function addNetns(name: string): void {
  if (netnsExists(name)) throw new LabStepError(`create namespace ${name}: it already exists`, { hint: 'is a lab of that name up? (beeline lab down)' });
  ip(['netns', 'add', name], `create namespace ${name}`);
  ipIn(name, ['link', 'set', 'lo', 'up'], `bring up lo in ${name}`);
}

/**
 * A pod sandbox's namespace, made without blocking the caller (the kubelet starts a
 * Deployment's pods all at once, and a synchronous `ip` run stalls every other pod's
 * progress). Its loopback is left down: the CNI plugin brings it up with the pod's
 * interface, as runtimes leave it to the loopback plugin; one `ip` run per pod less.
 */
export async function addPodNetns(name: string): Promise<void> {
  if (netnsExists(name)) throw new LabStepError(`create namespace ${name}: it already exists`, { hint: 'is a lab of that name up? (beeline lab down)' });
  const args = ['netns', 'add', name];
  assertIpTargetsNetns(args);
  await runAsync('ip', args, { operation: `create namespace ${name}` });
}

export function delNetns(name: string): void {
  if (!netnsExists(name)) return;
  run('ip', ['netns', 'del', name], { operation: `delete namespace ${name}` });
}

/** Runs a command inside a namespace, synchronously. */
export function execIn(netns: string, cmd: string[], operation: string, allowFailure = false): RunResult {
  return run('ip', ['netns', 'exec', netns, ...cmd], { operation, allowFailure });
}

/** Sets a per-namespace sysctl (net.*) inside `netns` only. */
export function sysctlIn(netns: string, key: string, value: string): void {
  if (!key.startsWith('net.')) throw new LabStepError(`sysctl ${key}: only per-namespace net.* keys may be set by the lab`);
  execIn(netns, ['sysctl', '-q', '-w', `${key}=${value}`], `sysctl ${key}=${value} in ${netns}`);
}

/**
 * A veth pair with one end in each namespace, both created directly where they
 * belong (the pair never exists in the root namespace).
 */
export function addVeth(aNetns: string, aName: string, bNetns: string, bName: string): void {
  ipIn(aNetns, ['link', 'add', aName, 'type', 'veth', 'peer', 'name', bName, 'netns', bNetns], `create veth ${aNetns}/${aName} <-> ${bNetns}/${bName}`);
}
