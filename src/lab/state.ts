/**
 * Where a lab lives on disk and what it recorded about itself. The state file
 * is rewritten after every resource `lab up` creates, so `lab down` can undo a
 * lab that was interrupted half-way.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabAmbiguousError, LabNotFoundError } from '../common/errors.js';
import type { LabPlan } from './topology.js';
import type { OwnedProcess } from './process.js';

/** Root of all run-time state (sockets, pins, logs). */
export function runDir(): string {
  return process.env.BEELINE_RUN_DIR ?? '/run/beeline';
}

export function labsDir(): string {
  return join(runDir(), 'labs');
}

export function labDir(name: string): string {
  return join(labsDir(), name);
}

/** Everything a lab made, so that `lab down` can remove exactly that. */
export interface LabState {
  version: 1;
  plan: LabPlan;
  phase: 'creating' | 'up' | 'deleting';
  createdAt: string;
  dir: string;
  /** Namespaces created so far. */
  netns: string[];
  cgroup?: string;
  /** A bpffs mounted for the lab's pins (reachable from inside `ip netns exec`). */
  bpffs?: string;
  etcd?: { socket: string; dataDir: string; process: OwnedProcess };
  /** The cluster-wide operator (identity GC). */
  operator?: OwnedProcess;
  /** The lab's scheduler and controllers (src/lab/controllers.ts). */
  controllers?: OwnedProcess;
  /** The flow relay (src/observer/relay.ts): every node's Observer merged on one socket. */
  relay?: OwnedProcess;
  /** The web UI (`beeline ui`, src/ui/server.ts): on loopback in the machine's namespace, reading the relay's socket. */
  ui?: { process: OwnedProcess; url: string };
  /** DNS servers: `world` (the outside world's) and one per node (the cluster DNS). */
  dns?: Record<string, OwnedProcess>;
  /** Per node: the kubelet. */
  kubelets?: Record<string, OwnedProcess>;
  /** Per node: the L7 proxy's supervisor (HAProxy, src/agent/proxy.ts). */
  proxies?: Record<string, OwnedProcess>;
  /** The cluster DNS address (the kube-dns Service's cluster IP, in front of the kube-system/coredns pods). */
  clusterDNS?: string;
  /** Per node: the agent's socket, its supervisor process, config and log. */
  agents: Record<string, { socket: string; process: OwnedProcess; config: string; log: string }>;
}

export function statePath(name: string): string {
  return join(labDir(name), 'lab.json');
}

export function readState(name: string): LabState | undefined {
  const p = statePath(name);
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, 'utf8')) as LabState;
}

/** Atomic write (rename) so a crash never leaves a torn state file. */
export function writeState(s: LabState): void {
  mkdirSync(s.dir, { recursive: true });
  const p = statePath(s.plan.name);
  writeFileSync(`${p}.tmp`, JSON.stringify(s, null, 2));
  renameSync(`${p}.tmp`, p);
}

/** The name `lab up` gives a lab when none is given. */
export const DEFAULT_LAB = 'beeline';

/** Names of labs with a state file. */
export function listLabs(): string[] {
  try {
    return readdirSync(labsDir())
      .filter((n) => existsSync(statePath(n)))
      .sort();
  } catch {
    return [];
  }
}

/**
 * The lab a command acts on: `--lab`/`--name`, else $BEELINE_LAB, else the only
 * lab that is up.
 */
export function resolveLabName(explicit?: string): string {
  const name = explicit ?? process.env.BEELINE_LAB;
  if (name) {
    if (!readState(name)) throw new LabNotFoundError(`lab ${name}: not found`, "start it with 'beeline lab up --name " + name + "'");
    return name;
  }
  const labs = listLabs();
  if (labs.length === 0) {
    throw new LabNotFoundError(`lab ${DEFAULT_LAB}: not found, no lab is up`, "start one with 'beeline lab up'");
  }
  if (labs.length > 1) throw new LabAmbiguousError(`lab: ${labs.length} labs are up (${labs.join(', ')})`, 'say which with --lab NAME or BEELINE_LAB');
  return labs[0]!;
}
