/** `beeline lab pod add|del|list`: minimal pods, networked by the CNI plugin as a kubelet would. */
import { UsageError } from '../common/errors.js';
import { podExec, podRun } from '../lab/podexec.js';
import type { Command } from 'commander';
import { resolveLabName } from '../lab/state.js';
import { addPod, deletePod, listPods, parseLabel, type PodRecord } from '../lab/pods.js';
import { labOption } from './options.js';
import { age, parseOutput, printStructured, table } from './output.js';

function collectLabel(value: string, acc: Record<string, string>): Record<string, string> {
  const [k, v] = parseLabel(value);
  return { ...acc, [k]: v };
}

function rows(pods: PodRecord[]): (string | number)[][] {
  return pods.map((p) => [
    p.name,
    p.namespace,
    p.node,
    p.ip ?? '-',
    p.phase === 'running' ? 'Running' : p.phase === 'creating' ? 'Creating' : 'Terminating',
    age(Math.round((Date.now() - Date.parse(p.createdAt)) / 1000)),
  ]);
}

/** Adds `pod add|del|list` under the `lab` command. */
export function registerLabPod(lab: Command): void {
  const pod = lab.command('pod').description("pods on the lab's nodes: a network namespace each, networked by beeline-cni as a kubelet would");

  pod
    .command('add')
    .description('create a pod on NODE: its network namespace, then CNI ADD through the node agent')
    .argument('<node>', 'node name (node1, node2, …)')
    .argument('<name>', 'pod name (a DNS label)')
    .option('--namespace <ns>', 'Kubernetes namespace of the pod', 'default')
    .option('--label <key=value>', 'a label of the pod (repeatable)', collectLabel, {} as Record<string, string>)
    .addOption(labOption())
    .option('-o, --output <format>', 'json|yaml: print the pod record')
    .action(async (node: string, name: string, o: { namespace: string; label: Record<string, string>; lab?: string; output?: string }) => {
      const fmt = parseOutput(o.output, ['table', 'json', 'yaml']);
      const p = await addPod(resolveLabName(o.lab), { node, name, namespace: o.namespace, labels: o.label });
      if (!printStructured(fmt, p)) process.stdout.write(`pod/${p.name} created on ${p.node}: ${p.ip} (netns ${p.netns})\n`);
    });

  pod
    .command('del')
    .alias('delete')
    .description('delete a pod: CNI DEL, then its network namespace')
    .argument('<name>', 'pod name')
    .option('--force', 'remove the namespace and record even if CNI DEL fails')
    .addOption(labOption())
    .action(async (name: string, o: { force?: boolean; lab?: string }) => {
      const p = await deletePod(resolveLabName(o.lab), name, { force: !!o.force });
      process.stdout.write(`pod/${p.name} deleted\n`);
    });

  pod
    .command('list')
    .alias('ls')
    .description("list the lab's pods")
    .addOption(labOption())
    .option('-o, --output <format>', 'wide|json|yaml')
    .action((o: { lab?: string; output?: string }) => {
      const fmt = parseOutput(o.output);
      const pods = listPods(resolveLabName(o.lab));
      if (printStructured(fmt, pods)) return;
      if (fmt === 'wide') {
        process.stdout.write(
          table(
            ['NAME', 'NAMESPACE', 'NODE', 'IP', 'STATUS', 'AGE', 'NETNS', 'CONTAINER-ID', 'LABELS'],
            rows(pods).map((r, i) => [...r, pods[i]!.netns, pods[i]!.containerID.slice(0, 12), Object.entries(pods[i]!.labels).map(([k, v]) => `${k}=${v}`).join(',') || '<none>']),
          ),
        );
      } else process.stdout.write(table(['NAME', 'NAMESPACE', 'NODE', 'IP', 'STATUS', 'AGE'], rows(pods)));
    });

  pod
    .command('exec')
    .description("run a command in the pod, as a container of its own (runc: the pod's network, its own root, default capabilities); -d: in the background, ended with the pod")
    .argument('<name>', 'pod name')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-d, --detach', 'run in the background and print its pid')
    .addOption(labOption())
    .action(async (name: string, command: string[], o: { detach?: boolean; lab?: string }) => {
      const cmd = command[0] === '--' ? command.slice(1) : command;
      if (cmd.length === 0) throw new UsageError('lab pod exec: no command given', 'usage: beeline lab pod exec POD -- CMD [ARGS…]');
      const lab = resolveLabName(o.lab);
      if (o.detach) {
        const p = await podRun(lab, name, cmd);
        process.stdout.write(`${p.pid}\n`);
        return;
      }
      process.exitCode = await podExec(lab, name, cmd);
    });
}
