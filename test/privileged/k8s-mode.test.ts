/**
 * The agent and the operator in Kubernetes mode (src/agent/cluster.ts,
 * src/identity/crd.ts, src/operator/operator.ts) against the Kubernetes API
 * test double (test/lib/kube-api.ts), driven with the real kubectl.
 *
 * No API server can run on this machine. The double runs inside a network
 * namespace that plays a node's host namespace (its own loopback is the
 * node's way to the API server); the agent runs there with the eBPF
 * datapath, as on a node, and without the host-netns switch (this namespace is not
 * the machine's). The test plays the kubelet: it registers the Node, creates
 * Pods with kubectl and their network with the real CNI plugin
 * (bin/beeline-cni, K8S_POD_NAMESPACE/K8S_POD_NAME in CNI_ARGS, as a
 * runtime passes them). Acceptance of issue 18: a Service applied with
 * kubectl is programmed and load-balanced, and a CiliumNetworkPolicy applied
 * with kubectl is enforced; identities and endpoints live in the API as
 * BeelineIdentity / BeelineEndpoint objects, the node as a BeelineNode, and
 * the operator hands out pod CIDRs and collects unused identities.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { run } from '../../src/common/exec.js';
import { repoRoot } from '../../src/common/version.js';
import type { AgentConfig, AgentStatus, EndpointModel } from '../../src/agent/types.js';
import { agentGet } from '../../src/agent/client.js';
import { pluginConfig, renderConflist } from '../../src/cni/conflist.js';
import { beelineBin } from '../lib/cli.js';
import { addNetns, delNetnsIfPresent, newContainerID, runCni } from '../lib/cni.js';
import { sleep, until } from '../lib/wait.js';

const TAG = `k8s${process.pid % 100000}`;
const NODE_NS = `bl-${TAG}-node`;
const NODE_IP = '172.30.0.11';
const CLUSTER_IP = '10.96.0.50';

interface Proc {
  child: ChildProcess;
  log: string[];
}

/** A process in the node namespace, its output kept for failure messages. */
function startIn(ns: string, cmd: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  for (const s of [child.stdout!, child.stderr!]) createInterface({ input: s }).on('line', (l) => log.push(l) > 400 && log.shift());
  return { child, log };
}

function stop(p: Proc | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.child.pid && process.kill(p.child.pid, 'SIGKILL'), 10_000);
    p.child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.child.kill('SIGTERM');
  });
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const tail = (p: Proc) => p.log.slice(-30).join('\n');

test('agent and operator in Kubernetes mode: a Service and a CiliumNetworkPolicy applied with kubectl are enforced', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `bl-${TAG}-`));
  const bpffs = join(dir, 'bpf');
  mkdirSync(bpffs);
  const podNs: string[] = [];
  const procs: Proc[] = [];
  t.after(async () => {
    for (const p of procs.reverse()) await stop(p);
    for (const n of podNs) delNetnsIfPresent(n);
    delNetnsIfPresent(NODE_NS);
    run('umount', [bpffs], { allowFailure: true });
    rmSync(dir, { recursive: true, force: true });
  });

  // The node: its host namespace (played), its uplink, a bpffs.
  run('mount', ['-t', 'bpf', 'bpffs', bpffs]);
  addNetns(NODE_NS);
  run('ip', ['-n', NODE_NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
  run('ip', ['-n', NODE_NS, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0']);
  run('ip', ['-n', NODE_NS, 'link', 'set', 'eth0', 'up']);
  run('ip', ['-n', NODE_NS, 'link', 'set', 'eth1', 'up']);

  // The API server (the double), on the node namespace's loopback.
  const api = startIn(NODE_NS, [process.execPath, join(repoRoot, 'dist', 'test', 'lib', 'kube-api-main.js')], { KUBE_API_BOOKMARK_MS: '500' });
  procs.push(api);
  const { kubeconfig } = await until('the API double listens', () => {
    const line = api.log.find((l) => l.startsWith('{'));
    return line ? (JSON.parse(line) as { url: string; kubeconfig: string }) : undefined;
  }, 15_000);

  const kubectl = (args: string[], input?: string) => {
    const r = run('ip', ['netns', 'exec', NODE_NS, 'kubectl', '--kubeconfig', kubeconfig, ...args], { allowFailure: true, ...(input ? { input } : {}) });
    return r;
  };
  const kubectlOk = (args: string[], input?: string) => {
    const r = kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const getJson = <T>(args: string[]) => JSON.parse(kubectlOk([...args, '-o', 'json'])) as T;

  // The kubelet registers the Node; kube-controller-manager gives it a pod CIDR.
  kubectlOk(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1', labels: { 'kubernetes.io/hostname': 'node1' } },
    spec: { podCIDR: '10.44.1.0/24', podCIDRs: ['10.44.1.0/24'] },
  }));

  // The operator: identity GC with a short grace, cluster-pool IPAM for BeelineNodes without a pod CIDR.
  const operator = startIn(NODE_NS, [beelineBin, 'operator', '--k8s-kubeconfig', kubeconfig, '--identity-gc-grace', '2s', '--identity-gc-interval', '1s', '--cluster-pool-cidr', '10.44.0.0/16', '--cluster-pool-mask-size', '24']);
  procs.push(operator);

  // The agent, as the DaemonSet runs it: the cluster-wide file, the node's name and address from the environment.
  const config: Partial<AgentConfig> = {
    stateDir: join(dir, 'agent'),
    clusterPoolCIDR: '10.44.0.0/16',
    clusterPoolMaskSize: 24,
    cniNetwork: 'beeline',
    routing: 'native',
    socket: join(dir, 'agent.sock'),
    pinDir: join(bpffs, 'node1'),
    bpfObjectDir: join(repoRoot, 'build', 'bpf'),
    kvstore: '',
    monitorAggregation: 'medium',
    ctMapSize: 65536,
    observer: { enabled: false },
  };
  mkdirSync(config.stateDir!);
  writeFileSync(join(dir, 'agent.json'), JSON.stringify(config));
  const agent = startIn(NODE_NS, [beelineBin, 'agent', '--config', join(dir, 'agent.json'), '--k8s-kubeconfig', kubeconfig], { BEELINE_NODE_NAME: 'node1', BEELINE_NODE_IP: NODE_IP });
  procs.push(agent);
  const status = await until('the agent reports healthy in Kubernetes mode', async () => {
    if (agent.child.exitCode !== null) throw new Error(`agent exited: ${tail(agent)}`);
    const s = await agentGet<AgentStatus>(config.socket!, '/v1/status', 1000).catch(() => undefined);
    return s?.health === 'ok' && s.kubernetes?.state === 'ok' ? s : undefined;
  }, 60_000);
  assert.equal(status.podCIDR, '10.44.1.0/24', "the pod CIDR is the Node's spec.podCIDR");
  assert.equal(status.kvstore.state, 'disabled');
  const cliStatus = run(beelineBin, ['status'], { allowFailure: true, env: { ...process.env, BEELINE_AGENT_SOCKET: config.socket!, BEELINE_NODE_NAME: 'node1', BEELINE_LAB: '' } });
  assert.match(cliStatus.stdout, /Kubernetes:\s+Ok\s+http:\/\/127\.0\.0\.1:\d+/, `beeline status (the node's own agent): ${cliStatus.stdout}${cliStatus.stderr}`);
  assert.match(cliStatus.stdout, /KVStore:\s+Disabled/);
  t.diagnostic(`beeline status (the agent's own socket):\n${cliStatus.stdout.split('\n').filter((l) => /^(Node|Health|KVStore|Kubernetes|Datapath|IPAM):/.test(l)).join('\n')}`);

  // The agent announced its node as a BeelineNode.
  const own = await until('the BeelineNode of node1', () => {
    const r = kubectl(['get', 'beelinenodes.beeline.io', 'node1', '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as { spec: { addresses: { type: string; ip: string }[]; ipam: { podCIDRs: string[] } } }) : undefined;
  }, 20_000);
  assert.deepEqual(own.spec.addresses, [{ type: 'InternalIP', ip: NODE_IP }]);
  assert.deepEqual(own.spec.ipam.podCIDRs, ['10.44.1.0/24']);

  // Another node joins without a pod CIDR (cluster-pool IPAM): the operator hands it one, the agent routes it.
  kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node2' } }));
  kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineNode', metadata: { name: 'node2' }, spec: { addresses: [{ type: 'InternalIP', ip: '172.30.0.12' }] } }));
  const node2CIDR = await until('the operator gives node2 a pod CIDR', () => {
    const r = kubectl(['get', 'beelinenodes.beeline.io', 'node2', '-o', 'jsonpath={.spec.ipam.podCIDRs[0]}']);
    return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
  }, 20_000);
  assert.notEqual(node2CIDR, '10.44.1.0/24', "node2's CIDR is not node1's");
  await until('the agent learns node2', async () => (await agentGet<AgentStatus>(config.socket!, '/v1/status', 1000)).nodes.count === 1, 20_000);
  assert.match(run('ip', ['-n', NODE_NS, 'route', 'show', node2CIDR]).stdout, /via 172\.30\.0\.12/, "node2's pod CIDR is routed to its address");

  // Pods, as a kubelet makes them: the Pod object first, then CNI ADD with its name.
  const conflist = pluginConfig(renderConflist({ agentSocket: config.socket! }), 0);
  const pods: Record<string, { ip: string; ns: string; containerID: string }> = {};
  for (const [name, app] of [['client', 'client'], ['server', 'server'], ['other', 'other']] as const) {
    kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app } }, spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'none' }] } }));
    const ns = `bl-${TAG}-${name}`;
    podNs.push(ns);
    const path = addNetns(ns);
    const containerID = newContainerID();
    const r = await runCni(NODE_NS, {
      CNI_COMMAND: 'ADD', CNI_CONTAINERID: containerID, CNI_NETNS: path, CNI_IFNAME: 'eth0',
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name}`, CNI_PATH: join(repoRoot, 'bin'),
    }, conflist);
    assert.equal(r.code, 0, `CNI ADD ${name}: ${r.stdout} ${r.stderr}`);
    pods[name] = { ip: r.json!.ips![0]!.address.split('/')[0]!, ns, containerID };
  }

  // Identities through the CRD: every pod's endpoint has one, published as a BeelineEndpoint.
  const eps = await until('every endpoint has a cluster identity', async () => {
    const list = await agentGet<EndpointModel[]>(config.socket!, '/v1/endpoints', 1000);
    return list.length === 3 && list.every((e) => e.identity >= 256) ? list : undefined;
  }, 30_000);
  const identityOf = (pod: string) => eps.find((e) => e.pod?.name === pod)!.identity;
  assert.equal(new Set(eps.map((e) => e.identity)).size, 3, 'three label sets, three identities');
  const blids = getJson<{ items: { metadata: { name: string }; securityLabels: string[] }[] }>(['get', 'beelineidentities.beeline.io']);
  const serverId = blids.items.find((i) => i.metadata.name === String(identityOf('server')));
  assert.ok(serverId, `BeelineIdentity ${identityOf('server')} exists`);
  assert.ok(serverId.securityLabels.includes('k8s:app=server'), `its labels: ${serverId.securityLabels.join(',')}`);
  const bleps = await until('the BeelineEndpoints of the three pods', () => {
    const l = getJson<{ items: { metadata: { name: string }; spec: { identity: number; ipv4: string; node: string } }[] }>(['get', 'beelineendpoints.beeline.io', '-n', 'default']);
    return l.items.length === 3 ? l.items : undefined;
  }, 20_000);
  t.diagnostic(`kubectl get beelineendpoints / beelineidentities:\n${kubectlOk(['get', 'beelineendpoints.beeline.io', '-n', 'default', '-o', 'custom-columns=NAME:.metadata.name,IDENTITY:.spec.identity,IPV4:.spec.ipv4,NODE:.spec.node'])}${kubectlOk(['get', 'beelineidentities.beeline.io', '-o', 'custom-columns=ID:.metadata.name,LABELS:.securityLabels'])}`);
  for (const e of bleps) {
    assert.equal(e.spec.ipv4, pods[e.metadata.name]!.ip, `BeelineEndpoint ${e.metadata.name}: address`);
    assert.equal(e.spec.identity, identityOf(e.metadata.name), `BeelineEndpoint ${e.metadata.name}: identity`);
    assert.equal(e.spec.node, 'node1');
  }

  // A server in the server pod; a Service and its EndpointSlice applied with kubectl.
  const server = startIn(pods.server!.ns, [beelineBin, 'serve', '--http', '8080', '--name', 'server']);
  procs.push(server);
  kubectlOk(['apply', '-f', '-'], [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: CLUSTER_IP, clusterIPs: [CLUSTER_IP], selector: { app: 'server' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: [pods.server!.ip], conditions: { ready: true }, nodeName: 'node1', targetRef: { kind: 'Pod', namespace: 'default', name: 'server' } }],
    },
  ].map((o) => JSON.stringify(o)).join('\n'));
  const probe = (from: string) => run('ip', ['netns', 'exec', pods[from]!.ns, beelineBin, 'probe', 'http', `${CLUSTER_IP}:80`, '--timeout', '1500'], { allowFailure: true });
  await until('the Service answers from the client pod', () => probe('client').code === 0, 30_000, 300);
  assert.equal(probe('other').code, 0, 'without a policy, every pod reaches the Service');
  const svc = run(beelineBin, ['service', 'list'], { allowFailure: true, env: { ...process.env, BEELINE_AGENT_SOCKET: config.socket!, BEELINE_NODE_NAME: 'node1', BEELINE_LAB: '' } });
  t.diagnostic(`beeline service list:\n${svc.stdout}`);
  assert.match(svc.stdout, new RegExp(`${esc(CLUSTER_IP)}:80/TCP\\s+ClusterIP\\s+default/web\\s+1 => ${esc(pods.server!.ip)}:8080`), `the Service is in the agent's table: ${svc.stdout}${svc.stderr}`);

  // A CiliumNetworkPolicy applied with kubectl: only the client may reach the server.
  kubectlOk(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'server-from-client', namespace: 'default' },
    spec: { endpointSelector: { matchLabels: { app: 'server' } }, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'client' } }], toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] }] },
  }));
  await until('the policy drops the other pod', () => probe('other').code !== 0, 30_000, 300);
  for (let i = 0; i < 3; i++) {
    assert.equal(probe('client').code, 0, 'the client still reaches the server through the Service');
    assert.notEqual(probe('other').code, 0, 'the other pod stays dropped');
  }
  // Where Cilium reports it: the policy's status per node.
  const cnpStatus = await until('the CNP status names node1', () => {
    const o = getJson<{ status?: { nodes?: Record<string, { enforcing?: boolean; ok?: boolean }> } }>(['get', 'ciliumnetworkpolicies.cilium.io', 'server-from-client', '-n', 'default']);
    return o.status?.nodes?.node1;
  }, 20_000);
  t.diagnostic(`probes after kubectl apply of the CNP: client → ${CLUSTER_IP}:80 connected, other → dropped; status.nodes.node1 = ${JSON.stringify(cnpStatus)}`);
  assert.equal(cnpStatus.ok, true);
  assert.equal(cnpStatus.enforcing, true);

  // The policy removed with kubectl: the other pod gets through again.
  kubectlOk(['delete', 'ciliumnetworkpolicies.cilium.io', 'server-from-client', '-n', 'default']);
  await until('the other pod reaches the server again', () => probe('other').code === 0, 30_000, 300);

  // The other pod goes (CNI DEL, then the Pod object): its BeelineEndpoint goes, and the operator
  // collects its identity after the grace period.
  const otherId = identityOf('other');
  const del = await runCni(NODE_NS, { CNI_COMMAND: 'DEL', CNI_CONTAINERID: pods.other!.containerID, CNI_NETNS: `/run/netns/${pods.other!.ns}`, CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=other', CNI_PATH: join(repoRoot, 'bin') }, conflist);
  assert.equal(del.code, 0, `CNI DEL: ${del.stderr}`);
  kubectlOk(['delete', 'pod', 'other', '-n', 'default']);
  await until('the BeelineEndpoint of the deleted pod goes', () => kubectl(['get', 'beelineendpoints.beeline.io', 'other', '-n', 'default']).code !== 0, 20_000);
  await until('the operator collects the unused identity', () => kubectl(['get', 'beelineidentities.beeline.io', String(otherId)]).code !== 0, 30_000);
  assert.equal(kubectl(['get', 'beelineidentities.beeline.io', String(identityOf('server'))]).code, 0, 'identities in use stay');

  await sleep(0);
  assert.equal(agent.child.exitCode, null, `the agent is still running: ${tail(agent)}`);
  assert.equal(operator.child.exitCode, null, `the operator is still running: ${tail(operator)}`);
});
