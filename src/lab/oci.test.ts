import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CAPS, HOST_PROTECTED_PATHS, containerSecurity, hostPathRefusal, cpuMillis, linuxResources, memoryBytes, ociConfig, type BundleSpec, type ContainerSecurity } from './oci.js';

const who = { pod: 'web_default(u1)', container: 'c' };
const sec = (p?: object, c?: object) => containerSecurity(p, c, who) as ContainerSecurity;

function bundle(over: Partial<BundleSpec> = {}): BundleSpec {
  return {
    argv: ['/usr/bin/tini', '--', 'sleep', 'infinity'],
    env: { PATH: '/usr/bin', HOSTNAME: 'web' },
    cwd: '/',
    hostname: 'web',
    netnsPath: '/run/netns/bl-l-p-default-web',
    rootfs: '/run/beeline/labs/l/nodes/node1/kubelet/pods/u1/containers/c/rootfs',
    repoRoot: '/work/repo',
    etcFiles: { resolvConf: '/p/etc/resolv.conf', hosts: '/p/etc/hosts', hostname: '/p/etc/hostname' },
    security: sec(),
    cgroupsPath: '/beeline/l/node1/kubepods/podu1/c',
    ...over,
  };
}

test('the default: root with the containerd capability set, no SYS_ADMIN/NET_ADMIN/BPF/SYS_PTRACE', () => {
  const s = sec();
  assert.deepEqual([s.uid, s.gid, s.readOnlyRootfs, s.noNewPrivileges], [0, 0, false, false]);
  assert.deepEqual(s.capabilities, [...DEFAULT_CAPS]);
  assert.equal(DEFAULT_CAPS.length, 14);
  for (const c of ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_BPF', 'CAP_SYS_PTRACE', 'CAP_PERFMON']) assert.ok(!s.capabilities.includes(c), c);
});

test('securityContext: the container over the pod; drop then add, ALL either way; readOnlyRootFilesystem; allowPrivilegeEscalation=false is no_new_privs', () => {
  const s = sec({ runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [3000], fsGroup: 4000 }, { runAsUser: 1001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['NET_RAW', 'cap_kill'], add: ['NET_ADMIN'] } });
  assert.deepEqual([s.uid, s.gid, s.additionalGids, s.readOnlyRootfs, s.noNewPrivileges], [1001, 2000, [3000, 4000], true, true]);
  assert.ok(!s.capabilities.includes('CAP_NET_RAW') && !s.capabilities.includes('CAP_KILL'));
  assert.ok(s.capabilities.includes('CAP_NET_ADMIN') && s.capabilities.includes('CAP_CHOWN'));
  assert.deepEqual(sec(undefined, { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }).capabilities, ['CAP_NET_BIND_SERVICE']);
});

test('runAsNonRoot with uid 0, privileged and unknown capabilities are refused with the kubelet-style message', () => {
  assert.deepEqual(containerSecurity({ runAsNonRoot: true }, undefined, who), { error: 'container has runAsNonRoot and image will run as root (pod: "web_default(u1)", container: c)' });
  assert.match((containerSecurity(undefined, { runAsNonRoot: true, runAsUser: 0 }, who) as { error: string }).error, /runAsUser breaks non-root policy/);
  assert.equal(sec({ runAsNonRoot: true, runAsUser: 10 }).uid, 10);
  assert.match((containerSecurity(undefined, { privileged: true }, who) as { error: string }).error, /privileged containers are not supported/);
  assert.match((containerSecurity(undefined, { capabilities: { add: ['FLY'] } }, who) as { error: string }).error, /unknown capability "FLY"/);
});

test('quantities: CPU in millicores, memory in bytes; limits as linux.resources (CFS quota/period, shares from requests)', () => {
  assert.deepEqual([cpuMillis('500m'), cpuMillis('2'), cpuMillis('0.25'), cpuMillis('x')], [500, 2000, 250, undefined]);
  assert.deepEqual([memoryBytes('128Mi'), memoryBytes('1G'), memoryBytes('1e6'), memoryBytes('100'), memoryBytes('1Xi')], [134217728, 1e9, 1e6, 100, undefined]);
  assert.deepEqual(linuxResources({ limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '100m' } }), { memory: { limit: 67108864 }, cpu: { quota: 50000, period: 100000, shares: 102 } });
  assert.equal(linuxResources({}), undefined);
  assert.equal(linuxResources(undefined), undefined);
});

test('config.json: the pod netns, own pid/ipc/uts/mount namespaces, the hostname, the cgroup, caps, user, read-only root', () => {
  const cfg = ociConfig(bundle({ security: sec({ runAsUser: 1000 }, { readOnlyRootFilesystem: true }), resources: { memory: { limit: 1 } } })) as any;
  assert.deepEqual(cfg.linux.namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: '/run/netns/bl-l-p-default-web' }]);
  assert.equal(cfg.hostname, 'web');
  assert.equal(cfg.linux.cgroupsPath, '/beeline/l/node1/kubepods/podu1/c');
  assert.deepEqual(cfg.linux.resources, { memory: { limit: 1 } });
  assert.deepEqual(cfg.process.user, { uid: 1000, gid: 0 });
  assert.deepEqual(cfg.process.capabilities.bounding, [...DEFAULT_CAPS]);
  assert.deepEqual(cfg.process.capabilities.effective, [...DEFAULT_CAPS]);
  assert.equal(cfg.process.capabilities.ambient, undefined);
  assert.deepEqual(cfg.root, { path: bundle().rootfs, readonly: true });
  assert.deepEqual(cfg.process.env, ['PATH=/usr/bin', 'HOSTNAME=web']);
  assert.ok(cfg.linux.maskedPaths.includes('/sys/fs/bpf'));
  assert.ok(cfg.linux.readonlyPaths.includes('/proc/sys'));
});

test('mounts: read-only /usr, /etc (pod files over it) and the repository, new proc and sysfs, tmpfs /tmp and /run; nothing of /run/beeline, /run/netns, bpffs or the host /proc', () => {
  const cfg = ociConfig(bundle({ tmpfs: ['/var/lib/nginx'], binds: [{ source: '/h/hosts', destination: '/var/lib/dns', readOnly: true }] })) as any;
  const by = new Map<string, any>(cfg.mounts.map((m: any) => [m.destination, m]));
  for (const d of ['/usr', '/etc', '/etc/resolv.conf', '/etc/hosts', '/etc/hostname', '/work/repo', '/var/lib/dns']) {
    assert.equal(by.get(d)?.type, 'bind', d);
    assert.ok(by.get(d).options.includes('ro'), `${d} read-only`);
  }
  assert.deepEqual([by.get('/etc/resolv.conf').source, by.get('/work/repo').source, by.get('/usr').source], ['/p/etc/resolv.conf', '/work/repo', '/usr']);
  assert.equal(by.get('/proc').type, 'proc');
  assert.equal(by.get('/sys').type, 'sysfs');
  assert.ok(by.get('/sys').options.includes('ro'));
  for (const d of ['/tmp', '/run', '/dev', '/var/lib/nginx']) assert.equal(by.get(d)?.type, 'tmpfs', d);
  for (const m of cfg.mounts) {
    assert.ok(!/^\/run\/(beeline|netns)|^\/sys\/fs\/bpf|^\/proc\//.test(m.source), `no host ${m.source}`);
    assert.ok(!(m.type === 'bind' && (m.source === '/' || m.source === '/run' || m.source === '/sys' || m.source === '/proc')), `no bind of ${m.source}`);
  }
  // The pod files come after /etc, so they cover the machine's.
  const order = cfg.mounts.map((m: any) => m.destination);
  assert.ok(order.indexOf('/etc/resolv.conf') > order.indexOf('/etc'));
});

test('seccomp: namespaces, mounts, setns and bpf() refused without CAP_SYS_ADMIN; with it only the always-refused calls remain', () => {
  const deny = (caps: string[]) => {
    const p = (ociConfig(bundle({ security: { ...sec(), capabilities: caps } })) as any).linux.seccomp;
    assert.equal(p.defaultAction, 'SCMP_ACT_ALLOW');
    return new Set<string>(p.syscalls.filter((r: any) => !r.args).flatMap((r: any) => r.names));
  };
  const d = deny([...DEFAULT_CAPS]);
  for (const s of ['bpf', 'mount', 'umount2', 'setns', 'unshare', 'pivot_root', 'perf_event_open', 'ptrace', 'keyctl', 'init_module']) assert.ok(d.has(s), s);
  const admin = deny([...DEFAULT_CAPS, 'CAP_SYS_ADMIN']);
  assert.ok(!admin.has('mount') && !admin.has('bpf') && !admin.has('setns'));
  assert.ok(admin.has('init_module') && admin.has('keyctl'));
  const clone = ((ociConfig(bundle()) as any).linux.seccomp.syscalls as any[]).filter((r) => r.names.includes('clone'));
  assert.ok(clone.some((r) => r.args[0].value === 0x10000000), 'clone(CLONE_NEWUSER) refused');
});

test("hostPath: beeline's run-time directory, /run/netns, /proc, /sys, /dev and every directory above them are refused; the lab's DNS hosts only read-only", () => {
  const roots = ['/run/beeline', ...HOST_PROTECTED_PATHS];
  const dns = '/run/beeline/labs/l/dns/hosts';
  for (const p of ['/', '/run', '/run/beeline', '/run/beeline/labs/l/node1/agent.sock', '/run/beeline/labs/l/bpf', '/run/netns', '/sys/fs/bpf', '/proc/1/root', '/dev', '/var/run/netns']) {
    assert.match(hostPathRefusal(p, roots, [dns]) ?? '', /pods may not reach/, p);
  }
  assert.match(hostPathRefusal('/run', roots) ?? '', /holds \/run\/beeline/);
  assert.equal(hostPathRefusal('/srv/data', roots), undefined);
  assert.equal(hostPathRefusal('/var/lib/x', roots), undefined);
  assert.equal(hostPathRefusal('/run/beelinefoo', roots), undefined, 'a sibling with the same prefix is not inside');
  assert.equal(hostPathRefusal(dns, roots, [dns], true), undefined);
  assert.match(hostPathRefusal(dns, roots, [dns], false) ?? '', /inside \/run\/beeline/, 'writable: refused');
  assert.match(hostPathRefusal('/run/beeline/labs/l/dns', roots, [dns], true) ?? '', /inside/, 'the directory above the allowed one');
});

test("a repository under /tmp (a CI clone) is bound after the container's own /tmp, so the tmpfs does not cover it", () => {
  const order = ((ociConfig(bundle({ repoRoot: '/tmp/fresh-ci' })) as any).mounts as any[]).map((m) => m.destination);
  assert.ok(order.indexOf('/tmp/fresh-ci') > order.indexOf('/tmp'), order.join(' '));
  assert.ok(order.indexOf('/tmp/fresh-ci') > order.indexOf('/run'));
});
