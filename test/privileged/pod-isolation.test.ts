/**
 * Pods are containers (issue 17): from inside a Pod (through `beeline exec`,
 * runc exec) and from `lab pod exec` (a runc container of its own), the
 * lab's agent socket, etcd socket and bpffs, /run/beeline and the machine's
 * network namespace are out of reach, and nsenter, ip link add, mount and
 * bpf() fail; securityContext runAsUser, readOnlyRootFilesystem and
 * runAsNonRoot take effect; traffic between pods, restarts and exec work.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import { isAlive, processStartTime } from '../../src/lab/process.js';
import { until } from '../lib/wait.js';
import { readState } from '../../src/lab/state.js';
import { cgroupV1Roots } from '../../src/lab/cgroup.js';

const LAB = 'isotest';
const env = { BEELINE_LAB: LAB };
const ok = (args: string[]) => beelineOk(args, env);

const MANIFEST = `
apiVersion: v1
kind: Pod
metadata: {name: probe}
spec:
  containers: [{name: c, image: busybox, command: [sleep, infinity]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: c, image: nginx-native}]
---
apiVersion: v1
kind: Pod
metadata: {name: locked}
spec:
  securityContext: {runAsUser: 1000, runAsGroup: 1000}
  containers:
  - name: c
    image: hashicorp/http-echo
    args: ["-listen=:8080", "-text=locked"]
    securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: Pod
metadata: {name: rootless}
spec:
  securityContext: {runAsNonRoot: true}
  containers: [{name: c, image: busybox, command: [sleep, infinity]}]
---
apiVersion: v1
kind: Pod
metadata: {name: hostrun}
spec:
  volumes: [{name: run, hostPath: {path: /run}}]
  containers: [{name: c, image: busybox, command: [sleep, infinity], volumeMounts: [{name: run, mountPath: /host-run, readOnly: true}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers: [{name: c, image: busybox, command: [sh, -c, "echo run; sleep 1; exit 3"]}]
`;

interface Pod {
  metadata: { name: string };
  status?: { phase?: string; podIP?: string; containerStatuses?: any[] };
}
const pods = () => JSON.parse(ok(['get', 'pods', '-o', 'json']).stdout).items as Pod[];
const running = (p: Pod | undefined) => !!p && p.status?.phase === 'Running' && p.status.containerStatuses?.every((c) => c.state?.running && c.ready);

/** The probes run inside a container: one `name=value` line each. */
function probeScript(paths: string[]): string {
  return [
    ...paths.map((p) => `if [ -e '${p}' ]; then echo 'exists:${p}=yes'; else echo 'exists:${p}=no'; fi`),
    // Whatever is at /sys/fs/bpf, it is no bpffs (a masked empty directory).
    `echo "bpffs=$(stat -f -c %T /sys/fs/bpf 2>/dev/null)"`,
    `echo "bpfls=$(ls -A /sys/fs/bpf 2>/dev/null | wc -l)"`,
    'nsenter -t 1 -n true 2>/dev/null; echo "nsenter=$?"',
    'ip link add x type dummy 2>/dev/null; echo "iplink=$?"',
    'mount -t tmpfs x /mnt 2>/dev/null; echo "mount=$?"',
    'bpftool prog list >/dev/null 2>&1; echo "bpf=$?"',
    'unshare -n true 2>/dev/null; echo "unshare=$?"',
    'echo "pid1=$(cat /proc/1/comm)"',
    'echo "capeff=$(grep CapEff /proc/self/status | cut -f2)"',
    'echo "hostname=$(hostname)"',
  ].join('\n');
}

function parse(out: string): Record<string, string> {
  return Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

let forbidden: string[] = [];

before(() => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
  ok(['lab', 'up', '--name', LAB, '--nodes', '2', '--crash-backoff', '1s', '-q']);
  const st = readState(LAB)!;
  forbidden = [st.agents.node1!.socket, st.agents.node2!.socket, st.etcd!.socket, st.bpffs!, st.dir, '/run/beeline', '/run/netns'];
});

after(() => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
});

function assertConfined(r: Record<string, string>, where: string): void {
  for (const p of forbidden) assert.equal(r[`exists:${p}`], 'no', `${where}: ${p} is visible`);
  assert.notEqual(r.bpffs, 'bpf_fs', `${where}: /sys/fs/bpf is a bpffs`);
  assert.equal(r.bpfls, '0', `${where}: /sys/fs/bpf lists something`);
  for (const k of ['nsenter', 'iplink', 'mount', 'bpf', 'unshare']) assert.notEqual(r[k], '0', `${where}: ${k} succeeded`);
  assert.equal(r.pid1, 'tini', `${where}: its own PID namespace`);
  assert.equal(r.capeff, '00000000a80425fb', `${where}: Kubernetes' default capabilities`);
}

test('pods start as runc containers; a securityContext with runAsNonRoot and uid 0 is refused (CreateContainerConfigError)', async () => {
  const t0 = Date.now();
  const a = spawnSync(beelineBin, ['apply', '-f', '-'], { input: MANIFEST, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(a.status, 0, a.stderr);
  await until('probe, web, locked running', () => {
    const ps = pods();
    return ['probe', 'web', 'locked'].every((n) => running(ps.find((p) => p.metadata.name === n)));
  });
  process.stderr.write(`# three pods Running ${Date.now() - t0} ms after apply\n`);
  const rootless = await until('rootless refused', () => {
    const c = pods().find((p) => p.metadata.name === 'rootless')?.status?.containerStatuses?.[0];
    return c?.state?.waiting?.reason === 'CreateContainerConfigError' && c;
  });
  assert.match(rootless.state.waiting.message, /runAsNonRoot and image will run as root/);
  // A hostPath volume holding beeline's sockets is refused the same way: nothing of it is bound.
  const hostrun = await until('hostrun refused', () => {
    const c = pods().find((p) => p.metadata.name === 'hostrun')?.status?.containerStatuses?.[0];
    return c?.state?.waiting?.reason === 'CreateContainerConfigError' && c;
  });
  assert.match(hostrun.state.waiting.message, /hostPath \/run holds \/run\/beeline, which pods may not reach/);
  assert.ok(existsSync(readState(LAB)!.dir + '/runc'), 'runc state lives in the lab');
});

test('from inside a Pod (exec): sockets, bpffs, /run/beeline and the machine netns out of reach; nsenter, ip link add, mount, bpf() fail', () => {
  const r = ok(['exec', 'probe', '--', 'sh', '-c', probeScript(forbidden)]);
  const v = parse(r.stdout);
  assertConfined(v, 'kubelet pod');
  assert.equal(v.hostname, 'probe');
});

test('from `lab pod exec`: the same confinement; stdin passes through; -d runs in the background until the pod is deleted', () => {
  ok(['lab', 'pod', 'add', 'node1', 'lp']);
  const r = ok(['lab', 'pod', 'exec', 'lp', '--', 'sh', '-c', probeScript(forbidden)]);
  assertConfined(parse(r.stdout), 'lab pod exec');
  const echo = spawnSync(beelineBin, ['lab', 'pod', 'exec', 'lp', '--', 'cat'], { input: 'piped\n', encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(echo.stdout, 'piped\n');
  assert.equal(beeline(['lab', 'pod', 'exec', 'lp', '--', 'sh', '-c', 'exit 7'], env).code, 7, 'exit status passes through');
  const pid = Number(ok(['lab', 'pod', 'exec', '-d', 'lp', '--', 'sleep', '1000']).stdout.trim());
  const p = { pid, starttime: processStartTime(pid)! };
  assert.ok(p.starttime && isAlive(p), 'the background container runs');
  ok(['lab', 'pod', 'del', 'lp']);
  assert.ok(!isAlive(p), 'deleting the pod ends it');
});

test('securityContext takes effect: runAsUser, a read-only root (tmpfs /tmp stays writable), no capabilities; exec runs as the container does', () => {
  const v = ok(['exec', 'locked', '--', 'sh', '-c', 'id -u; id -g; touch /x 2>/dev/null; echo "root=$?"; touch /tmp/x; echo "tmp=$?"; grep CapEff /proc/self/status | cut -f2; grep NoNewPrivs /proc/self/status | cut -f2']).stdout.split('\n');
  assert.deepEqual(v.slice(0, 6), ['1000', '1000', 'root=1', 'tmp=0', '0000000000000000', '1']);
});

test('the usual behaviour: curl between pods (Node built-in and nginx under runc), a restart after exit, exec exit status, logs', async () => {
  const ps = pods();
  const ip = (n: string) => ps.find((p) => p.metadata.name === n)!.status!.podIP!;
  assert.equal(ok(['exec', 'probe', '--', 'curl', '-s', '-m', '5', `http://${ip('web')}/`]).stdout, 'ok\n');
  assert.equal(ok(['exec', 'probe', '--', 'curl', '-s', '-m', '5', `http://${ip('locked')}:8080/`]).stdout, 'locked\n');
  assert.equal(beeline(['exec', 'probe', '--', 'sh', '-c', 'exit 5'], env).code, 5);
  // beeline's own traffic helpers run in a pod (its PID namespace hides kthreadd; the root-netns guard must not trip).
  const probe = beeline(['exec', 'probe', '--', beelineBin, 'probe', 'tcp', `${ip('web')}:80`, '--timeout', '2000'], env);
  assert.equal(probe.code, 0, probe.stderr);
  const c = await until('crasher restarted', () => {
    const s = pods().find((p) => p.metadata.name === 'crasher')?.status?.containerStatuses?.[0];
    return s && s.restartCount >= 1 && s;
  });
  assert.equal(c.lastState?.terminated?.exitCode, 3);
  assert.match(ok(['logs', 'crasher']).stdout + ok(['logs', 'crasher', '-p']).stdout, /run/);
});

test('deleting pods ends their containers within the grace period and leaves no runc state or v1 cgroup behind', async () => {
  const t0 = Date.now();
  ok(['delete', 'pod', 'probe', 'web', 'locked', 'rootless', 'hostrun', 'crasher']);
  await until('pods gone', () => pods().filter((p) => !p.metadata.name.startsWith('coredns')).length === 0);
  assert.ok(Date.now() - t0 < 20_000, 'sleep as the program does not hold deletion for its grace period (tini passes SIGTERM on)');
  const st = readState(LAB)!;
  const left = readdirSync(`${st.dir}/runc`).filter((id) => !/-coredns-/.test(id));
  assert.deepEqual(left, []);
  for (const root of cgroupV1Roots()) {
    for (const node of ['node1', 'node2']) {
      const dir = `${root}/beeline/${LAB}/${node}/kubepods`;
      const podsLeft = existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('pod')) : [];
      assert.ok(podsLeft.length <= 1, `${dir}: only the cluster DNS pod left, got ${podsLeft.join(' ')}`);
    }
  }
});

test('lab down removes every runc container and the lab cgroups in every hierarchy', () => {
  ok(['lab', 'down', '--name', LAB, '-q']);
  for (const root of cgroupV1Roots()) assert.ok(!existsSync(`${root}/beeline/${LAB}`), `${root}/beeline/${LAB} left`);
});
