import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentFlowEnricher, decidingPolicy, type FlowSources, type PodRef } from './flows.js';
import type { EndpointModel } from './types.js';
import { RESERVED_IDENTITIES, type Identity } from '../identity/reserved.js';
import { canonicalLabels, parseLabel } from '../identity/labels.js';

const ident = (id: number, ...labels: string[]): Identity => ({ id, labels: canonicalLabels(labels.map((l) => parseLabel(l))) });

function sources(over: Partial<FlowSources> = {}) {
  const calls = { podByIP: 0, identities: 0 };
  let epVersion = 1;
  const endpoints: EndpointModel[] = [
    { id: 12, containerID: 'c', ifname: 'eth0', netns: '', hostIfname: '', hostIfindex: 0, ipv4: '10.0.1.5', mac: '', hostMac: '', pod: { namespace: 'shop', name: 'web-abc' }, labels: {}, identity: 300, state: 'ready', createdAt: '' } as EndpointModel,
  ];
  const pods: Record<string, PodRef> = {
    '10.0.1.5': { namespace: 'shop', name: 'web-abc', workload: { name: 'web', kind: 'Deployment' } },
    '10.0.2.7': { namespace: 'shop', name: 'db-0' },
  };
  const src: FlowSources = {
    nodeName: 'node1',
    endpoints: () => endpoints,
    endpointsVersion: () => epVersion,
    identities: () => {
      calls.identities++;
      return [...RESERVED_IDENTITIES, ident(300, 'k8s:app=web', 'k8s:io.kubernetes.pod.namespace=shop'), ident(301, 'k8s:app=db')];
    },
    identitiesVersion: () => 1,
    identityOfIP: (ip) => (ip === '10.0.2.7' ? 301 : ip === '10.0.1.5' ? 300 : 2),
    podByIP: (ip) => {
      calls.podByIP++;
      return pods[ip];
    },
    frontends: () => [{ frontend: '10.96.0.10:53/UDP', service: 'kube-system/kube-dns' }],
    frontendsVersion: () => 1,
    cookieOrigins: (c) => (c === 7 ? [{ kind: 'CiliumNetworkPolicy', namespace: 'shop', name: 'allow-web' }] : []),
    defaultDenyOrigins: (id, dir) => (id === 12 && dir === 'ingress' ? [{ kind: 'NetworkPolicy', namespace: 'shop', name: 'deny-all' }] : []),
    ...over,
  };
  return { src, calls, bump: () => epVersion++ };
}

test('local endpoints by id and address, with labels, pod and workload', () => {
  const { src } = sources();
  const e = new AgentFlowEnricher(src);
  const byId = e.endpointById(12)!;
  assert.deepEqual(byId, { id: 12, identity: 300, labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=shop'], namespace: 'shop', podName: 'web-abc', workloads: [{ name: 'web', kind: 'Deployment' }] });
  assert.equal(e.endpointByIP('10.0.1.5'), byId);
  assert.equal(e.endpointById(99), undefined);
});

test("a local endpoint created before its pod had an address gets its pod's workload once pods change", () => {
  let podsVersion = 1;
  let known = false;
  const { src } = sources({
    podByIP: (ip) => (known && ip === '10.0.1.5' ? { namespace: 'shop', name: 'web-abc', workload: { name: 'web', kind: 'Deployment' } } : undefined),
    podsVersion: () => podsVersion,
  });
  const e = new AgentFlowEnricher(src);
  assert.equal(e.endpointById(12)!.workloads, undefined, 'CNI ADD: no pod address yet');
  known = true;
  assert.equal(e.endpointById(12)!.workloads, undefined, 'cached until pods change');
  podsVersion++;
  assert.deepEqual(e.endpointById(12)!.workloads, [{ name: 'web', kind: 'Deployment' }]);
  assert.deepEqual(e.endpointByIP('10.0.1.5')!.workloads, [{ name: 'web', kind: 'Deployment' }]);
});

test("a local endpoint's pod by its name: the workload from the first flow, before the pod has an address", () => {
  const { src } = sources({
    podByIP: () => undefined,
    podByName: (ns, name) => (ns === 'shop' && name === 'web-abc' ? { namespace: 'shop', name: 'web-abc', workload: { name: 'web', kind: 'Deployment' } } : undefined),
  });
  assert.deepEqual(new AgentFlowEnricher(src).endpointById(12)!.workloads, [{ name: 'web', kind: 'Deployment' }]);
});

test('remote pods and the outside world through the ipcache; pods cached, lookups not repeated', () => {
  const { src, calls } = sources();
  const e = new AgentFlowEnricher(src);
  const db = e.endpointByIP('10.0.2.7')!;
  assert.deepEqual(db, { identity: 301, labels: ['k8s:app=db'], namespace: 'shop', podName: 'db-0' });
  const before = calls.podByIP;
  e.endpointByIP('10.0.2.7');
  assert.equal(calls.podByIP, before, 'a known pod is not looked up again');
  assert.deepEqual(e.endpointByIP('1.1.1.1'), { identity: 2, labels: ['reserved:world'] });
});

test('an address of a node-local CIDR identity (a toCIDR prefix, a learned toFQDNs address) carries its cidr and world labels, as on Hubble\'s flows', () => {
  const { src } = sources({
    identityOfIP: (ip) => (ip === '172.18.0.203' ? 16777217 : 2),
    localIdentityLabels: (id) => (id === 16777217 ? ['cidr:172.18.0.203/32', 'reserved:world'] : undefined),
  });
  const e = new AgentFlowEnricher(src);
  assert.deepEqual(e.endpointByIP('172.18.0.203'), { identity: 16777217, labels: ['cidr:172.18.0.203/32', 'reserved:world'] });
  assert.deepEqual(e.identityLabels(16777217), ['cidr:172.18.0.203/32', 'reserved:world']);
  assert.equal(e.identityLabels(16777218), undefined, 'an identity nobody allocated has none');
});

test('identity labels are rebuilt only when identities change', () => {
  const { src, calls } = sources();
  const e = new AgentFlowEnricher(src);
  e.identityLabels(300);
  e.identityLabels(301);
  e.endpointById(12);
  assert.equal(calls.identities, 1);
  assert.deepEqual(e.identityLabels(1), ['reserved:host']);
});

test('an endpoint change is seen at the next lookup', () => {
  const s = sources();
  const e = new AgentFlowEnricher(s.src);
  assert.ok(e.endpointById(12));
  const list = s.src.endpoints() as EndpointModel[];
  list.push({ ...list[0]!, id: 13, ipv4: '10.0.1.6', pod: { namespace: 'shop', name: 'web-def' } });
  assert.equal(e.endpointById(13), undefined, 'same version: the cache still answers');
  s.bump();
  assert.equal(e.endpointById(13)?.podName, 'web-def');
});

test('services by frontend, policies by cookie and default deny, with derived-from labels', () => {
  const { src } = sources();
  const e = new AgentFlowEnricher(src);
  assert.deepEqual(e.serviceByFrontend('10.96.0.10', 53, 'udp'), { namespace: 'kube-system', name: 'kube-dns' });
  assert.equal(e.serviceByFrontend('10.96.0.10', 53, 'tcp'), undefined);
  assert.deepEqual(e.policiesByCookie(7), [{ name: 'allow-web', namespace: 'shop', kind: 'CiliumNetworkPolicy', labels: ['k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy', 'k8s:io.cilium.k8s.policy.name=allow-web', 'k8s:io.cilium.k8s.policy.namespace=shop'] }]);
  assert.deepEqual(e.policiesByCookie(0), []);
  assert.deepEqual(e.defaultDenyPolicies(12, 'ingress').map((p) => p.name), ['deny-all']);
  assert.deepEqual(e.defaultDenyPolicies(12, 'egress'), []);
  assert.deepEqual(decidingPolicy({ kind: 'Builtin', name: 'allow-localhost' }).labels, ['reserved:allow-localhost']);
});

test('cgroups: a process cgroup maps to its pod by the kubelet\'s pod<uid> directories (cgroupfs and systemd names)', async () => {
  const { mkdtempSync, mkdirSync, statSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { scanPodCgroups } = await import('./flows.js');
  const root = mkdtempSync(join(tmpdir(), 'bl-cg-'));
  try {
    const a = join(root, 'kubepods', 'pod1b4e28ba-2fa1-41d2-883f-0016d3cca427', 'web');
    const b = join(root, 'kubepods.slice', 'kubepods-burstable.slice', 'kubepods-burstable-pod0a5a8c3e_2f1b_4c6d_9e7f_112233445566.slice', 'cri-containerd-abc.scope');
    const other = join(root, 'agent');
    for (const d of [a, b, other]) mkdirSync(d, { recursive: true });
    const m = scanPodCgroups(root);
    assert.equal(m.get(String(statSync(a, { bigint: true }).ino)), '1b4e28ba-2fa1-41d2-883f-0016d3cca427');
    assert.equal(m.get(String(statSync(b, { bigint: true }).ino)), '0a5a8c3e-2f1b-4c6d-9e7f-112233445566');
    assert.equal(m.get(String(statSync(other, { bigint: true }).ino)), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('SOCK flows: a cgroup\'s pod to its local endpoint through the pod index, rebuilt when the endpoints change', async () => {
  const { mkdtempSync, mkdirSync, statSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const root = mkdtempSync(join(tmpdir(), 'bl-cg-'));
  try {
    const uid = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
    const container = join(root, 'kubepods', `pod${uid}`, 'web');
    mkdirSync(container, { recursive: true });
    const cgroup = String(statSync(container, { bigint: true }).ino);
    const s = sources();
    const list = s.src.endpoints() as EndpointModel[];
    let listed = 0;
    s.src.endpoints = () => {
      listed++;
      return list;
    };
    s.src.podCgroupRoot = root;
    s.src.podByUID = (u) => (u === uid ? { namespace: 'shop', name: 'web-abc' } : undefined);
    const e = new AgentFlowEnricher(s.src);

    const first = e.endpointByCgroup(cgroup)!;
    assert.equal(first.ip, '10.0.1.5');
    assert.equal(first.info.id, 12);
    assert.equal(first.info.podName, 'web-abc');
    assert.equal(e.endpointByCgroup(cgroup), first);
    assert.equal(listed, 1, 'lookups read the index; the endpoint list is read once per version, not per flow');
    assert.equal(e.endpointByCgroup('999999999'), undefined, 'a cgroup of no pod: no endpoint');

    // The pod's endpoint is replaced (the pod's sandbox recreated: new id, new address).
    list.splice(0, 1, { ...list[0]!, id: 14, ipv4: '10.0.1.9' });
    assert.equal(e.endpointByCgroup(cgroup)?.info.id, 12, 'same version: the index still answers');
    s.bump();
    const after = e.endpointByCgroup(cgroup)!;
    assert.equal(after.info.id, 14);
    assert.equal(after.ip, '10.0.1.9');
    assert.equal(listed, 2);

    // The pod's endpoint is gone.
    list.splice(0, 1);
    s.bump();
    assert.equal(e.endpointByCgroup(cgroup), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
