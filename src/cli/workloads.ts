/**
 * kubectl's verbs for what runs in pods: `exec` (a command inside a running
 * container, its exit status returned) and `logs` (a container's output,
 * `-p` for the previous run, `-f` to follow). Both find the pod in the lab's
 * store and the container through the kubelet of the pod's node.
 */
import { Command } from 'commander';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { ContainerNotRunningError, PodNotScheduledError, UsageError } from '../common/errors.js';
import { containerLogPath, execInContainer, runningContainer } from '../lab/kubelet.js';
import { resolveLabName } from '../lab/state.js';
import type { StoreObject } from '../store/store.js';
import { labOption } from './options.js';
import { requireObject, withStore } from './resources.js';
import { requireKind } from '../k8s/index.js';

function getPod(lab: string, namespace: string, name: string): Promise<StoreObject> {
  return withStore(lab, (store) => requireObject(store, requireKind('Pod'), namespace, name));
}

function nodeOf(pod: StoreObject): string {
  const node = (pod.spec as any)?.nodeName as string | undefined;
  if (!node) throw new PodNotScheduledError(`pod ${pod.metadata.name}: not scheduled to a node yet`, `see 'beeline describe pod ${pod.metadata.name}'`);
  return node;
}

/** Copies what a file holds from `offset`; answers the new offset. */
function copyFrom(path: string, offset: number): number {
  if (!existsSync(path)) return offset;
  const size = statSync(path).size;
  if (size <= offset) return offset;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    process.stdout.write(buf);
  } finally {
    closeSync(fd);
  }
  return size;
}

/** The last `n` lines of a text. */
function tail(text: string, n: number): string {
  const lines = text.split('\n');
  const end = lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  return lines.slice(Math.max(0, end - n), end).map((l) => `${l}\n`).join('');
}

export function registerWorkloads(program: Command): void {
  program
    .command('exec')
    .description('run a command in a container of a pod (kubectl exec POD -- CMD); exits with its status')
    .argument('<pod>', 'pod name')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-n, --namespace <ns>', 'namespace of the pod', 'default')
    .option('-c, --container <name>', 'container (default: the first)')
    .option('-i, --stdin', 'pass standard input to the command')
    .option('-t, --tty', 'accepted for kubectl compatibility (the command gets this terminal as it is)')
    .addOption(labOption())
    .action(async (podName: string, command: string[], o: { namespace: string; container?: string; stdin?: boolean; lab?: string }) => {
      const lab = resolveLabName(o.lab);
      const pod = await getPod(lab, o.namespace, podName);
      const target = runningContainer(lab, nodeOf(pod), pod.metadata.uid, o.container);
      if ('error' in target) throw new ContainerNotRunningError(`exec ${podName}: ${target.error}`, `see 'beeline describe pod ${podName} -n ${o.namespace}'`);
      // Without -i the command reads nothing, as with kubectl.
      const code = await execInContainer(target, command, { stdio: o.stdin ? 'inherit' : ['ignore', 'inherit', 'inherit'] });
      process.exitCode = code;
    });

  program
    .command('logs')
    .description("print a container's output (kubectl logs)")
    .argument('<pod>', 'pod name')
    .option('-n, --namespace <ns>', 'namespace of the pod', 'default')
    .option('-c, --container <name>', 'container (default: the first)')
    .option('-p, --previous', 'the previous run of the container (after a restart)')
    .option('-f, --follow', 'keep printing what the container writes')
    .option('--tail <lines>', 'only the last lines', '-1')
    .addOption(labOption())
    .action(async (podName: string, o: { namespace: string; container?: string; previous?: boolean; follow?: boolean; tail: string; lab?: string }) => {
      const lab = resolveLabName(o.lab);
      const pod = await getPod(lab, o.namespace, podName);
      const node = nodeOf(pod);
      const containers = (((pod.spec as any)?.containers as { name: string }[]) ?? []).map((c) => c.name);
      const container = o.container ?? containers[0];
      if (!container || !containers.includes(container)) {
        throw new UsageError(`logs ${podName}: container ${o.container} is not valid for pod ${podName}`, `choose one of: [${containers.join(' ')}]`);
      }
      const cs = (((pod.status as any)?.containerStatuses as any[]) ?? []).find((c) => c.name === container);
      const restarts = Number(cs?.restartCount ?? 0);
      if (o.previous && restarts === 0) throw new ContainerNotRunningError(`logs ${podName}: previous terminated container "${container}" in pod "${podName}" not found`);
      const run = o.previous ? restarts - 1 : restarts;
      const path = containerLogPath(lab, node, { namespace: o.namespace, name: podName, uid: pod.metadata.uid }, container, run);
      const n = Number(o.tail);
      if (!Number.isInteger(n)) throw new UsageError(`--tail ${o.tail}: must be a whole number`);
      let offset = 0;
      if (n >= 0 && existsSync(path)) {
        const text = readFileSync(path, 'utf8');
        process.stdout.write(tail(text, n));
        offset = Buffer.byteLength(text);
      } else offset = copyFrom(path, 0);
      if (!o.follow || o.previous) return;
      await new Promise<void>((resolve) => {
        const t = setInterval(() => (offset = copyFrom(path, offset)), 200);
        const stop = () => {
          clearInterval(t);
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
