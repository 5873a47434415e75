/**
 * The lab's DNS end to end on a 2-node lab: the cluster DNS runs as
 * kube-system/coredns pods labelled k8s-app=kube-dns behind the kube-dns
 * Service (one per node, with the kube-system/kube-dns identity); a pod
 * resolves a cluster Service and an outside-world name with dig over UDP and
 * TCP and through the libc resolver; a world name changed at run time is
 * answered with its new address and the world's short TTL, and a server bound
 * to that extra world address answers; a CiliumNetworkPolicy from Cilium's DNS
 * documentation (egress to kube-dns on 53/ANY with a DNS rule, plus toFQDNs)
 * applies and the pod still resolves.
 *
 * Run with the shared lock: flock /tmp/beeline-heavy.lock node --test dist/test/privileged/lab-dns.test.js
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { beeline, beelineOk } from '../lib/cli.js';
import { until } from '../lib/wait.js';
import { WorldServers } from '../lib/world.js';
import { WORLD_DNS_TTL_S, kubeDnsIP } from '../../src/lab/dns.js';
import { WORLD_EXTRA_IPS, planLab } from '../../src/lab/topology.js';
import { spawnSync } from 'node:child_process';
import { beelineBin } from '../lib/cli.js';

const LAB = 'dnstest';
const env = { BEELINE_LAB: LAB };
const ok = (args: string[]) => beelineOk(args, env);
const KUBE_DNS_IP = kubeDnsIP(planLab(LAB, 2).serviceCIDR);
const world = new WorldServers(env);

function apply(yaml: string): void {
  const r = spawnSync(beelineBin, ['apply', '-f', '-'], { input: yaml, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`apply: ${r.stderr}${r.stdout}`);
}

/** Runs CMD in the client pod; its stdout (throws on failure). */
const inPod = (cmd: string[]) => ok(['exec', 'client', '--', ...cmd]).stdout.trim();

interface Pod {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status?: { phase?: string; podIP?: string; containerStatuses?: { ready?: boolean }[] };
}

before(() => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
  ok(['lab', 'up', '--name', LAB, '--nodes', '2', '-q']);
  apply(`apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  containers:
  - {name: c, image: nicolaka/netshoot, command: [sleep, infinity]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`);
});

after(() => {
  world.stop();
  beeline(['lab', 'down', '--name', LAB, '-q']);
});

test('the cluster DNS is two kube-system pods labelled k8s-app=kube-dns, one per node, behind kube-dns, with the kube-system/kube-dns identity', async () => {
  // lab up returns once kube-dns has a ready endpoint per replica.
  const pods = JSON.parse(ok(['get', 'pods', '-n', 'kube-system', '-o', 'json']).stdout).items as Pod[];
  const dns = pods.filter((p) => p.metadata.labels?.['k8s-app'] === 'kube-dns');
  assert.equal(dns.length, 2, JSON.stringify(pods.map((p) => p.metadata.name)));
  for (const p of dns) {
    assert.match(p.metadata.name, /^coredns-\w+-\w+$/);
    assert.equal(p.status?.phase, 'Running');
    assert.ok(p.status?.containerStatuses?.every((c) => c.ready), `${p.metadata.name} ready`);
  }
  assert.deepEqual(new Set(dns.map((p) => p.spec.nodeName)), new Set(['node1', 'node2']), 'spread over both nodes');
  assert.match(ok(['get', 'deploy', '-n', 'kube-system']).stdout, /^coredns\s+2\/2\s/m);

  const svc = JSON.parse(ok(['get', 'svc', 'kube-dns', '-n', 'kube-system', '-o', 'json']).stdout);
  assert.deepEqual(svc.spec.selector, { 'k8s-app': 'kube-dns' });
  assert.equal(svc.spec.clusterIP, KUBE_DNS_IP);
  assert.deepEqual(svc.spec.ports.map((p: any) => `${p.name} ${p.port}/${p.protocol}`), ['dns 53/UDP', 'dns-tcp 53/TCP']);
  const slices = JSON.parse(ok(['get', 'endpointslices', '-n', 'kube-system', '-o', 'json']).stdout).items as any[];
  const addrs = slices.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'kube-dns').flatMap((s) => s.endpoints.flatMap((e: any) => e.addresses)).sort();
  assert.deepEqual(addrs, dns.map((p) => p.status!.podIP!).sort(), 'the EndpointSlice controller lists the DNS pods');
  assert.ok(!slices.some((s) => s.metadata.name === 'kube-dns-node-local'));

  // Their identity carries the labels Cilium's DNS policies select.
  const eps = await until('both DNS pods as endpoints', () => {
    const l = (JSON.parse(ok(['endpoint', 'list', '-o', 'json']).stdout) as any[]).filter((e) => e.pod?.namespace === 'kube-system');
    return l.length === 2 && l.every((e) => e.identity >= 256) && l;
  });
  assert.equal(eps[0].identity, eps[1].identity, 'one identity for both replicas');
  const ids = JSON.parse(ok(['identity', 'list', '-o', 'json']).stdout) as { id: number; labels: string[] }[];
  const labels = ids.find((i) => i.id === eps[0].identity)?.labels ?? [];
  for (const l of ['k8s:io.kubernetes.pod.namespace=kube-system', 'k8s:k8s-app=kube-dns']) assert.ok(labels.includes(l), `${l} in ${labels.join(' ')}`);
});

test('a pod resolves a cluster Service and an outside-world name with dig over UDP and TCP, and through the libc resolver', async () => {
  await until('the client pod runs', () => (JSON.parse(ok(['get', 'pods', '-o', 'json']).stdout).items as Pod[]).some((p) => p.metadata.name === 'client' && p.status?.phase === 'Running'));
  const webIP = JSON.parse(ok(['get', 'svc', 'web', '-o', 'json']).stdout).spec.clusterIP as string;
  // dig from the pod: the kube-dns Service address is translated to a DNS pod by the socket load balancer, both for UDP and TCP.
  for (const tcp of [[], ['+tcp']]) {
    assert.equal(inPod(['dig', ...tcp, '+short', '+time=2', '+tries=2', 'web.default.svc.cluster.local']), webIP, `UDP/TCP ${tcp.join('')}: cluster name`);
    assert.equal(inPod(['dig', ...tcp, '+short', '+time=2', '+tries=2', 'api.example.test']), WORLD_EXTRA_IPS[0], `${tcp.join('')}: world name`);
    assert.equal(inPod(['dig', ...tcp, '+short', '+time=2', '+tries=2', 'kube-dns.kube-system.svc.cluster.local']), KUBE_DNS_IP);
  }
  // Every query goes to the Service address named in resolv.conf, and a pod reaches each DNS pod.
  assert.match(inPod(['dig', '+time=2', '+tries=2', 'web.default.svc.cluster.local']), new RegExp(`SERVER: ${KUBE_DNS_IP.replace(/\./g, '\\.')}#53\\(${KUBE_DNS_IP.replace(/\./g, '\\.')}\\) \\(UDP\\)`));
  const dnsPods = (JSON.parse(ok(['get', 'pods', '-n', 'kube-system', '-o', 'json']).stdout).items as Pod[]).map((p) => p.status!.podIP!);
  for (const ip of dnsPods) assert.equal(inPod(['dig', `@${ip}`, '+short', '+time=2', '+tries=2', 'web.default.svc.cluster.local']), webIP, `DNS pod ${ip}`);
  // The libc resolver: search paths (web → web.default.svc.cluster.local) and the outside world.
  assert.match(inPod(['getent', 'hosts', 'web']), new RegExp(`^${webIP.replace(/\./g, '\\.')}\\s+web\\.default\\.svc\\.cluster\\.local`));
  assert.match(inPod(['getent', 'hosts', 'api.example.test']), new RegExp(`^${WORLD_EXTRA_IPS[0]!.replace(/\./g, '\\.')}\\s+api\\.example\\.test`));
  assert.equal(inPod(['dig', '+short', '+time=2', '+tries=2', 'evil.test']), WORLD_EXTRA_IPS[2]);
  assert.match(inPod(['dig', '+time=2', '+tries=2', 'nope.example.test']), /status: NXDOMAIN/);
});

test('a world name changed at run time: the new address with the short TTL, and a server bound to it answers the pod', async () => {
  const [a, b] = [WORLD_EXTRA_IPS[5]!, WORLD_EXTRA_IPS[6]!];
  assert.equal(ok(['lab', 'world-dns', 'set', 'api.example.test', `${b},${a}`]).stdout.trim(), `api.example.test: ${b}, ${a}`);
  // No cache in the cluster DNS: the pod sees the change at once, TTL as the world gives it.
  const answer = inPod(['dig', '+noall', '+answer', '+time=2', '+tries=2', 'api.example.test']).split('\n').map((l) => l.split(/\s+/));
  assert.deepEqual(answer.map((f) => f[4]).sort(), [a, b].sort());
  assert.deepEqual(answer.map((f) => Number(f[1])), [WORLD_DNS_TTL_S, WORLD_DNS_TTL_S], 'the world TTL');
  // A server in the world on one of the extra addresses, reached by name from the pod.
  ok(['lab', 'world-dns', 'set', 'api.example.test', a]);
  world.start(a, ['--http', '80'], 'api');
  const body = await until('the world server answers by name', () => {
    const r = beeline(['exec', 'client', '--', 'curl', '-s', '--max-time', '2', 'http://api.example.test/'], env);
    return r.code === 0 && r.stdout.trim();
  }, 20_000);
  assert.match(body, /api/);
  // Removed: NXDOMAIN.
  ok(['lab', 'world-dns', 'set', 'www.example.test']);
  assert.match(inPod(['dig', '+time=2', '+tries=2', 'www.example.test']), /status: NXDOMAIN/);
  // Bad input: one message naming the value.
  const bad = beeline(['lab', 'world-dns', 'set', 'api.example.test', '10.0.0.300'], env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /"10\.0\.0\.300" is not an IPv4 address/);
});

test("Cilium's DNS policy (egress to kube-dns 53/ANY with a DNS rule, plus toFQDNs) applies and the pod still resolves", async () => {
  // A world address no name points at: reachable before the policy, denied by it.
  const other = WORLD_EXTRA_IPS[9]!;
  world.start(other, ['--http', '80'], 'other');
  const reach = () => beeline(['exec', 'client', '--', 'curl', '-s', '--max-time', '1', `http://${other}/`], env).code === 0;
  await until('the other world server answers before the policy', reach, 20_000);
  apply(`apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: fqdn}
spec:
  endpointSelector:
    matchLabels: {app: client}
  egress:
  - toFQDNs:
    - matchName: api.example.test
  - toEndpoints:
    - matchLabels:
        "k8s:io.kubernetes.pod.namespace": kube-system
        "k8s:k8s-app": kube-dns
    toPorts:
    - ports:
      - port: "53"
        protocol: ANY
      rules:
        dns:
        - matchPattern: "*"
`);
  // The policy is in force once the pod's other egress is denied.
  await until('egress to another world address denied', () => !reach(), 20_000);
  for (const tcp of [[], ['+tcp']]) {
    assert.equal(inPod(['dig', ...tcp, '+short', '+time=2', '+tries=2', 'web.default.svc.cluster.local']), JSON.parse(ok(['get', 'svc', 'web', '-o', 'json']).stdout).spec.clusterIP);
    assert.equal(inPod(['dig', ...tcp, '+short', '+time=2', '+tries=2', 'api.example.test']), WORLD_EXTRA_IPS[5]);
  }
  assert.match(inPod(['getent', 'hosts', 'api.example.test']), /api\.example\.test/);
});
