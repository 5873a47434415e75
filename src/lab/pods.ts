/**
 * The lab's minimal pods: a network namespace each, networked by the CNI
 * plugin exactly as a kubelet (through its container runtime) would do it:
 * `ip netns exec <node netns> bin/beeline-cni` with CNI_* in the environment
 * and the node's conflist-derived configuration on stdin. `lab pod exec` runs
 * commands in a pod as runc containers (src/lab/podexec.ts). What a pod is gets
 * recorded in /run/beeline/labs/<lab>/pods/<name>.json; `lab down` removes
 * pod namespaces with the rest of the lab (they share its `bl-<lab>-` prefix).
 *
 *   bl-<lab>-p-<namespace>-<name>   the pod's network namespace
 *   eth0 (10.0.x.y/32)  ══ veth ══  lxc<hash> in the node's namespace
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, LabStepError, PermissionError, PodExistsError, PodNotFoundError, UsageError } from '../common/errors.js';
import { runAsync } from '../common/exec.js';
import { repoRoot } from '../common/version.js';
import { CONFLIST_FILE, conflistText, pluginConfig, renderConflist, type ConfList } from '../cni/conflist.js';
import type { CniErrorObject, CniResult } from '../cni/types.js';
import { cgroupPath, removeCgroup, removeCgroupV1 } from './cgroup.js';
import { deleteContainer, listContainers, runcRoot } from './runc.js';
import { dns1123LabelError, labelKeyError, labelValueError } from '../k8s/names.js';
import { addNetns, delNetns, netnsExists } from './netns.js';
import { cgroup2Root } from './safety.js';
import { labDir, readState, type LabState } from './state.js';

/** Interface name inside every lab pod. */
export const POD_IFNAME = 'eth0';

export interface PodRecord {
  version: 1;
  name: string;
  /** Kubernetes namespace. */
  namespace: string;
  node: string;
  /** Name of the pod's network namespace (under /run/netns). */
  netns: string;
  netnsPath: string;
  /** The sandbox id given to the CNI plugin (CNI_CONTAINERID). */
  containerID: string;
  uid: string;
  ifname: string;
  labels: Record<string, string>;
  /** 'creating' until CNI ADD succeeded; 'deleting' from the start of `pod del`. */
  phase: 'creating' | 'running' | 'deleting';
  createdAt: string;
  ip?: string;
  /** The CNI ADD result: the prevResult of DEL. */
  result?: CniResult;
}

export interface PodAddOptions {
  node: string;
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}

/** Pod names and namespaces are DNS labels (RFC 1123): they also make up the namespace name. */
export function checkDnsLabel(value: string, what: string): void {
  if (dns1123LabelError(value)) {
    throw new UsageError(`${what} '${value}' is invalid`, 'use 1-63 lower-case letters, digits and inner dashes (a DNS label)');
  }
}

/** `k=v` → [k, v], with Kubernetes' rules for label keys (optional DNS prefix/) and values (src/k8s/names.ts). */
export function parseLabel(text: string): [string, string] {
  const i = text.indexOf('=');
  const key = i < 0 ? text : text.slice(0, i);
  const value = i < 0 ? '' : text.slice(i + 1);
  if (i < 0 || labelKeyError(key) || labelValueError(value)) {
    throw new UsageError(`--label ${text}: not a valid label`, 'write key=value: [prefix/]name of letters, digits, - _ . (at most 63), value likewise or empty');
  }
  return [key, value];
}

/** The pod's network namespace name. */
export function podNetnsName(lab: string, namespace: string, name: string): string {
  return `bl-${lab}-p-${namespace}-${name}`;
}

export function podsDir(lab: string): string {
  return join(labDir(lab), 'pods');
}

function podPath(lab: string, name: string): string {
  return join(podsDir(lab), `${name}.json`);
}

function writePod(lab: string, p: PodRecord): void {
  mkdirSync(podsDir(lab), { recursive: true });
  const f = podPath(lab, p.name);
  writeFileSync(`${f}.tmp`, JSON.stringify(p, null, 2) + '\n');
  renameSync(`${f}.tmp`, f);
}

export function readPod(lab: string, name: string): PodRecord | undefined {
  const f = podPath(lab, name);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as PodRecord) : undefined;
}

/** The pod's record, or PodNotFoundError with `message` and the pods the lab has. */
export function requirePod(lab: string, name: string, message: string): PodRecord {
  const rec = readPod(lab, name);
  if (!rec) {
    const known = listPods(lab).map((p) => p.name);
    throw new PodNotFoundError(message, known.length ? `pods: ${known.join(', ')}` : 'it has no pods');
  }
  return rec;
}

/** Every pod of the lab, by name. */
export function listPods(lab: string): PodRecord[] {
  if (!existsSync(podsDir(lab))) return [];
  return readdirSync(podsDir(lab))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(podsDir(lab), f), 'utf8')) as PodRecord);
}

/** Where a node's conflist lives: the lab's /etc/cni/net.d for that node. */
export function nodeConflistPath(lab: string, node: string): string {
  return join(labDir(lab), 'nodes', node, 'cni', 'net.d', CONFLIST_FILE);
}

/** The conflist of one lab node: beeline-cni pointed at that node's agent socket. */
export function renderNodeConflist(state: LabState, node: string): ConfList {
  const agent = state.agents[node];
  if (!agent) throw new LabStepError(`lab ${state.plan.name}: node ${node} has no agent`);
  return renderConflist({ agentSocket: agent.socket });
}

/** Writes the node's conflist (as a node's installer would put it in /etc/cni/net.d) and reads it back. */
export function installNodeConflist(state: LabState, node: string): ConfList {
  const p = nodeConflistPath(state.plan.name, node);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, conflistText(renderNodeConflist(state, node)));
  return JSON.parse(readFileSync(p, 'utf8')) as ConfList;
}

/** The CNI_* environment a kubelet's runtime gives the plugin for this pod. */
export function cniEnv(command: 'ADD' | 'DEL' | 'CHECK', p: Pick<PodRecord, 'containerID' | 'netnsPath' | 'ifname' | 'namespace' | 'name' | 'uid'>): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: p.containerID,
    CNI_NETNS: p.netnsPath,
    CNI_IFNAME: p.ifname,
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${p.namespace};K8S_POD_NAME=${p.name};K8S_POD_INFRA_CONTAINER_ID=${p.containerID};K8S_POD_UID=${p.uid}`,
    CNI_PATH: join(repoRoot, 'bin'),
  };
}

export interface CniOutcome {
  code: number;
  result?: CniResult;
  error?: CniErrorObject;
  stderr: string;
}

/** Runs bin/beeline-cni (or another build's `plugin`, for the benchmark) in the node's namespace, as a runtime does. */
export async function invokeCni(nodeNetns: string, env: Record<string, string>, config: unknown, plugin = join(repoRoot, 'bin', 'beeline-cni')): Promise<CniOutcome> {
  const r = await runAsync('ip', ['netns', 'exec', nodeNetns, plugin], {
    input: JSON.stringify(config),
    env: { PATH: process.env.PATH, ...env },
    allowFailure: true,
    timeoutMs: 120_000,
    operation: `CNI ${env.CNI_COMMAND} in ${nodeNetns}`,
  });
  let doc: unknown;
  try {
    doc = r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  } catch {
    throw new LabStepError(`CNI ${env.CNI_COMMAND}: the plugin printed something that is not JSON: ${r.stdout.slice(0, 200)}`, { hint: r.stderr.trim().split('\n').pop() });
  }
  if (r.code === 0) return { code: 0, result: doc as CniResult | undefined, stderr: r.stderr };
  const error = (doc as CniErrorObject | undefined) ?? { cniVersion: '', code: 100, msg: r.stderr.trim().split('\n').pop() || `exit status ${r.code}` };
  return { code: r.code, error, stderr: r.stderr };
}

/** What names a sandbox to the CNI plugin. */
export type SandboxRef = Pick<PodRecord, 'containerID' | 'netnsPath' | 'ifname' | 'namespace' | 'name' | 'uid'>;

/**
 * CNI ADD or DEL of a sandbox on a lab node, as a runtime does it: the node's
 * conflist (written as its installer would), CNI_* in the environment, the
 * plugin run in the node's namespace. Shared by `lab pod` and the kubelet.
 */
export function cniSandbox(state: LabState, node: string, command: 'ADD' | 'DEL', ref: SandboxRef, extra: { labels?: Record<string, string>; prevResult?: CniResult } = {}): Promise<CniOutcome> {
  const plan = state.plan.nodes.find((n) => n.name === node);
  if (!plan) throw new LabStepError(`CNI ${command} on ${node}: lab ${state.plan.name} has no such node`);
  const conflist = installNodeConflist(state, node);
  return invokeCni(plan.netns, cniEnv(command, ref), pluginConfig(conflist, 0, extra));
}

function cniFailure(op: string, e: CniErrorObject): CniError {
  return new CniError(e.code, `${op}: CNI error ${e.code}: ${e.msg}`, { details: e.details });
}

function requireRoot(op: string): void {
  if (process.getuid && process.getuid() !== 0) throw new PermissionError(`${op}: needs root (network namespaces)`);
}

function labState(lab: string): LabState {
  const state = readState(lab);
  if (!state) throw new LabStepError(`lab ${lab}: state file missing`);
  return state;
}

/**
 * Creates the pod: its namespace, then CNI ADD through the node's plugin. On
 * failure the namespace and record are removed (the plugin undid its part).
 */
export async function addPod(lab: string, opts: PodAddOptions): Promise<PodRecord> {
  const namespace = opts.namespace ?? 'default';
  const op = `lab pod add ${opts.name}`;
  checkDnsLabel(opts.name, 'pod name');
  checkDnsLabel(namespace, 'namespace');
  requireRoot(op);
  const state = labState(lab);
  const node = state.plan.nodes.find((n) => n.name === opts.node);
  if (!node) throw new UsageError(`${op}: lab ${lab} has no node '${opts.node}'`, `one of: ${state.plan.nodes.map((n) => n.name).join(', ')}`);
  const existing = readPod(lab, opts.name);
  if (existing) throw new PodExistsError(`${op}: pod ${opts.name} already exists (namespace ${existing.namespace}, node ${existing.node})`, `remove it first: beeline lab pod del ${opts.name}`);
  const netns = podNetnsName(lab, namespace, opts.name);
  if (netnsExists(netns)) throw new PodExistsError(`${op}: network namespace ${netns} already exists`, 'another pod maps to the same namespace name; choose another name');

  const rec: PodRecord = {
    version: 1,
    name: opts.name,
    namespace,
    node: node.name,
    netns,
    netnsPath: `/run/netns/${netns}`,
    containerID: randomBytes(32).toString('hex'),
    uid: randomUUID(),
    ifname: POD_IFNAME,
    labels: opts.labels ?? {},
    phase: 'creating',
    createdAt: new Date().toISOString(),
  };
  writePod(lab, rec);
  try {
    addNetns(netns);
    const out = await cniSandbox(state, node.name, 'ADD', rec, { labels: rec.labels });
    if (out.error) throw cniFailure(`${op}: CNI ADD on ${node.name}`, out.error);
    const ip = out.result?.ips?.[0]?.address.split('/')[0];
    if (!ip) throw new LabStepError(`${op}: CNI ADD on ${node.name} returned no address`);
    rec.ip = ip;
    rec.result = out.result!;
    rec.phase = 'running';
    writePod(lab, rec);
    return rec;
  } catch (e) {
    try {
      delNetns(netns);
    } catch (de) {
      process.stderr.write(`${op}: also failed to remove ${netns}: ${(de as Error).message}\n`);
    }
    rmSync(podPath(lab, rec.name), { force: true });
    throw e;
  }
}

/**
 * CNI DEL, then the namespace and the record. A failing DEL keeps both (so it
 * can be retried) unless `force`, which removes them anyway.
 */
export async function deletePod(lab: string, name: string, opts: { force?: boolean } = {}): Promise<PodRecord> {
  const op = `lab pod del ${name}`;
  requireRoot(op);
  const rec = requirePod(lab, name, `${op}: lab ${lab} has no pod ${name}`);
  const state = labState(lab);
  const node = state.plan.nodes.find((n) => n.name === rec.node);
  rec.phase = 'deleting';
  writePod(lab, rec);
  if (node && state.agents[node.name]) {
    const out = await cniSandbox(state, node.name, 'DEL', rec, rec.result ? { prevResult: rec.result } : {});
    if (out.error && !opts.force) {
      throw new CniError(out.error.code, `${op}: CNI DEL on ${node.name}: CNI error ${out.error.code}: ${out.error.msg}`, {
        details: out.error.details,
        hint: 'retry, or remove it regardless with --force',
      });
    }
  }
  // Processes started in the pod (lab pod exec -d) go with it.
  await stopPodProcesses(lab, name);
  delNetns(rec.netns);
  rmSync(podPath(lab, name), { force: true });
  return rec;
}

/** Where a lab pod's containers (`lab pod exec`) keep their bundles and the pod's /etc files. */
export function podRuntimeDir(lab: string, name: string): string {
  return join(podsDir(lab), name);
}

/** runc's ids of a lab pod's containers start with this. */
export function podContainerPrefix(name: string): string {
  return `pod-${name}-`;
}

/** Ends every container of a pod (`lab pod exec -d`: runc delete), removes their cgroups (v2 and v1) and bundles. */
async function stopPodProcesses(lab: string, name: string): Promise<void> {
  const root = runcRoot(lab);
  for (const id of listContainers(root).filter((x) => x.startsWith(podContainerPrefix(name)))) deleteContainer({ root, id });
  if (cgroup2Root()) await removeCgroup(cgroupPath(lab, 'pods', name));
  removeCgroupV1(lab, 'pods', name);
  rmSync(podRuntimeDir(lab, name), { recursive: true, force: true });
}
