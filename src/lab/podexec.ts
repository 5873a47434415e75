/**
 * Running commands in a lab pod (`lab pod exec`): each command is a one-off
 * runc container in the pod's network namespace, confined as the kubelet's
 * containers are (src/lab/oci.ts: its own root of read-only host directories,
 * mount/PID/IPC/UTS namespaces, Kubernetes' default capabilities, seccomp,
 * a cgroup under the lab's subtree), as root in it. In the foreground it is
 * attached to this terminal (stdin, stdout, stderr passed as they are); with
 * -d it runs in the background, output to the pod's log, until it ends or the
 * pod or the lab is deleted.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LabStepError } from '../common/errors.js';
import { repoRoot } from '../common/version.js';
import { runcCgroupsPath } from './cgroup.js';
import { CONTAINER_INIT, DEFAULT_CAPS } from './oci.js';
import { deleteContainer, runContainer, runcRoot, writeBundle, writePodEtc, type RuncContainer } from './runc.js';
import type { OwnedProcess } from './process.js';
import { podContainerPrefix, podRuntimeDir, podsDir, requirePod, type PodRecord } from './pods.js';

/** Writes a one-off container's bundle for CMD in the pod; returns runc's name for it and the bundle's directory. */
function execBundle(lab: string, rec: PodRecord, cmd: string[]): { c: RuncContainer; bundle: string } {
  const id = `${podContainerPrefix(rec.name)}${randomBytes(4).toString('hex')}`;
  const dir = podRuntimeDir(lab, rec.name);
  const bundle = join(dir, 'exec', id);
  const cwd = process.cwd().startsWith(`${repoRoot}/`) || process.cwd() === repoRoot ? process.cwd() : '/';
  writeBundle(bundle, {
    argv: [CONTAINER_INIT, '--', ...cmd],
    env: Object.fromEntries(Object.entries({ ...process.env, BEELINE_POD: rec.name }).filter((e): e is [string, string] => e[1] !== undefined)),
    cwd,
    hostname: rec.name,
    netnsPath: rec.netnsPath,
    repoRoot,
    etcFiles: writePodEtc(join(dir, 'etc'), { ip: rec.ip, hostname: rec.name }),
    security: { uid: 0, gid: 0, additionalGids: [], capabilities: [...DEFAULT_CAPS], readOnlyRootfs: false, noNewPrivileges: false },
    cgroupsPath: runcCgroupsPath(lab, 'pods', rec.name, id),
  });
  return { c: { root: runcRoot(lab), id }, bundle };
}

/** Runs CMD in the pod, attached to this terminal; resolves with its exit status. */
export function podExec(lab: string, name: string, cmd: string[]): Promise<number> {
  const rec = requirePod(lab, name, `lab ${lab}: no pod ${name}`);
  const { c, bundle } = execBundle(lab, rec, cmd);
  return new Promise((resolve, reject) => {
    const child = spawn('runc', ['--root', c.root, 'run', '--bundle', bundle, c.id], { stdio: 'inherit', env: { PATH: process.env.PATH } });
    child.on('error', (e) => reject(new LabStepError(`lab pod exec ${name}: runc: ${e.message}`, { hint: 'is runc installed? (scripts/setup.sh)' })));
    child.on('close', (code, signal) => {
      deleteContainer(c);
      rmSync(bundle, { recursive: true, force: true });
      resolve(code ?? (signal ? 128 + 9 : 1));
    });
  });
}

/** Starts CMD in the background inside the pod; output goes to the pod's log. The pid is the container's init's. */
export async function podRun(lab: string, name: string, cmd: string[]): Promise<OwnedProcess> {
  const rec = requirePod(lab, name, `lab ${lab}: no pod ${name}`);
  const { c, bundle } = execBundle(lab, rec, cmd);
  const log = join(podsDir(lab), `${name}.log`);
  const fd = openSync(log, 'a');
  try {
    const { child, pid, starttime } = await runContainer(c, bundle, ['ignore', fd, fd]);
    child.unref();
    return { role: `pod ${name}`, pid, starttime, cmd, log };
  } catch (e) {
    throw new LabStepError(`lab pod exec -d ${name}: ${(e as Error).message}`, { hint: `see ${log}` });
  } finally {
    closeSync(fd);
  }
}
