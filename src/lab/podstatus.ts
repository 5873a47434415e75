/**
 * What the lab's kubelet reports about a pod, pure: container states in,
 * Kubernetes' PodStatus out (phase, conditions, containerStatuses), and the
 * restart rules (restartPolicy, CrashLoopBackOff timing) the kubelet follows.
 */

/** A container's state as the kubelet tracks it. */
export interface ContainerState {
  name: string;
  image: string;
  state: 'waiting' | 'running' | 'terminated';
  /** waiting: ContainerCreating, CrashLoopBackOff, …; terminated: Completed, Error. */
  reason?: string;
  message?: string;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  restartCount: number;
  /** The previous run, once the container has restarted (kubectl's "Last State"). */
  lastTerminated?: { exitCode: number; reason: string; startedAt?: string; finishedAt: string };
  /** Readiness: running and its readiness probe (if any) succeeding. */
  ready: boolean;
  /** The main process id while running (reported as containerID beeline://<pid>). */
  pid?: number;
}

export interface PodRuntimeView {
  /** The sandbox (network) is up and has an address. */
  sandboxReady: boolean;
  podIP?: string;
  hostIP: string;
  startTime?: string;
  /** Why the sandbox is not ready (e.g. the CNI error). */
  sandboxMessage?: string;
  containers: ContainerState[];
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  /** When each condition last changed; kept by the kubelet so transitions keep their time. */
  transitions: Record<string, string>;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** Whether a container that exited with `exitCode` is started again under `policy`. */
export function shouldRestart(policy: PodRuntimeView['restartPolicy'], exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** The kubelet's crash back-off: 10 s doubling to 5 min; reset after 10 min of running (pkg/kubelet: MaxContainerBackOff). */
export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
export const BACKOFF_RESET_MS = 600_000;

/** How long to wait before restart number `restarts + 1` (restarts already done since the last reset). */
export function backoffDelay(restarts: number, baseMs = BACKOFF_BASE_MS): number {
  return Math.min(BACKOFF_MAX_MS, baseMs * 2 ** Math.max(0, restarts));
}

/** Kubernetes' pod phase rules (pkg/kubelet getPhase), for pods without init containers. */
export function podPhase(v: Pick<PodRuntimeView, 'sandboxReady' | 'containers' | 'restartPolicy'>): PodPhase {
  if (!v.sandboxReady || v.containers.length === 0) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of v.containers) {
    if (c.state === 'running') running++;
    else if (c.state === 'terminated') {
      stopped++;
      if (c.exitCode === 0) succeeded++;
    } else if (c.restartCount > 0 || c.lastTerminated) {
      stopped++; // waiting to restart after having run: counts as stopped, the pod stays Running
    } else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped === v.containers.length) {
    if (v.restartPolicy === 'Always') return 'Running';
    if (succeeded === stopped) return 'Succeeded';
    if (v.restartPolicy === 'Never') return 'Failed';
    return 'Running'; // OnFailure: the failed ones restart
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, v: PodRuntimeView, reason?: string) {
  return {
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: v.transitions[`${type}=${ok}`] ?? v.startTime ?? null,
    ...(ok || !reason ? {} : { reason }),
  };
}

function stateOf(c: ContainerState): Record<string, unknown> {
  if (c.state === 'running') return { running: { startedAt: c.startedAt } };
  if (c.state === 'terminated') {
    return { terminated: { exitCode: c.exitCode ?? 0, reason: c.reason ?? (c.exitCode === 0 ? 'Completed' : 'Error'), startedAt: c.startedAt, finishedAt: c.finishedAt } };
  }
  return { waiting: { reason: c.reason ?? 'ContainerCreating', ...(c.message ? { message: c.message } : {}) } };
}

/** The pod's `status`, as written back to the store. */
export function podStatus(v: PodRuntimeView): Record<string, unknown> {
  const phase = podPhase(v);
  const allReady = v.sandboxReady && v.containers.length > 0 && v.containers.every((c) => c.ready);
  const notReady = v.containers.filter((c) => !c.ready).map((c) => c.name);
  const reason = 'ContainersNotReady';
  const status: Record<string, unknown> = {
    phase,
    conditions: [
      condition('PodReadyToStartContainers', v.sandboxReady, v),
      condition('Initialized', true, v),
      { ...condition('Ready', allReady, v, reason), ...(allReady ? {} : { message: `containers with unready status: [${notReady.join(' ')}]` }) },
      { ...condition('ContainersReady', allReady, v, reason), ...(allReady ? {} : { message: `containers with unready status: [${notReady.join(' ')}]` }) },
      condition('PodScheduled', true, v),
    ],
    hostIP: v.hostIP,
    hostIPs: [{ ip: v.hostIP }],
    ...(v.podIP ? { podIP: v.podIP, podIPs: [{ ip: v.podIP }] } : {}),
    ...(v.startTime ? { startTime: v.startTime } : {}),
    qosClass: 'BestEffort',
    containerStatuses: v.containers.map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ...(c.pid ? { containerID: `beeline://${c.pid}` } : {}),
      ready: c.ready,
      started: c.state === 'running',
      restartCount: c.restartCount,
      state: stateOf(c),
      lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
    })),
  };
  if (!v.sandboxReady && v.sandboxMessage) status.message = v.sandboxMessage;
  return status;
}

/** What kubectl prints in STATUS: a waiting or terminated reason wins over the phase (e.g. CrashLoopBackOff). */
export function displayStatus(pod: { status?: any; metadata?: any }): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? 'Pending';
  for (const cs of (pod.status?.containerStatuses as any[] | undefined) ?? []) {
    const w = cs.state?.waiting?.reason;
    const t = cs.state?.terminated;
    if (w && w !== 'ContainerCreating') reason = w;
    else if (w && reason === 'Pending') reason = w;
    else if (t && reason !== 'Running') reason = t.reason ?? (t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`);
  }
  return reason;
}
