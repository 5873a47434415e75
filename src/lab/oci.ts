/**
 * OCI bundles for the lab's containers: what runc is told to make (config.json)
 * and the layout of a container's root file system. Pure: no I/O; the kubelet
 * and `lab pod exec` write what this returns (src/lab/runc.ts).
 *
 * A container sees: its own root directory (the private writable layer, or
 * read-only with readOnlyRootFilesystem) with read-only binds of /usr (bin,
 * sbin, lib, lib64 are symlinks into it, as on a usrmerged Debian), /etc (with
 * the pod's resolv.conf, hosts and hostname over the machine's) and the
 * repository at its own path (the built-in images run `node dist/...`); a new
 * /proc, a read-only sysfs of the pod's network namespace, runc's tmpfs /dev,
 * tmpfs /tmp and /run. Nothing else of the machine: not /run/beeline, the lab's
 * directory and sockets, /sys/fs/bpf or the lab's bpffs, /run/netns, the
 * machine's /proc. Its own PID, IPC, UTS and mount namespaces, the pod's
 * network namespace, Kubernetes' default capabilities, a seccomp filter that
 * refuses what those capabilities would not allow anyway (namespaces, mounts,
 * bpf()), and its cgroup below the lab's subtree.
 */

/** containerd's (and so Kubernetes') default capability set. */
export const DEFAULT_CAPS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability the kernel knows (for `add: [ALL]` and name checks). */
export const ALL_CAPS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** The symlinks of a usrmerged root: name → target. */
export const USRMERGE_LINKS: Readonly<Record<string, string>> = { bin: 'usr/bin', sbin: 'usr/sbin', lib: 'usr/lib', lib64: 'usr/lib64' };

/** Directories every container root holds (mount points and the writable layer's own). */
export const ROOTFS_DIRS: readonly string[] = ['usr', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run', 'var/tmp', 'root', 'home', 'mnt'];

/** The minimal init every container runs as its pid 1 (Debian's tini): forwards signals to the program, reaps orphans. */
export const CONTAINER_INIT = '/usr/bin/tini';

/** A Kubernetes securityContext (pod or container level): the fields the lab honours. */
export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  supplementalGroups?: number[];
  fsGroup?: number;
}

/** What a container runs as, resolved from its pod's and its own securityContext. */
export interface ContainerSecurity {
  uid: number;
  gid: number;
  additionalGids: number[];
  capabilities: string[];
  readOnlyRootfs: boolean;
  noNewPrivileges: boolean;
}

const capName = (c: string) => {
  const u = c.trim().toUpperCase();
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
};

/**
 * Resolves a container's security as Kubernetes does (container fields over
 * the pod's): user and group (the images run as root unless told), the default
 * capabilities with `drop` then `add` applied (`ALL` either way), a read-only
 * root, no_new_privs when allowPrivilegeEscalation is false. An `error` (the
 * kubelet's CreateContainerConfigError message) when runAsNonRoot meets uid 0,
 * for privileged containers (the lab has none) and for unknown capabilities.
 */
export function containerSecurity(pod: SecurityContext | undefined, c: SecurityContext | undefined, who: { pod: string; container: string }): ContainerSecurity | { error: string } {
  const p = pod ?? {};
  const s = c ?? {};
  const uid = s.runAsUser ?? p.runAsUser ?? 0;
  const gid = s.runAsGroup ?? p.runAsGroup ?? 0;
  if ((s.runAsNonRoot ?? p.runAsNonRoot) && uid === 0) {
    return {
      error: s.runAsUser !== undefined || p.runAsUser !== undefined
        ? `container's runAsUser breaks non-root policy (pod: "${who.pod}", container: ${who.container})`
        : `container has runAsNonRoot and image will run as root (pod: "${who.pod}", container: ${who.container})`,
    };
  }
  if (s.privileged) return { error: `privileged containers are not supported in a beeline lab (pod: "${who.pod}", container: ${who.container})` };
  for (const n of [...(s.capabilities?.add ?? []), ...(s.capabilities?.drop ?? [])]) {
    if (n.toUpperCase() !== 'ALL' && !ALL_CAPS.includes(capName(n))) return { error: `unknown capability "${n}" (pod: "${who.pod}", container: ${who.container})` };
  }
  const drop = (s.capabilities?.drop ?? []).map(capName);
  const add = (s.capabilities?.add ?? []).map(capName);
  let caps = drop.includes('CAP_ALL') ? [] : DEFAULT_CAPS.filter((x) => !drop.includes(x));
  caps = add.includes('CAP_ALL') ? [...ALL_CAPS] : [...caps, ...add.filter((x) => !caps.includes(x))];
  const groups = [...(p.supplementalGroups ?? []), ...(p.fsGroup !== undefined ? [p.fsGroup] : [])];
  return {
    uid,
    gid,
    additionalGids: [...new Set(groups)].filter((g) => g !== gid),
    capabilities: caps,
    readOnlyRootfs: s.readOnlyRootFilesystem === true,
    noNewPrivileges: s.allowPrivilegeEscalation === false,
  };
}

/** A CPU quantity ("500m", "1", "0.25") in millicores; undefined when it is not one. */
export function cpuMillis(q: unknown): number | undefined {
  const s = String(q ?? '').trim();
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(s);
  if (!m) return undefined;
  return Math.ceil(m[2] ? Number(m[1]) : Number(m[1]) * 1000);
}

const MEM_SUFFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A memory quantity ("128Mi", "1G", "1e6", "1000") in bytes; undefined when it is not one. */
export function memoryBytes(q: unknown): number | undefined {
  const s = String(q ?? '').trim();
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(s);
  if (!m) return undefined;
  return Math.ceil(Number(m[1]) * MEM_SUFFIX[m[2] ?? '']!);
}

/** The CFS period the lab gives every CPU limit (Kubernetes' default, 100 ms). */
export const CPU_PERIOD_US = 100_000;

/** `resources` (limits, requests) as OCI linux.resources, as the kubelet computes them. */
export function linuxResources(resources: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const limits = (resources?.limits ?? {}) as Record<string, unknown>;
  const requests = (resources?.requests ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const mem = memoryBytes(limits.memory);
  if (mem !== undefined) out.memory = { limit: mem };
  const cpuLimit = cpuMillis(limits.cpu);
  const cpuReq = cpuMillis(requests.cpu) ?? cpuLimit;
  const cpu: Record<string, number> = {};
  if (cpuLimit !== undefined) Object.assign(cpu, { quota: Math.max(1000, Math.floor((cpuLimit * CPU_PERIOD_US) / 1000)), period: CPU_PERIOD_US });
  if (cpuReq !== undefined) cpu.shares = Math.max(2, Math.floor((cpuReq * 1024) / 1000));
  if (Object.keys(cpu).length) out.cpu = cpu;
  return Object.keys(out).length ? out : undefined;
}

/** A bind of a host path into the container. */
export interface BindMount {
  source: string;
  destination: string;
  readOnly: boolean;
}

/** What one container's bundle says. */
export interface BundleSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  hostname: string;
  /** The pod's network namespace (/run/netns/<name>). */
  netnsPath: string;
  /** The root directory (absolute). */
  rootfs: string;
  /** The repository, bound read-only at its own path. */
  repoRoot: string;
  /** The pod's own files over the machine's /etc ones. */
  etcFiles: { resolvConf: string; hosts: string; hostname: string };
  security: ContainerSecurity;
  /** runc's cgroupsPath: `/beeline/<lab>/...`, relative to each hierarchy's root. */
  cgroupsPath: string;
  resources?: Record<string, unknown>;
  /** More binds (hostPath volumes), after the standard ones. */
  binds?: BindMount[];
  /** Paths the image's program writes: a tmpfs each. */
  tmpfs?: string[];
  /** Give the process a terminal (runc's console socket). */
  terminal?: boolean;
}

const RO_BIND = ['rbind', 'ro', 'nosuid', 'nodev'];

/** The standard mounts of a container, in the order runc makes them. */
export function bundleMounts(b: BundleSpec): object[] {
  const bind = (source: string, destination: string, ro = true) => ({ destination, type: 'bind', source, options: ro ? RO_BIND : ['rbind', 'rw', 'nosuid', 'nodev'] });
  const tmpfs = (destination: string, mode: string, size: string) => ({ destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', `mode=${mode}`, `size=${size}`] });
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // A new sysfs shows the network namespace the container is in; /sys/fs/bpf in it is an empty directory.
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    bind('/usr', '/usr'),
    bind('/etc', '/etc'),
    bind(b.etcFiles.resolvConf, '/etc/resolv.conf'),
    bind(b.etcFiles.hosts, '/etc/hosts'),
    bind(b.etcFiles.hostname, '/etc/hostname'),
    tmpfs('/tmp', '1777', '256m'),
    tmpfs('/run', '755', '16m'),
    ...(b.tmpfs ?? []).map((d) => tmpfs(d, '755', '64m')),
    // After the tmpfs mounts: a repository under /tmp (a CI clone) must not be covered by the container's own /tmp.
    bind(b.repoRoot, b.repoRoot),
    ...(b.binds ?? []).map((m) => bind(m.source, m.destination, m.readOnly)),
  ];
}

/**
 * A seccomp filter in the spirit of containerd's default: allow everything but
 * what needs a capability the container does not hold, so that a bug in a
 * capability check cannot hand it over: without CAP_SYS_ADMIN no new
 * namespaces, mounts, pivot_root, setns; without CAP_SYS_ADMIN/CAP_BPF no
 * bpf(); without CAP_SYS_ADMIN/CAP_PERFMON no perf_event_open; never keyrings,
 * kernel modules, kexec, open_by_handle_at. clone3 reports ENOSYS, so libc
 * falls back to clone, whose namespace flags can be inspected.
 */
export function seccompProfile(caps: readonly string[]): object {
  const has = (c: string) => caps.includes(c);
  const EPERM = 1;
  const deny: string[] = ['kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'open_by_handle_at', 'add_key', 'request_key', 'keyctl', 'userfaultfd'];
  const syscalls: object[] = [];
  if (!has('CAP_SYS_ADMIN')) {
    deny.push('mount', 'umount', 'umount2', 'pivot_root', 'setns', 'unshare', 'fsopen', 'fsmount', 'fsconfig', 'fspick', 'move_mount', 'open_tree', 'mount_setattr', 'quotactl', 'swapon', 'swapoff', 'syslog', 'lookup_dcookie');
    // clone with any CLONE_NEW* flag: one rule per flag (a rule's conditions are ANDed).
    for (const flag of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
      syscalls.push({ names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }] });
    }
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
    if (!has('CAP_BPF')) deny.push('bpf');
    if (!has('CAP_PERFMON')) deny.push('perf_event_open');
  }
  if (!has('CAP_SYS_PTRACE')) deny.push('ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp');
  if (!has('CAP_SYS_TIME')) deny.push('settimeofday', 'stime', 'clock_settime', 'clock_adjtime', 'adjtimex');
  if (!has('CAP_SYS_MODULE')) deny.push('create_module', 'query_module', 'get_kernel_syms');
  if (!has('CAP_SYS_BOOT')) deny.push('reboot');
  syscalls.unshift({ names: deny, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM });
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'], syscalls };
}

/** containerd's default masked and read-only /proc and /sys paths. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap', '/sys/fs/bpf', '/sys/kernel/debug', '/sys/kernel/tracing',
];
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The config.json of one container's bundle (OCI runtime spec 1.0.2, as runc 1.1 reads it). */
export function ociConfig(b: BundleSpec): Record<string, unknown> {
  const sec = b.security;
  const caps = [...sec.capabilities];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: b.terminal === true,
      user: { uid: sec.uid, gid: sec.gid, ...(sec.additionalGids.length ? { additionalGids: sec.additionalGids } : {}) },
      args: b.argv,
      env: Object.entries(b.env).map(([k, v]) => `${k}=${v}`),
      cwd: b.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: sec.noNewPrivileges,
    },
    root: { path: b.rootfs, readonly: sec.readOnlyRootfs },
    hostname: b.hostname,
    mounts: bundleMounts(b),
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: b.netnsPath }],
      cgroupsPath: b.cgroupsPath,
      ...(b.resources ? { resources: b.resources } : {}),
      seccomp: seccompProfile(caps),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}

/**
 * Why a hostPath volume may not be bound, or undefined when it may. `path` is
 * the source with its symlinks resolved. Refused: the machine's paths that
 * hold what a pod must never reach (beeline's run-time directory with the
 * agents', etcd's and the relay's sockets and the lab's bpffs; /run/netns; the
 * machine's /proc, /sys and /dev) and every directory above one of them (so
 * `/` and `/run` too). `allowed` names directories below those that the lab's
 * own pods are given read-only (the cluster DNS's hosts files): a path inside
 * one of them is allowed when the bind is read-only.
 */
export function hostPathRefusal(path: string, protectedRoots: readonly string[], allowed: readonly string[] = [], readOnly = false): string | undefined {
  const within = (p: string, root: string) => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);
  if (readOnly && allowed.some((a) => within(path, a))) return undefined;
  for (const root of protectedRoots) {
    if (within(path, root)) return `hostPath ${path} is inside ${root}, which pods may not reach`;
    if (within(root, path)) return `hostPath ${path} holds ${root}, which pods may not reach`;
  }
  return undefined;
}

/** The machine's paths no hostPath volume may reach (hostPathRefusal), beside beeline's run-time directory. */
export const HOST_PROTECTED_PATHS: readonly string[] = ['/run/netns', '/var/run/netns', '/proc', '/sys', '/dev'];
