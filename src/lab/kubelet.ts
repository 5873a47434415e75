/**
 * The lab's kubelet: one per lab node, running in the node's network
 * namespace (so its probes come from the node, as a kubelet's do). It keeps
 * the node's Node object current, and for every Pod bound to its node:
 * makes the pod's sandbox (a network namespace networked by the CNI plugin,
 * exactly as a runtime does it), runs each container under runc from an OCI
 * bundle it writes (src/lab/oci.ts: the pod's network namespace, its own
 * mount/PID/IPC/UTS namespaces, a root of read-only host directories plus a
 * private writable layer, Kubernetes' default capabilities, the
 * securityContext, resource limits, a cgroup below the node's in the lab's
 * subtree), restarts containers by restartPolicy with
 * back-off, runs readiness and liveness probes, and writes phase, conditions
 * and container statuses back to the store. A Pod deleted from the store is
 * stopped (SIGTERM, then SIGKILL after its grace period) and its sandbox torn
 * down (CNI DEL, namespace, cgroup).
 *
 * Files, under <lab>/nodes/<node>/kubelet/:
 *   pods/<uid>.json                       what it runs for each pod (adopted after a kubelet restart)
 *   pods/<uid>/etc/{resolv.conf,hosts,hostname}  the pod's /etc files
 *   pods/<uid>/<container>/{config.json,rootfs}  the container's OCI bundle (rootfs: its writable layer)
 *   pods/<uid>/volumes/<name>             emptyDir volumes
 *   logs/<ns>_<name>_<uid>/<c>/<n>.log    container logs, one file per run (kubelet's /var/log/pods layout)
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { request } from 'node:http';
import { arch, release } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { logger, type Logger } from '../common/log.js';
import { repoRoot, version } from '../common/version.js';
import { agentGet } from '../agent/client.js';
import type { AgentStatus } from '../agent/types.js';
import type { CniResult } from '../cni/types.js';
import { openEtcdStore } from '../store/etcd.js';
import type { Informer, Store, StoreObject } from '../store/store.js';
import type { Container, Probe } from '../k8s/types.js';
import { cgroupPath, removeCgroup, removeCgroupV1, runcCgroupsPath } from './cgroup.js';
import { resolvConf } from './dns.js';
import { resolveContainerCommand } from './images.js';
import { CONTAINER_INIT, HOST_PROTECTED_PATHS, containerSecurity, hostPathRefusal, linuxResources, type BindMount, type SecurityContext } from './oci.js';
import { ContainerStartFailed, deleteContainer, execIn, killContainer as runcKill, runContainer, runcRoot, writeBundle, writePodEtc, type RuncContainer } from './runc.js';
import { addPodNetns, delNetns, netnsExists } from './netns.js';
import { POD_IFNAME, cniSandbox, podNetnsName, type SandboxRef } from './pods.js';
import { backoffDelay, podStatus, shouldRestart, BACKOFF_RESET_MS, type ContainerState, type PodRuntimeView } from './podstatus.js';
import { isAlive } from './process.js';
import { labDir, readState, runDir } from './state.js';

export interface KubeletConfig {
  lab: string;
  node: string;
  nodeIP: string;
  kvstore: string;
  agentSocket: string;
  /** The cluster DNS address every pod's resolv.conf names (the kube-dns Service IP). */
  clusterDNS: string;
  /** First crash back-off (Kubernetes: 10 s). */
  backoffBaseMs?: number;
}

/** The kubelet's directory of one lab node. */
export function kubeletDir(lab: string, node: string): string {
  return join(labDir(lab), 'nodes', node, 'kubelet');
}

/** Directory of a pod's container logs: `<ns>_<name>_<uid>`, as /var/log/pods names them. */
export function podLogDir(lab: string, node: string, pod: { namespace: string; name: string; uid: string }): string {
  return join(kubeletDir(lab, node), 'logs', `${pod.namespace}_${pod.name}_${pod.uid}`);
}

/** The log of one run of a container (`restart` = its restartCount at start). */
export function containerLogPath(lab: string, node: string, pod: { namespace: string; name: string; uid: string }, container: string, restart: number): string {
  return join(podLogDir(lab, node, pod), container, `${restart}.log`);
}

/**
 * A pod's cgroup (or one container's below it): under the node's cgroup, so
 * that what is attached there (socket load balancing) applies to the node's
 * pods, as on a real node where kubepods sits below the root cgroup.
 */
export function podCgroup(lab: string, node: string, uid: string, container?: string): string {
  return cgroupPath(lab, node, 'kubepods', `pod${uid}`, ...(container ? [container] : []));
}

/** What the kubelet keeps per pod on disk. */
export interface PodRecordFile {
  uid: string;
  namespace: string;
  name: string;
  netns: string;
  sandboxID: string;
  ip?: string;
  cniResult?: CniResult;
  startTime?: string;
  containers: RecordedContainer[];
  transitions: Record<string, string>;
}

/** A container's state as the kubelet records it: its init pid's start time (against pid reuse) and runc's id for it. */
export type RecordedContainer = ContainerState & { starttime?: string; cid?: string };

/** Where `beeline exec` finds a running container: runc's id for it, its init pid (+ start time, against pid reuse). */
export function runningContainer(lab: string, node: string, uid: string, container?: string): (RuncContainer & { pid: number; starttime: string; name: string }) | { error: string } {
  const f = join(kubeletDir(lab, node), 'pods', `${uid}.json`);
  if (!existsSync(f)) return { error: 'the pod has no sandbox on its node yet' };
  const rec = JSON.parse(readFileSync(f, 'utf8')) as PodRecordFile;
  const c = container ? rec.containers.find((x) => x.name === container) : rec.containers[0];
  if (!c) return { error: `container ${container} is not valid for pod ${rec.name}; choose one of: [${rec.containers.map((x) => x.name).join(' ')}]` };
  if (c.state !== 'running' || !c.pid || !c.starttime || !c.cid || !isAlive({ pid: c.pid, starttime: c.starttime })) {
    return { error: `container ${c.name} is not running (${c.state}${c.reason ? `: ${c.reason}` : ''})` };
  }
  return { root: runcRoot(lab), id: c.cid, pid: c.pid, starttime: c.starttime, name: c.name };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => new Date().toISOString();
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

/** Expands `$(VAR)` references in command/args from the container's environment; `$$(VAR)` escapes. */
export function expandVars(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name?: string) => (m === '$$' ? '$' : name !== undefined && name in env ? env[name]! : m));
}

/** The container's environment: what Kubernetes gives (HOSTNAME, env with the usual fieldRefs) over a minimal base. */
export function containerEnv(pod: StoreObject, c: Container, podIP: string, nodeName: string): Record<string, string> {
  const meta = pod.metadata;
  const fields: Record<string, string> = {
    'metadata.name': meta.name,
    'metadata.namespace': meta.namespace ?? 'default',
    'metadata.uid': meta.uid,
    'spec.nodeName': nodeName,
    'spec.serviceAccountName': String((pod.spec as any)?.serviceAccountName ?? 'default'),
    'status.podIP': podIP,
  };
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    HOSTNAME: String((pod.spec as any)?.hostname ?? meta.name),
  };
  for (const e of c.env ?? []) {
    const ref = (e.valueFrom as any)?.fieldRef?.fieldPath as string | undefined;
    if (e.value !== undefined) env[e.name] = expandVars(e.value, env);
    else if (ref && ref in fields) env[e.name] = fields[ref]!;
    else if (ref?.startsWith('metadata.labels[')) env[e.name] = meta.labels?.[ref.slice(17, -2)] ?? '';
    else env[e.name] = '';
  }
  return env;
}

function namedPort(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/** One probe attempt. Resolves true on success, false on failure (timeouts included). */
export async function runProbe(p: Probe, c: Container, podIP: string, execIn: (cmd: string[], timeoutMs: number) => Promise<number>): Promise<boolean> {
  const timeoutMs = (p.timeoutSeconds ?? 1) * 1000;
  if (p.httpGet) {
    const port = namedPort(c, p.httpGet.port);
    if (!port) return false;
    return new Promise((resolve) => {
      const req = request(
        {
          host: p.httpGet!.host || podIP,
          port,
          path: p.httpGet!.path || '/',
          method: 'GET',
          timeout: timeoutMs,
          agent: false,
          headers: { 'User-Agent': 'kube-probe/1.31', ...Object.fromEntries((p.httpGet!.httpHeaders ?? []).map((h) => [h.name, h.value])) },
        },
        (res) => {
          res.resume();
          resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
      req.end();
    });
  }
  if (p.tcpSocket) {
    const port = namedPort(c, p.tcpSocket.port);
    if (!port) return false;
    return new Promise((resolve) => {
      const s = connect({ host: p.tcpSocket!.host || podIP, port, timeout: timeoutMs });
      s.on('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.on('timeout', () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(false));
    });
  }
  if (p.exec?.command?.length) return (await execIn(p.exec.command, timeoutMs)) === 0;
  return false;
}

/**
 * Runs `cmd` inside a running container with `runc exec`: its namespaces,
 * root, user, capabilities, seccomp filter and cgroup (so it ends with the
 * pod); resolves the exit status.
 */
export function execInContainer(target: RuncContainer, cmd: string[], opts: { timeoutMs?: number; stdio?: StdioOptions } = {}): Promise<number> {
  return execIn(target, cmd, opts);
}

/** The hostPath and emptyDir volumes a container mounts, as binds; other volume kinds are not supported (skipped). */
export function volumeBinds(pod: StoreObject, c: Container, emptyDirRoot: string): BindMount[] {
  const volumes = (((pod.spec as any)?.volumes as any[]) ?? []).filter((v) => v && typeof v.name === 'string');
  const out: BindMount[] = [];
  for (const m of ((c as any).volumeMounts as any[]) ?? []) {
    const v = volumes.find((x) => x.name === m?.name);
    if (!v || typeof m.mountPath !== 'string' || !m.mountPath.startsWith('/')) continue;
    const source = typeof v.hostPath?.path === 'string' ? v.hostPath.path : v.emptyDir ? join(emptyDirRoot, v.name) : undefined;
    if (source) out.push({ source, destination: m.mountPath, readOnly: m.readOnly === true });
  }
  return out;
}

/**
 * Why a container's hostPath bind is refused (oci.ts hostPathRefusal, on the
 * source with its symlinks resolved), or undefined. The lab's own cluster DNS
 * hosts files are allowed read-only.
 */
export function hostPathGuard(b: BindMount, lab: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(b.source);
  } catch {
    return `hostPath ${b.source} does not exist`;
  }
  return hostPathRefusal(real, [runDir(), ...HOST_PROTECTED_PATHS], [join(labDir(lab), 'dns', 'hosts')], b.readOnly);
}

interface ContainerRun {
  spec: Container;
  st: RecordedContainer;
  /** Probe state. */
  readyProbeOk: boolean;
  liveFailures: number;
  readyFailures: number;
  readySuccesses: number;
  timers: NodeJS.Timeout[];
  restartTimer?: NodeJS.Timeout;
  /** Set while the kubelet itself is stopping the container (liveness kill, pod deletion). */
  killing?: 'liveness' | 'delete';
}

/** One pod on this node: its sandbox, containers, probes and status. */
class PodWorker {
  readonly rec: PodRecordFile;
  private readonly runs = new Map<string, ContainerRun>();
  private stopped = false;
  private sandboxReady = false;
  private sandboxMessage: string | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly k: Kubelet,
    private pod: StoreObject,
    existing?: PodRecordFile,
  ) {
    const ns = pod.metadata.namespace ?? 'default';
    this.rec = existing ?? {
      uid: pod.metadata.uid,
      namespace: ns,
      name: pod.metadata.name,
      netns: podNetnsName(k.config.lab, ns, pod.metadata.name),
      sandboxID: randomBytes(32).toString('hex'),
      containers: this.containers().map((c) => ({ name: c.name, image: c.image, state: 'waiting', reason: 'ContainerCreating', restartCount: 0, ready: false })),
      transitions: {},
    };
  }

  /** runc's id of a container's current run. */
  private cid(spec: Container, st: RecordedContainer): string {
    return `${this.rec.uid}-${spec.name}-${st.restartCount}`;
  }

  private containers(): Container[] {
    return ((this.pod.spec as any)?.containers as Container[] | undefined) ?? [];
  }

  private get restartPolicy(): PodRuntimeView['restartPolicy'] {
    return ((this.pod.spec as any)?.restartPolicy as PodRuntimeView['restartPolicy']) ?? 'Always';
  }

  private get log(): Logger {
    return this.k.log;
  }

  private dir(): string {
    return join(kubeletDir(this.k.config.lab, this.k.config.node), 'pods');
  }

  private save(): void {
    if (this.stopped) return;
    mkdirSync(this.dir(), { recursive: true });
    const f = join(this.dir(), `${this.rec.uid}.json`);
    writeFileSync(`${f}.tmp`, JSON.stringify(this.rec, null, 2));
    renameSync(`${f}.tmp`, f);
  }

  update(pod: StoreObject): void {
    this.pod = pod;
  }

  /** Creates the sandbox (or adopts the one on disk) and starts the containers. */
  async start(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.ensureSandbox();
    } catch (e) {
      this.sandboxMessage = (e as Error).message;
      this.log.warn('pod sandbox failed; retrying', { pod: `${this.rec.namespace}/${this.rec.name}`, error: this.sandboxMessage });
      this.writeStatusSoon();
      this.retryTimer = setTimeout(() => void this.start(), 3000);
      return;
    }
    this.sandboxReady = true;
    this.sandboxMessage = undefined;
    this.rec.startTime ??= now();
    this.save();
    for (const spec of this.containers()) {
      const st = this.rec.containers.find((c) => c.name === spec.name)!;
      const run: ContainerRun = { spec, st, readyProbeOk: !spec.readinessProbe, liveFailures: 0, readyFailures: 0, readySuccesses: 0, timers: [] };
      this.runs.set(spec.name, run);
      if (st.state === 'running' && st.pid && st.starttime && isAlive({ pid: st.pid, starttime: st.starttime })) {
        this.log.info('container adopted', { pod: `${this.rec.namespace}/${this.rec.name}`, container: spec.name, pid: st.pid });
        this.startProbes(run);
      } else if (st.state === 'running') {
        this.exited(run, 255, 'Unknown'); // it ended while no kubelet watched it
      } else if (st.state !== 'terminated') {
        if (st.lastTerminated) st.restartCount++; // it was backing off when the kubelet stopped
        this.startContainer(run);
      }
    }
    // Adopted processes are not our children: notice their end by polling.
    this.pollTimer = setInterval(() => this.pollAdopted(), 1000);
    this.writeStatusSoon();
  }

  private sandboxRef(): SandboxRef {
    return { containerID: this.rec.sandboxID, netnsPath: `/run/netns/${this.rec.netns}`, ifname: POD_IFNAME, namespace: this.rec.namespace, name: this.rec.name, uid: this.rec.uid };
  }

  private async ensureSandbox(): Promise<void> {
    const { lab, node } = this.k.config;
    if (this.rec.ip && netnsExists(this.rec.netns)) return;
    const state = readState(lab);
    if (!state) throw new Error(`lab ${lab}: state file missing`);
    if (!netnsExists(this.rec.netns)) await addPodNetns(this.rec.netns);
    const out = await cniSandbox(state, node, 'ADD', this.sandboxRef(), { labels: this.pod.metadata.labels ?? {} });
    if (out.error) throw new Error(`CNI ADD: error ${out.error.code}: ${out.error.msg}`);
    const ip = out.result?.ips?.[0]?.address.split('/')[0];
    if (!ip) throw new Error('CNI ADD returned no address');
    this.rec.ip = ip;
    this.rec.cniResult = out.result;
    writePodEtc(join(this.dir(), this.rec.uid, 'etc'), { ip, hostname: this.hostname(), resolvConf: resolvConf(this.rec.namespace, this.k.config.clusterDNS) });
    this.save();
    this.log.info('pod sandbox ready', { pod: `${this.rec.namespace}/${this.rec.name}`, ip, netns: this.rec.netns });
  }

  private hostname(): string {
    return String((this.pod.spec as any)?.hostname ?? this.rec.name);
  }

  /** A container that cannot be created as specified waits with the kubelet's reason and message (it is not retried). */
  private cannotCreate(run: ContainerRun, message: string): void {
    Object.assign(run.st, { state: 'waiting', reason: 'CreateContainerConfigError', message, pid: undefined, starttime: undefined, cid: undefined, ready: false });
    this.log.warn('container not created', { pod: `${this.rec.namespace}/${this.rec.name}`, container: run.spec.name, error: message });
    this.save();
    this.writeStatusSoon();
  }

  private startContainer(run: ContainerRun): void {
    void this.launch(run).catch((e) => {
      this.log.warn('container start failed', { pod: `${this.rec.namespace}/${this.rec.name}`, container: run.spec.name, error: (e as Error).message });
      if (!this.stopped && run.killing !== 'delete') this.exited(run, 128, 'StartError');
    });
  }

  /** Writes the container's bundle and starts it under runc; the container's init (tini) is the pid recorded. */
  private async launch(run: ContainerRun): Promise<void> {
    if (this.stopped) return;
    const { lab, node } = this.k.config;
    const { spec, st } = run;
    const podName = `${this.rec.name}_${this.rec.namespace}(${this.rec.uid})`;
    const security = containerSecurity((this.pod.spec as any)?.securityContext as SecurityContext | undefined, (spec as any).securityContext as SecurityContext | undefined, { pod: podName, container: spec.name });
    if ('error' in security) return this.cannotCreate(run, security.error);
    const env = containerEnv(this.pod, spec, this.rec.ip!, node);
    const resolved = resolveContainerCommand({ image: spec.image, command: spec.command?.map((s) => expandVars(s, env)), args: spec.args?.map((s) => expandVars(s, env)) });
    const podDir = join(this.dir(), this.rec.uid);
    const c: RuncContainer = { root: runcRoot(lab), id: this.cid(spec, st) };
    deleteContainer(c); // a run that a crashed kubelet left half-made
    const bundle = join(podDir, 'containers', spec.name);
    const emptyDirs = join(podDir, 'volumes');
    const binds = volumeBinds(this.pod, spec, emptyDirs);
    const refused = binds.map((b) => (b.source.startsWith(`${emptyDirs}/`) ? undefined : hostPathGuard(b, lab))).find((m) => m);
    if (refused) return this.cannotCreate(run, `${refused} (pod: "${podName}", container: ${spec.name})`);
    for (const b of binds) if (b.source.startsWith(`${emptyDirs}/`)) mkdirSync(b.source, { recursive: true });
    writeBundle(bundle, {
      argv: [CONTAINER_INIT, '--', ...resolved.argv],
      env,
      cwd: spec.workingDir || '/',
      hostname: this.hostname(),
      netnsPath: `/run/netns/${this.rec.netns}`,
      repoRoot,
      etcFiles: { resolvConf: join(podDir, 'etc', 'resolv.conf'), hosts: join(podDir, 'etc', 'hosts'), hostname: join(podDir, 'etc', 'hostname') },
      security,
      cgroupsPath: runcCgroupsPath(lab, node, 'kubepods', `pod${this.rec.uid}`, spec.name),
      resources: linuxResources(spec.resources),
      binds,
      tmpfs: resolved.tmpfs,
    });
    const logPath = containerLogPath(lab, node, this.rec, spec.name, st.restartCount);
    mkdirSync(join(logPath, '..'), { recursive: true });
    const fd = openSync(logPath, 'a');
    let started: { child: ChildProcess; pid: number; starttime: string };
    const startedAt = now();
    try {
      started = await runContainer(c, bundle, ['ignore', fd, fd]);
    } catch (e) {
      if (!(e instanceof ContainerStartFailed)) throw e;
      // It ended before its pid was read: a run that exited at once (or runc could not make it: see the log).
      st.startedAt = startedAt;
      if (!this.stopped && run.killing !== 'delete') this.exited(run, e.exitCode);
      return;
    } finally {
      closeSync(fd);
    }
    const { child, pid, starttime } = started;
    if (this.stopped || run.killing === 'delete') {
      deleteContainer(c);
      return;
    }
    Object.assign(st, { pid, starttime, cid: c.id, state: 'running', reason: undefined, message: undefined, exitCode: undefined, startedAt, finishedAt: undefined, ready: false });
    run.readyProbeOk = !spec.readinessProbe;
    run.liveFailures = run.readyFailures = run.readySuccesses = 0;
    child.on('exit', (code, signal) => {
      if (st.pid !== pid) return;
      this.exited(run, code ?? 128 + (SIGNALS[signal ?? ''] ?? 9));
    });
    child.unref();
    this.save();
    this.writeStatusSoon(); // the start is asynchronous: the status its caller wrote may predate it
    this.log.info('container started', { pod: `${this.rec.namespace}/${this.rec.name}`, container: spec.name, pid, id: c.id, argv: resolved.argv.join(' ') });
    this.startProbes(run);
    this.updateReady(run);
  }

  private pollAdopted(): void {
    for (const run of this.runs.values()) {
      const { st } = run;
      if (st.state === 'running' && st.pid && st.starttime && !isAlive({ pid: st.pid, starttime: st.starttime })) {
        // Our own children report through 'exit' first; this catches adopted ones.
        setTimeout(() => {
          if (st.state === 'running' && st.pid && !isAlive({ pid: st.pid, starttime: st.starttime! })) this.exited(run, 255, 'Unknown');
        }, 500);
      }
    }
  }

  private exited(run: ContainerRun, exitCode: number, reason?: string): void {
    const { st, spec } = run;
    for (const t of run.timers) clearTimeout(t);
    run.timers = [];
    const startedAt = st.startedAt;
    const ranMs = startedAt ? Date.now() - Date.parse(startedAt) : 0;
    st.pid = undefined;
    st.starttime = undefined;
    st.ready = false;
    if (st.cid) deleteContainer({ root: runcRoot(this.k.config.lab), id: st.cid }); // an adopted run's state, if its runc is gone
    st.cid = undefined;
    if (this.stopped || run.killing === 'delete') return;
    const why = reason ?? (exitCode === 0 ? 'Completed' : 'Error');
    this.log.info('container exited', { pod: `${this.rec.namespace}/${this.rec.name}`, container: spec.name, exitCode, reason: why });
    const finishedAt = now();
    if (!shouldRestart(this.restartPolicy, exitCode) && run.killing !== 'liveness') {
      Object.assign(st, { state: 'terminated', exitCode, reason: why, finishedAt });
      run.killing = undefined;
      this.save();
      this.writeStatusSoon();
      return;
    }
    run.killing = undefined;
    st.lastTerminated = { exitCode, reason: why, ...(startedAt ? { startedAt } : {}), finishedAt };
    // As in Kubernetes, restartCount counts started restarts: while backing off it still names the run that died.
    const backoffRuns = ranMs >= BACKOFF_RESET_MS ? 0 : st.restartCount;
    const delay = backoffRuns === 0 ? 0 : backoffDelay(backoffRuns - 1, this.k.config.backoffBaseMs);
    const restart = () => {
      st.restartCount++;
      this.startContainer(run);
    };
    if (delay === 0) {
      restart();
    } else {
      Object.assign(st, { state: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${spec.name} pod=${this.rec.name}_${this.rec.namespace}(${this.rec.uid})` });
      run.restartTimer = setTimeout(restart, delay);
    }
    this.save();
    this.writeStatusSoon();
  }

  private startProbes(run: ContainerRun): void {
    const { spec } = run;
    const loop = (probe: Probe, kind: 'readiness' | 'liveness') => {
      const period = (probe.periodSeconds ?? 10) * 1000;
      const tick = async () => {
        if (this.stopped || run.st.state !== 'running') return;
        const target = { root: runcRoot(this.k.config.lab), id: run.st.cid! };
        const ok = await runProbe(probe, spec, this.rec.ip!, (cmd, timeoutMs) => execInContainer(target, cmd, { timeoutMs })).catch(() => false);
        if (this.stopped || run.st.state !== 'running') return;
        if (kind === 'readiness') {
          if (ok) {
            run.readyFailures = 0;
            run.readySuccesses++;
            if (run.readySuccesses >= (probe.successThreshold ?? 1)) run.readyProbeOk = true;
          } else {
            run.readySuccesses = 0;
            run.readyFailures++;
            if (run.readyFailures >= (probe.failureThreshold ?? 3)) run.readyProbeOk = false;
          }
          this.updateReady(run);
        } else if (ok) {
          run.liveFailures = 0;
        } else if (++run.liveFailures >= (probe.failureThreshold ?? 3)) {
          this.log.info('liveness probe failed; restarting container', { pod: `${this.rec.namespace}/${this.rec.name}`, container: spec.name });
          run.killing = 'liveness';
          void this.killContainer(run, this.grace());
          return;
        }
        run.timers.push(setTimeout(() => void tick(), period));
      };
      run.timers.push(setTimeout(() => void tick(), (probe.initialDelaySeconds ?? 0) * 1000));
    };
    if (spec.readinessProbe) loop(spec.readinessProbe, 'readiness');
    if (spec.livenessProbe) loop(spec.livenessProbe, 'liveness');
  }

  private updateReady(run: ContainerRun): void {
    const ready = run.st.state === 'running' && run.readyProbeOk;
    if (ready !== run.st.ready) {
      run.st.ready = ready;
      this.save();
      this.writeStatusSoon();
    }
  }

  private grace(): number {
    return Math.min(30, Number((this.pod.spec as any)?.terminationGracePeriodSeconds ?? 30)) * 1000;
  }

  /** SIGTERM to the container (runc kill: its init passes it on); after the grace period, runc delete --force (SIGKILL to all of it). */
  private async killContainer(run: ContainerRun, graceMs: number): Promise<void> {
    const { st } = run;
    const p = st.pid && st.starttime ? { pid: st.pid, starttime: st.starttime } : undefined;
    const c = st.cid ? { root: runcRoot(this.k.config.lab), id: st.cid } : undefined;
    if (p && c && isAlive(p)) {
      runcKill(c, 'TERM');
      const deadline = Date.now() + graceMs;
      while (isAlive(p) && Date.now() < deadline) await sleep(50);
    }
    if (c) deleteContainer(c);
    await removeCgroup(podCgroup(this.k.config.lab, this.k.config.node, this.rec.uid, run.spec.name)).catch(() => undefined);
  }

  /** Stops every container (SIGKILL after `grace` ms) and tears the sandbox down: CNI DEL, namespace, cgroup, files. */
  async stop(grace = this.grace()): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.statusTimer);
    clearInterval(this.pollTimer);
    await Promise.all(
      [...this.runs.values()].map((run) => {
        run.killing = 'delete';
        clearTimeout(run.restartTimer);
        for (const t of run.timers) clearTimeout(t);
        return this.killContainer(run, grace);
      }),
    );
    const { lab, node } = this.k.config;
    await removeCgroup(podCgroup(lab, node, this.rec.uid)).catch(() => undefined);
    try {
      removeCgroupV1(lab, node, 'kubepods', `pod${this.rec.uid}`);
    } catch (e) {
      this.log.warn('pod cgroup not removed', { pod: `${this.rec.namespace}/${this.rec.name}`, error: (e as Error).message });
    }
    const state = readState(lab);
    if (state && this.rec.cniResult) {
      const out = await cniSandbox(state, node, 'DEL', this.sandboxRef(), { prevResult: this.rec.cniResult }).catch((e: Error) => ({ error: { code: 999, msg: e.message } }));
      if (out.error) this.log.warn('CNI DEL failed', { pod: `${this.rec.namespace}/${this.rec.name}`, error: out.error.msg });
    }
    if (netnsExists(this.rec.netns)) delNetns(this.rec.netns);
    rmSync(join(this.dir(), `${this.rec.uid}.json`), { force: true });
    rmSync(join(this.dir(), this.rec.uid), { recursive: true, force: true });
    rmSync(podLogDir(lab, node, this.rec), { recursive: true, force: true });
    this.log.info('pod removed', { pod: `${this.rec.namespace}/${this.rec.name}` });
  }

  private view(): PodRuntimeView {
    const t = this.rec.transitions;
    const v: PodRuntimeView = {
      sandboxReady: this.sandboxReady,
      podIP: this.rec.ip,
      hostIP: this.k.config.nodeIP,
      startTime: this.rec.startTime,
      sandboxMessage: this.sandboxMessage,
      containers: this.rec.containers,
      restartPolicy: this.restartPolicy,
      transitions: t,
    };
    // Remember when each condition last flipped.
    const ready = v.sandboxReady && v.containers.length > 0 && v.containers.every((c) => c.ready);
    for (const [type, ok] of [['Ready', ready], ['ContainersReady', ready], ['PodReadyToStartContainers', v.sandboxReady]] as const) {
      if (!t[`${type}=${ok}`]) {
        t[`${type}=${ok}`] = now();
        delete t[`${type}=${!ok}`];
      }
    }
    t['Initialized=true'] ??= now();
    t['PodScheduled=true'] ??= now();
    return v;
  }

  writeStatusSoon(): void {
    if (this.statusTimer || this.stopped) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      void this.writeStatus();
    }, 50);
  }

  private async writeStatus(): Promise<void> {
    if (this.stopped) return;
    const status = podStatus(this.view());
    try {
      await this.k.store.updateStatus({ apiVersion: 'v1', kind: 'Pod', metadata: { name: this.rec.name, namespace: this.rec.namespace }, status });
    } catch (e) {
      if (this.stopped) return;
      const code = (e as { code?: string }).code;
      if (code === 'BL_ERR_STORE_NOT_FOUND') return; // deleted: the informer will tell us
      this.log.warn('pod status not written; retrying', { pod: `${this.rec.namespace}/${this.rec.name}`, error: (e as Error).message });
      setTimeout(() => this.writeStatusSoon(), 1000);
    }
  }
}

/** The kubelet of one lab node. */
export class Kubelet {
  readonly log = logger('kubelet');
  readonly store: Store;
  private informer: Informer | undefined;
  private readonly workers = new Map<string, PodWorker>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** Pods whose graceful deletion is under way. */
  private readonly terminating = new Set<string>();
  /** Serialises what happens to one pod uid (create, delete) across informer events. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(readonly config: KubeletConfig) {
    this.store = openEtcdStore({ endpoint: config.kvstore });
  }

  private queue(uid: string, fn: () => Promise<void>): void {
    const prev = this.chains.get(uid) ?? Promise.resolve();
    const next = prev.then(fn).catch((e) => this.log.warn('pod sync failed', { uid, error: (e as Error).message }));
    this.chains.set(uid, next);
    void next.finally(() => {
      if (this.chains.get(uid) === next) this.chains.delete(uid);
    });
  }

  private mine(pod: StoreObject): boolean {
    return (pod.spec as any)?.nodeName === this.config.node;
  }

  async start(): Promise<void> {
    await this.registerNode();
    this.heartbeat = setInterval(() => void this.registerNode().catch((e) => this.log.warn('node status not written', { error: (e as Error).message })), 10_000);
    const inf = this.store.informer('Pod');
    this.informer = inf;
    inf.on('add', (p) => this.podSeen(p));
    inf.on('update', (p) => this.podSeen(p));
    inf.on('delete', (p) => this.podGone(p.metadata.uid));
    inf.on('error', (e) => this.log.warn('pod watch', { error: e.message }));
    await inf.start();
    await inf.waitForSync();
    // Pods this kubelet ran before it restarted: adopt them, or clean up after those deleted meanwhile.
    const dir = join(kubeletDir(this.config.lab, this.config.node), 'pods');
    for (const f of existsSync(dir) ? readdirSync(dir).filter((x) => x.endsWith('.json')) : []) {
      const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as PodRecordFile;
      if (this.workers.has(rec.uid)) continue;
      const pod = inf.list(rec.namespace).find((p) => p.metadata.uid === rec.uid);
      const w = new PodWorker(this, pod ?? ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: rec.name, namespace: rec.namespace, uid: rec.uid } } as StoreObject), rec);
      if (pod && this.mine(pod)) {
        this.workers.set(rec.uid, w);
        if (pod.metadata.deletionTimestamp) this.terminate(pod, w);
        else this.queue(rec.uid, () => w.start());
      } else {
        this.queue(rec.uid, () => w.stop());
      }
    }
    for (const p of inf.list()) this.podSeen(p);
    this.log.info('started', { node: this.config.node, pods: this.workers.size });
  }

  private podSeen(pod: StoreObject): void {
    if (!this.informer?.hasSynced() || !this.mine(pod)) return;
    const uid = pod.metadata.uid;
    const w = this.workers.get(uid);
    if (pod.metadata.deletionTimestamp) {
      this.terminate(pod, w);
      return;
    }
    if (w) {
      w.update(pod);
      return;
    }
    const nw = new PodWorker(this, pod);
    this.workers.set(uid, nw);
    this.queue(uid, () => nw.start());
  }

  /** A graceful deletion: stop the pod within its grace period, then remove the object (the kubelet's last word on it). */
  private terminate(pod: StoreObject, w: PodWorker | undefined): void {
    const uid = pod.metadata.uid;
    if (this.terminating.has(uid)) return;
    this.terminating.add(uid);
    const grace = (pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000;
    this.queue(uid, async () => {
      if (w) await w.stop(grace);
      this.workers.delete(uid);
      await this.store.delete('Pod', pod.metadata.namespace, pod.metadata.name, { ignoreNotFound: true });
      this.terminating.delete(uid);
    });
  }

  private podGone(uid: string): void {
    const w = this.workers.get(uid);
    if (!w) return;
    this.workers.delete(uid);
    this.queue(uid, () => w.stop());
  }

  /** Creates or refreshes this node's Node object: labels, addresses, pod CIDR, Ready with a heartbeat. */
  async registerNode(): Promise<void> {
    const { node, nodeIP } = this.config;
    let podCIDR = '';
    let agentOk = false;
    try {
      const st = await agentGet<AgentStatus>(this.config.agentSocket, '/v1/status?maps=0', 2000);
      podCIDR = st.podCIDR;
      agentOk = st.health === 'ok' || st.health === 'degraded';
    } catch {
      /* the agent is restarting: the node is not ready meanwhile */
    }
    const labels = {
      'kubernetes.io/hostname': node,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': arch() === 'x64' ? 'amd64' : arch(),
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': arch() === 'x64' ? 'amd64' : arch(),
    };
    const cur = await this.store.get('Node', undefined, node);
    const spec = { ...((cur?.spec as object) ?? {}), ...(podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {}) };
    if (!cur) await this.store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels }, spec });
    else if (JSON.stringify(cur.spec) !== JSON.stringify(spec) || Object.entries(labels).some(([k, v]) => cur.metadata.labels?.[k] !== v)) {
      await this.store.update({ apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels: { ...cur.metadata.labels, ...labels }, annotations: cur.metadata.annotations }, spec });
    }
    const t = now();
    const prev = ((cur?.status as any)?.conditions as any[] | undefined)?.find((c) => c.type === 'Ready');
    const readyStatus = agentOk ? 'True' : 'False';
    await this.store.updateStatus({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: node },
      status: {
        addresses: [
          { type: 'InternalIP', address: nodeIP },
          { type: 'Hostname', address: node },
        ],
        conditions: [
          {
            type: 'Ready',
            status: readyStatus,
            reason: agentOk ? 'KubeletReady' : 'NetworkPluginNotReady',
            message: agentOk ? 'kubelet is posting ready status' : 'beeline agent is not answering',
            lastHeartbeatTime: t,
            lastTransitionTime: prev?.status === readyStatus ? prev.lastTransitionTime : t,
          },
        ],
        nodeInfo: {
          kubeletVersion: `v1.31.0-beeline.${version}`,
          containerRuntimeVersion: `beeline://${version}`,
          kernelVersion: release(),
          osImage: osImage(),
          operatingSystem: 'linux',
          architecture: labels['kubernetes.io/arch'],
        },
      },
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.informer?.stop();
    await this.store.close();
  }
}

function osImage(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}
