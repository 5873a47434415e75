/**
 * The workload runner end to end, through the real CLI on a 2-node lab:
 * apply → scheduled, sandboxed, running pods spread over both nodes; equal
 * security labels ⇒ equal identities in both nodes' ipcache; cluster DNS from
 * `exec` with a real resolver (dig, getent); exec exit status; logs; restart
 * back-off; liveness and readiness probes driving EndpointSlices; rolling
 * replacement; scheduling failures and admission errors; teardown of a
 * deleted pod (namespace, cgroup, kubelet state).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beeline, beelineOk } from '../lib/cli.js';
import { repoRoot } from '../../src/common/version.js';
import { kubeletDir, podCgroup } from '../../src/lab/kubelet.js';
import { listNetns } from '../../src/lab/netns.js';
import { labDir } from '../../src/lab/state.js';

const LAB = 'wltest';
const env = { BEELINE_LAB: LAB };
const run = (args: string[], input?: string) => (input === undefined ? beeline(args, env) : beelineInput(args, input));
const ok = (args: string[]) => beelineOk(args, env);

import { spawnSync } from 'node:child_process';
import { until } from '../lib/wait.js';
function beelineInput(args: string[], input: string) {
  const r = spawnSync(join(repoRoot, 'bin', 'beeline'), args, { input, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

interface Pod {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string; message?: string }[]; containerStatuses?: any[] };
}

function pods(ns?: string): Pod[] {
  return JSON.parse(ok(['get', 'pods', ...(ns ? ['-n', ns] : ['-A']), '-o', 'json']).stdout).items as Pod[];
}


const running = (p: Pod) => p.status?.phase === 'Running' && !!p.status.podIP && p.status.containerStatuses?.every((c) => c.state?.running && c.ready);

before(() => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
  ok(['lab', 'up', '--name', LAB, '--nodes', '2', '--crash-backoff', '1s', '-q']);
});

after(() => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
});

test('nodes register themselves Ready with their address and pod CIDR', () => {
  const nodes = JSON.parse(ok(['get', 'nodes', '-o', 'json']).stdout).items as any[];
  assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ['node1', 'node2']);
  for (const n of nodes) {
    assert.equal(n.status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
    assert.match(n.status.addresses.find((a: any) => a.type === 'InternalIP').address, /^172\.18\.0\.1\d$/);
    assert.match(n.spec.podCIDR, /^10\.0\.\d+\.0\/24$/);
  }
  assert.match(ok(['get', 'no']).stdout, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nnode1\s+Ready\s+<none>/);
});

test('apply of two namespaces with Deployments, bare pods and Services: every pod Running with an IP, spread across both nodes', async () => {
  const out = ok(['apply', '-f', join(repoRoot, 'examples', 'workloads.yaml')]).stdout;
  assert.match(out, /deployment\.apps\/web created/);
  const all = await until('7 running pods', () => {
    const ps = pods().filter((p) => ['shop', 'tools'].includes(p.metadata.namespace));
    return ps.length === 7 && ps.every(running) && ps;
  });
  assert.deepEqual(new Set(all.map((p) => p.spec.nodeName)), new Set(['node1', 'node2']), 'pods spread over both nodes');
  const wide = ok(['get', 'pods', '-A', '-o', 'wide']).stdout;
  assert.match(wide.split('\n')[0]!, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
  for (const p of all) {
    assert.match(wide, new RegExp(`^${p.metadata.namespace}\\s+${p.metadata.name}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${p.status!.podIP!.replace(/\./g, '\\.')}\\s+${p.spec.nodeName}\\s`, 'm'));
  }
  // Deployment pods are named and labelled as Kubernetes names them.
  for (const p of all.filter((x) => x.metadata.labels?.app === 'web')) {
    assert.match(p.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.ok(p.metadata.labels?.['pod-template-hash']);
  }
  assert.match(ok(['get', 'deploy', '-n', 'shop']).stdout, /^web\s+3\/3\s+3\s+3\s/m);
});

test('pods with equal security labels have equal identities, the same on both nodes; namespace labels count', async () => {
  const all = pods().filter((p) => ['shop', 'tools'].includes(p.metadata.namespace));
  const ipcaches = await until('every pod IP in both ipcaches', () => {
    const rows = JSON.parse(ok(['bpf', 'ipcache', 'list', '-o', 'json']).stdout) as { node: string; rows: { prefix: string; identity: number }[] }[];
    const maps = rows.map((r) => new Map(r.rows.map((x) => [x.prefix, x.identity])));
    return maps.length === 2 && all.every((p) => maps.every((m) => (m.get(`${p.status!.podIP}/32`) ?? 0) >= 256)) && maps;
  });
  const idOf = (p: Pod) => {
    const ids = ipcaches.map((m) => m.get(`${p.status!.podIP}/32`));
    assert.equal(ids[0], ids[1], `${p.metadata.name}: both nodes agree`);
    return ids[0]!;
  };
  const byApp = new Map<string, Set<number>>();
  for (const p of all) {
    const app = `${p.metadata.namespace}/${p.metadata.labels?.app}`;
    byApp.set(app, (byApp.get(app) ?? new Set()).add(idOf(p)));
  }
  for (const [app, ids] of byApp) assert.equal(ids.size, 1, `${app}: one identity for equal labels`);
  const ids = [...byApp.values()].map((s) => [...s][0]);
  assert.equal(new Set(ids).size, ids.length, 'different labels, different identities');
  // The web pods sit on both nodes and still share one identity.
  const webNodes = new Set(all.filter((p) => p.metadata.labels?.app === 'web').map((p) => p.spec.nodeName));
  assert.equal(webNodes.size, 2);
  const eps = JSON.parse(ok(['endpoint', 'list', '-o', 'json']).stdout) as any[];
  const client = eps.find((e) => e.pod?.name === 'client');
  assert.ok(client.identityLabels.includes('k8s:io.cilium.k8s.namespace.labels.team=platform'), client.identityLabels.join(' '));
});

test('exec resolves another namespace\'s Service with a real DNS client (search paths, FQDN, headless, outside world)', () => {
  const svc = JSON.parse(ok(['get', 'svc', '-n', 'shop', 'web', '-o', 'json']).stdout);
  const clusterIP = svc.spec.clusterIP as string;
  assert.match(clusterIP, /^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/, 'allocated from the service CIDR');
  assert.equal(ok(['exec', '-n', 'tools', 'client', '--', 'dig', '+search', '+short', 'web.shop']).stdout.trim(), clusterIP);
  assert.equal(ok(['exec', '-n', 'tools', 'client', '--', 'dig', '+short', 'web.shop.svc.cluster.local']).stdout.trim(), clusterIP);
  assert.match(ok(['exec', '-n', 'tools', 'client', '--', 'getent', 'hosts', 'web.shop']).stdout, new RegExp(`^${clusterIP.replace(/\./g, '\\.')}\\s+web\\.shop\\.svc\\.cluster\\.local`));
  const apiIPs = pods('shop').filter((p) => p.metadata.labels?.app === 'api').map((p) => p.status!.podIP).sort();
  const headless = ok(['exec', '-n', 'tools', 'client', '--', 'dig', '+short', 'api-headless.shop.svc.cluster.local']).stdout.trim().split('\n').sort();
  assert.deepEqual(headless, apiIPs, 'a headless service resolves to its pods');
  assert.equal(ok(['exec', '-n', 'tools', 'client', '--', 'dig', '+short', 'example.com']).stdout.trim(), '172.18.0.100', 'outside-world names');
  assert.match(ok(['exec', '-n', 'tools', 'client', '--', 'dig', 'nope.shop.svc.cluster.local']).stdout, /status: NXDOMAIN/);
  assert.match(ok(['exec', '-n', 'tools', 'client', '--', 'cat', '/etc/resolv.conf']).stdout, /^search tools\.svc\.cluster\.local svc\.cluster\.local cluster\.local\nnameserver 10\.96\.0\.10\noptions ndots:5/);
  assert.equal(ok(['exec', '-n', 'tools', 'client', '--', 'hostname']).stdout.trim(), 'client');
  // The machine's own resolv.conf is untouched by the pods' bind mounts.
  assert.doesNotMatch(readFileSync('/etc/resolv.conf', 'utf8'), /svc\.cluster\.local/);
});

test('exec returns the command\'s exit status; pods reach each other; logs show what containers wrote', () => {
  assert.equal(run(['exec', '-n', 'tools', 'client', '--', 'sh', '-c', 'exit 7']).code, 7);
  const web = pods('shop').filter((p) => p.metadata.labels?.app === 'web');
  for (const p of web) assert.equal(ok(['exec', '-n', 'tools', 'client', '--', 'curl', '-s', '--max-time', '5', `http://${p.status!.podIP}:8080/`]).stdout, 'hello from web\n');
  const logs = ok(['logs', '-n', 'shop', web[0]!.metadata.name]).stdout;
  assert.match(logs, /kube-probe/, 'readiness probes reach the container');
  const missing = run(['exec', 'nope', '--', 'true']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Error \[BL_ERR_STORE_NOT_FOUND\]: \(NotFound\) pods "nope" not found/);
});

test('the nginx-native image runs the host\'s nginx in the pod: it answers HTTP, keeps its files to itself, stops with the pod', async () => {
  const manifest = `apiVersion: v1
kind: Pod
metadata: {name: native, namespace: tools}
spec:
  containers:
  - name: nginx
    image: beeline.dev/nginx-native
    args: ["--port", "8081", "--text", "native ok"]
`;
  assert.equal(run(['apply', '-f', '-'], manifest).code, 0);
  await until('native Running', () => pods('tools').some((p) => p.metadata.name === 'native' && running(p)));
  const p = pods('tools').find((x) => x.metadata.name === 'native')!;
  const url = `http://${p.status!.podIP}:8081/any/path`;
  assert.equal(ok(['exec', '-n', 'tools', 'client', '--', 'curl', '-s', '--max-time', '5', url]).stdout, 'native ok\n');
  // Connection per request: nginx closes when asked to.
  const head = ok(['exec', '-n', 'tools', 'client', '--', 'curl', '-si', '--max-time', '5', '-H', 'Connection: close', url]).stdout;
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /\r\nServer: nginx\r\n/);
  assert.match(head, /\r\nConnection: close\r\n/);
  // The container's init (tini, its pid 1) runs the host's nginx (its master), with one worker.
  const rec = join(kubeletDir(LAB, p.spec.nodeName!), 'pods', `${p.metadata.uid}.json`);
  const init = (JSON.parse(readFileSync(rec, 'utf8')) as any).containers[0].pid as number;
  assert.equal(readlinkSync(`/proc/${init}/exe`), '/usr/bin/tini');
  const ppidOf = (x: string) => {
    try {
      const st = readFileSync(`/proc/${x}/stat`, 'utf8');
      return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return -1;
    }
  };
  const childrenOf = (x: number) => readdirSync('/proc').filter((y) => /^\d+$/.test(y) && ppidOf(y) === x).map(Number);
  const pid = childrenOf(init)[0]!;
  assert.equal(readlinkSync(`/proc/${pid}/exe`), '/usr/sbin/nginx');
  const workers = childrenOf(pid);
  assert.equal(workers.length, 1, 'worker_processes 1');
  // Its config, pid and temp files live on the tmpfs the container's bundle gives it, not on the machine.
  assert.ok(!existsSync('/var/lib/nginx/nginx.conf'), 'no config written to the machine');
  assert.match(readFileSync(`/proc/${pid}/mounts`, 'utf8'), /^tmpfs \/var\/lib\/nginx tmpfs /m);
  // Nothing listens on 8081 in the machine's own namespace (this process's).
  const listening = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).some((l) => l.trim().split(/\s+/)[1]?.endsWith(':1F91') && l.trim().split(/\s+/)[3] === '0A');
  assert.equal(listening, false);
  ok(['delete', 'pod', '-n', 'tools', 'native']);
  await until('nginx master and worker gone', () => [pid, ...workers].every((x) => !existsSync(`/proc/${x}`) || readFileSync(`/proc/${x}/stat`, 'utf8').includes(') Z')), 40_000);
});

test('EndpointSlices follow the pods: named target ports resolved, replicas scaled, readiness from probes', async () => {
  const slice = () => (JSON.parse(ok(['get', 'endpointslices', '-n', 'shop', '-l', 'kubernetes.io/service-name=web', '-o', 'json']).stdout).items as any[])[0];
  const s = slice();
  assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.equal(s.endpoints.length, 3);
  // A readiness probe the test controls: an exec probe on a file only this test makes (in the container's own /tmp).
  const flag = '/tmp/ready-flag';
  const manifest = `apiVersion: v1
kind: Pod
metadata: {name: gated, namespace: shop, labels: {app: gated}}
spec:
  containers:
  - name: c
    image: hashicorp/http-echo
    args: ["-text=gated", "-listen=:8080"]
    readinessProbe:
      exec: {command: ["test", "-f", "${flag}"]}
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata: {name: gated, namespace: shop}
spec:
  selector: {app: gated}
  ports: [{port: 80, targetPort: 8080}]
`;
  assert.equal(run(['apply', '-f', '-'], manifest).code, 0);
  const gated = () => (JSON.parse(ok(['get', 'endpointslices', '-n', 'shop', '-l', 'kubernetes.io/service-name=gated', '-o', 'json']).stdout).items as any[])[0];
  await until('gated endpoint listed not ready', () => gated()?.endpoints?.[0]?.conditions?.ready === false);
  // The endpoint is listed once the sandbox has its address; the container may still be starting (ContainerCreating).
  await until('gated Running, not ready', () => /gated\s+0\/1\s+Running/.test(ok(['get', 'pods', '-n', 'shop', 'gated']).stdout));
  ok(['exec', '-n', 'shop', 'gated', '--', 'touch', flag]);
  await until('gated endpoint ready', () => gated()?.endpoints?.[0]?.conditions?.ready === true);
  ok(['exec', '-n', 'shop', 'gated', '--', 'rm', flag]);
  await until('gated endpoint not ready again', () => gated()?.endpoints?.[0]?.conditions?.ready === false);
  // Scale web down to one replica: the slice follows.
  const scaled = readFileSync(join(repoRoot, 'examples', 'workloads.yaml'), 'utf8').replace('replicas: 3', 'replicas: 1');
  assert.equal(run(['apply', '-f', '-'], scaled).code, 0);
  await until('web slice with 1 endpoint', () => slice().endpoints.length === 1);
});

test('restart back-off: a crashing container restarts, shows CrashLoopBackOff, and logs -p shows the previous run', async () => {
  const manifest = `apiVersion: v1
kind: Pod
metadata: {name: crasher, namespace: default}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo run at $(date +%s%N); exit 3"]
---
apiVersion: v1
kind: Pod
metadata: {name: once, namespace: default}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo done"]
---
apiVersion: v1
kind: Pod
metadata: {name: unhealthy, namespace: default}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "infinity"]
    livenessProbe:
      tcpSocket: {port: 9}
      periodSeconds: 1
      failureThreshold: 2
`;
  assert.equal(run(['apply', '-f', '-'], manifest).code, 0);
  const get = (n: string) => JSON.parse(ok(['get', 'pod', n, '-o', 'json']).stdout) as Pod;
  const crashing = await until('crasher restarted twice', () => {
    const p = get('crasher');
    return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 && p;
  });
  assert.equal(crashing.status!.containerStatuses![0].lastState.terminated.exitCode, 3);
  await until('CrashLoopBackOff shown', () => /crasher\s+0\/1\s+CrashLoopBackOff/.test(ok(['get', 'pods']).stdout), 30_000, 100);
  assert.match(ok(['logs', 'crasher', '-p']).stdout, /^run at \d+\n$/);
  const once = await until('once Succeeded', () => get('once').status?.phase === 'Succeeded' && get('once'));
  assert.equal(once.status!.containerStatuses![0].state.terminated.exitCode, 0);
  assert.equal(once.status!.containerStatuses![0].restartCount, 0);
  assert.equal(ok(['logs', 'once']).stdout, 'done\n');
  await until('liveness failure restarts the container', () => (get('unhealthy').status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
});

test('rolling replacement: a new template replaces every pod while the Deployment stays available', async () => {
  const before = new Set(pods('shop').filter((p) => p.metadata.labels?.app === 'api').map((p) => p.metadata.name));
  const v2 = readFileSync(join(repoRoot, 'examples', 'workloads.yaml'), 'utf8').replace('replicas: 3', 'replicas: 1').replace('        - name: agnhost\n', '        - name: agnhost\n          env: [{name: VERSION, value: "2"}]\n');
  assert.notEqual(v2, readFileSync(join(repoRoot, 'examples', 'workloads.yaml'), 'utf8'));
  assert.equal(run(['apply', '-f', '-'], v2).code, 0);
  let minAvailable = Infinity;
  await until('all api pods replaced', () => {
    const d = JSON.parse(ok(['get', 'deploy', '-n', 'shop', 'api', '-o', 'json']).stdout);
    minAvailable = Math.min(minAvailable, d.status?.availableReplicas ?? 0);
    const api = pods('shop').filter((p) => p.metadata.labels?.app === 'api');
    return api.length === 2 && api.every((p) => !before.has(p.metadata.name) && running(p)) && (d.status?.updatedReplicas ?? 0) === 2;
  }, 90_000, 200);
  // 2 replicas, maxUnavailable 25% rounds down to 0: never fewer than 2 available.
  assert.ok(minAvailable >= 2, `availability dipped to ${minAvailable}`);
});

test('bad input: unknown node, missing namespace and unschedulable pods get field paths; nothing is half-applied', async () => {
  const bad = `apiVersion: v1
kind: Pod
metadata: {name: good, namespace: default}
spec: {containers: [{name: c, image: pause}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pinned, namespace: default}
spec: {nodeName: node9, containers: [{name: c, image: pause}]}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: nowhere}
spec: {ports: [{port: 80}]}
`;
  const r = run(['apply', '-f', '-'], bad);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Error \[BL_ERR_INVALID\]: apply -: 2 invalid objects, nothing from this file was applied/m);
  assert.match(r.stderr, /Pod\/default\/pinned: spec\.nodeName: Invalid value: "node9": node not found/);
  assert.match(r.stderr, /Service\/nowhere\/s: metadata\.namespace: namespaces "nowhere" not found/);
  assert.equal(run(['get', 'pod', 'good']).code, 1, 'the valid pod of that file was not applied');
  const unsched = `apiVersion: v1
kind: Pod
metadata: {name: picky, namespace: default}
spec:
  nodeSelector: {disk: ssd}
  containers: [{name: c, image: pause}]
`;
  assert.equal(run(['apply', '-f', '-'], unsched).code, 0);
  const p = await until('picky marked unschedulable', () => {
    const x = JSON.parse(ok(['get', 'pod', 'picky', '-o', 'json']).stdout) as Pod;
    return x.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False') && x;
  });
  assert.equal(p.status!.conditions!.find((c) => c.type === 'PodScheduled')!.message, "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.");
  assert.match(ok(['get', 'pod', 'picky']).stdout, /picky\s+0\/1\s+Pending/);
});

test('a kubelet killed with -9 comes back, keeps the containers it ran, and still manages them', async () => {
  const client = pods('tools').find((x) => x.metadata.name === 'client')!;
  const node = client.spec.nodeName!;
  const pidFile = join(labDir(LAB), 'nodes', node, 'kubelet.pid');
  const rec = join(kubeletDir(LAB, node), 'pods', `${client.metadata.uid}.json`);
  const containerPid = (JSON.parse(readFileSync(rec, 'utf8')) as any).containers[0].pid as number;
  const old = Number(readFileSync(pidFile, 'utf8'));
  process.kill(old, 'SIGKILL');
  await until('a new kubelet', () => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8')) !== old, 30_000);
  // A pod bound to that node after the restart starts; the running one was left alone.
  const pinned = `apiVersion: v1
kind: Pod
metadata: {name: after-restart, namespace: tools}
spec:
  nodeName: ${node}
  containers: [{name: c, image: registry.k8s.io/pause:3.9}]
`;
  assert.equal(run(['apply', '-f', '-'], pinned).code, 0);
  await until('after-restart Running', () => running(pods('tools').find((x) => x.metadata.name === 'after-restart') ?? ({} as Pod)));
  process.kill(containerPid, 0); // throws if the container died with its kubelet
  assert.equal((JSON.parse(readFileSync(rec, 'utf8')) as any).containers[0].pid, containerPid);
  assert.equal(ok(['exec', '-n', 'tools', 'client', '--', 'hostname']).stdout.trim(), 'client');
  // The adopted pod is still the kubelet's to tear down.
  ok(['delete', 'pod', '-n', 'tools', 'client']);
  await until('client torn down by the new kubelet', () => !listNetns().includes(`bl-${LAB}-p-tools-client`) && !existsSync(rec), 40_000);
});

test('graceful deletion: the pod shows Terminating and its endpoint terminating until its container has stopped', async () => {
  const manifest = `apiVersion: v1
kind: Pod
metadata: {name: slowstop, namespace: shop, labels: {app: slowstop}}
spec:
  terminationGracePeriodSeconds: 20
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'sleep 8; exit 0' TERM; while true; do sleep 0.2; done"]
---
apiVersion: v1
kind: Service
metadata: {name: slowstop, namespace: shop}
spec:
  selector: {app: slowstop}
  ports: [{port: 80}]
`;
  assert.equal(run(['apply', '-f', '-'], manifest).code, 0);
  await until('slowstop running', () => running(pods('shop').find((x) => x.metadata.name === 'slowstop') ?? ({} as Pod)));
  const slice = () => (JSON.parse(ok(['get', 'endpointslices', '-n', 'shop', '-l', 'kubernetes.io/service-name=slowstop', '-o', 'json']).stdout).items as any[])[0];
  await until('slowstop endpoint ready', () => slice()?.endpoints?.[0]?.conditions?.ready === true);
  const t0 = Date.now();
  assert.match(ok(['delete', 'pod', '-n', 'shop', 'slowstop', '--wait=false']).stdout, /^pod "slowstop" deleted$/m);
  assert.match(ok(['get', 'pods', '-n', 'shop', 'slowstop']).stdout, /slowstop\s+\S+\s+Terminating/);
  const c = await until('endpoint terminating', () => {
    const e = slice()?.endpoints?.[0];
    return e?.conditions?.terminating === true && e.conditions;
  }, 20_000, 100);
  assert.equal(c.ready, false, 'a terminating endpoint is not ready');
  await until('slowstop gone', () => run(['get', 'pod', '-n', 'shop', 'slowstop']).code === 1, 30_000, 200);
  assert.ok(Date.now() - t0 >= 7000, 'the container had its SIGTERM handler time');
  await until('slice empty', () => (slice()?.endpoints ?? []).length === 0);
  // --force skips the kubelet: gone at once.
  assert.equal(run(['apply', '-f', '-'], manifest).code, 0);
  await until('slowstop running again', () => running(pods('shop').find((x) => x.metadata.name === 'slowstop') ?? ({} as Pod)));
  ok(['delete', 'pod', '-n', 'shop', 'slowstop', '--force']);
  assert.equal(run(['get', 'pod', '-n', 'shop', 'slowstop']).code, 1);
});

test('deleting a pod stops its containers and removes its namespace, cgroup and kubelet state', async () => {
  const p = pods('tools').find((x) => x.metadata.name === 'client2')!;
  const netns = `bl-${LAB}-p-tools-client2`;
  const cg = podCgroup(LAB, p.spec.nodeName!, p.metadata.uid);
  const rec = join(kubeletDir(LAB, p.spec.nodeName!), 'pods', `${p.metadata.uid}.json`);
  assert.ok(listNetns().includes(netns), netns);
  assert.ok(existsSync(cg), cg);
  assert.ok(existsSync(rec), rec);
  const pid = (JSON.parse(readFileSync(rec, 'utf8')) as any).containers[0].pid as number;
  ok(['delete', 'pod', '-n', 'tools', 'client2']);
  await until('client2 torn down', () => !listNetns().includes(netns) && !existsSync(cg) && !existsSync(rec), 40_000);
  assert.ok(!existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), 'its container process is gone');
  const eps = JSON.parse(ok(['endpoint', 'list', '-o', 'json']).stdout) as any[];
  assert.ok(!eps.some((e) => e.pod?.name === 'client2'), 'its endpoint is gone');
  assert.ok(!readdirSync(join(kubeletDir(LAB, p.spec.nodeName!), 'pods')).some((f) => f.startsWith(p.metadata.uid)));
});
