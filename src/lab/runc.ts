/**
 * The lab's OCI runtime: runc (Debian's), driven as a container runtime does.
 * Each lab keeps runc's state under its own directory (`<lab>/runc`, runc's
 * --root), so `lab down` can delete every container it made. A container runs
 * in the foreground of a `runc run` that its starter spawns detached: runc
 * stays the container's parent and exits with its status; the container's
 * init pid (runc's --pid-file) is what is recorded and watched.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabStepError } from '../common/errors.js';
import { ROOTFS_DIRS, USRMERGE_LINKS, ociConfig, type BundleSpec } from './oci.js';
import { processStartTime, processStat } from './process.js';
import { labDir } from './state.js';

const RUNC = 'runc';

/** runc's state directory of a lab (its --root). */
export function runcRoot(lab: string): string {
  return join(labDir(lab), 'runc');
}

/** A container runc knows: its id under its lab's runc root. */
export interface RuncContainer {
  root: string;
  id: string;
}

/**
 * Writes a bundle: a fresh root directory (the container's private writable
 * layer: usrmerge links, mount points) and config.json. A previous bundle in
 * `dir` is removed first: every run starts from a clean layer, as a
 * container's restart does.
 */
export function writeBundle(dir: string, spec: Omit<BundleSpec, 'rootfs'>): string {
  rmSync(dir, { recursive: true, force: true });
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  for (const d of ROOTFS_DIRS) mkdirSync(join(rootfs, d), { recursive: true });
  // runc gives a tmpfs the mode of the directory it covers.
  for (const d of ['tmp', 'var/tmp']) chmodSync(join(rootfs, d), 0o1777);
  for (const [name, target] of Object.entries(USRMERGE_LINKS)) symlinkSync(target, join(rootfs, name));
  // Mount points below the writable layer: runc would make them, but not under a read-only root.
  for (const d of [spec.repoRoot, spec.cwd, ...(spec.tmpfs ?? []), ...(spec.binds ?? []).map((b) => b.destination)]) mkdirSync(join(rootfs, d), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(ociConfig({ ...spec, rootfs }), null, 1));
  return rootfs;
}

/**
 * Starts `runc run` for the bundle in `bundle` in its own session (so it
 * outlives its starter), stdio as given; resolves with the child and the
 * container's init pid once runc has written it, or rejects when runc exits
 * first (the reason is in the container's log).
 */
export async function runContainer(c: RuncContainer, bundle: string, stdio: StdioOptions, opts: { detached?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ child: ChildProcess; pid: number; starttime: string }> {
  const pidFile = join(bundle, 'init.pid');
  rmSync(pidFile, { force: true });
  const argv = ['--root', c.root, 'run', '--bundle', bundle, '--pid-file', pidFile, c.id];
  const child = spawn(RUNC, argv, { detached: opts.detached ?? true, stdio, env: opts.env ?? { PATH: process.env.PATH } });
  let exit: { code: number | null; signal: string | null } | undefined;
  let spawnError: Error | undefined;
  child.once('exit', (code, signal) => (exit = { code, signal }));
  child.once('error', (e) => (spawnError = e));
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    if (spawnError) throw new LabStepError(`runc run ${c.id}: ${spawnError.message}`, { hint: 'is runc installed? (scripts/setup.sh)' });
    let text = '';
    try {
      text = readFileSync(pidFile, 'utf8').trim();
    } catch {
      /* not yet */
    }
    const pid = Number(text);
    if (text && pid > 0) {
      const starttime = processStartTime(pid);
      if (starttime) return { child, pid, starttime };
    }
    if (exit) throw new ContainerStartFailed(c.id, exit.code ?? 128 + 9, exit.signal);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new LabStepError(`runc run ${c.id}: no init pid after ${opts.timeoutMs ?? 20_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** runc ended before the container's process was started (or the process ended before its pid was read). */
export class ContainerStartFailed extends Error {
  constructor(
    readonly id: string,
    readonly exitCode: number,
    readonly signal: string | null,
  ) {
    super(`runc run ${id}: exited ${signal ?? exitCode} before the container started`);
  }
}

/**
 * `runc exec`: CMD in the running container, with its user, capabilities,
 * namespaces and cgroup; resolves the exit status. After `timeoutMs` (an exec
 * probe's timeoutSeconds) CMD is killed with everything it started in the
 * container (killExecProcess), then runc: 137.
 */
export function execIn(c: RuncContainer, cmd: string[], opts: { timeoutMs?: number; stdio?: StdioOptions; env?: Record<string, string>; cwd?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    // runc writes the pid of the process it starts (in our PID namespace) here, for the timeout.
    const pidDir = opts.timeoutMs ? mkdtempSync(join(tmpdir(), 'beeline-exec-')) : undefined;
    const pidFile = pidDir ? join(pidDir, 'exec.pid') : undefined;
    const child = spawn(RUNC, ['--root', c.root, 'exec', ...(pidFile ? ['--pid-file', pidFile] : []), ...env, ...(opts.cwd ? ['--cwd', opts.cwd] : []), c.id, ...cmd], { stdio: opts.stdio ?? 'ignore', env: { PATH: process.env.PATH } });
    let t: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      t = setTimeout(() => {
        if (pidFile && child.pid) killExecProcess(pidFile, child.pid);
        child.kill('SIGKILL');
      }, opts.timeoutMs);
    }
    const cleanUp = () => {
      clearTimeout(t);
      if (pidDir) rmSync(pidDir, { recursive: true, force: true });
    };
    child.on('error', (e) => {
      cleanUp();
      reject(new LabStepError(`runc exec ${c.id}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      cleanUp();
      resolve(code ?? (signal ? 128 + 9 : 1));
    });
  });
}

/**
 * SIGKILL to what `runc exec` (pid `runcPid`) started, as runc wrote its pid
 * to `pidFile`. Killing runc exec alone leaves that process, and what it
 * started, running in the container. runc makes the process the leader of a
 * session and process group of its own (setsid), so the group is killed: a
 * shell and its children, a probe's `sleep`. The pid is signalled only while
 * it is still runc exec's child (runc is killed after this), so a reused pid
 * never is; a process that does not lead its own group is killed alone. No
 * pid yet (runc still setting up): nothing to kill but runc.
 */
export function killExecProcess(pidFile: string, runcPid: number): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  const st = processStat(pid);
  if (!st || st.ppid !== runcPid) return;
  try {
    process.kill(st.pgrp === pid ? -pid : pid, 'SIGKILL');
  } catch {
    /* gone meanwhile */
  }
}

/** `runc kill` (all the container's processes with `all`); false when runc knows no such running container. */
export function killContainer(c: RuncContainer, signal: 'TERM' | 'KILL', all = false): boolean {
  const r = spawnSync(RUNC, ['--root', c.root, 'kill', ...(all ? ['--all'] : []), c.id, signal], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}

/** `runc delete --force`: kills what is left and removes runc's state and the container's cgroups. */
export function deleteContainer(c: RuncContainer): void {
  if (!existsSync(join(c.root, c.id))) return;
  spawnSync(RUNC, ['--root', c.root, 'delete', '--force', c.id], { stdio: 'ignore', timeout: 10_000 });
}

/** The ids of every container under a runc root. */
export function listContainers(root: string): string[] {
  if (!existsSync(root)) return [];
  const r = spawnSync(RUNC, ['--root', root, 'list', '-q'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/** Deletes every container of a runc root (`lab down`), then the root. */
export function deleteAllContainers(root: string): void {
  for (const id of listContainers(root)) deleteContainer({ root, id });
  rmSync(root, { recursive: true, force: true });
}

/** The machine's /etc/hosts as Kubernetes writes it for a pod. */
export function podHostsFile(ip: string | undefined, hostname: string): string {
  return [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    ...(ip ? [`${ip}\t${hostname}`] : []),
    '',
  ].join('\n');
}

/** Writes a pod's /etc files (hosts, hostname, and resolv.conf when given) into `dir`; returns their paths. */
export function writePodEtc(dir: string, opts: { ip?: string; hostname: string; resolvConf?: string }): BundleSpec['etcFiles'] {
  mkdirSync(dir, { recursive: true });
  const files = { resolvConf: join(dir, 'resolv.conf'), hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname') };
  writeFileSync(files.hosts, podHostsFile(opts.ip, opts.hostname));
  writeFileSync(files.hostname, `${opts.hostname}\n`);
  if (opts.resolvConf !== undefined) writeFileSync(files.resolvConf, opts.resolvConf);
  else if (!existsSync(files.resolvConf)) writeFileSync(files.resolvConf, existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf') : '');
  return files;
}
