/**
 * RBAC covers exactly what the code asks of the API server: the rendered
 * ClusterRoles grant exactly src/deploy/rbac.ts's uses; the agent's store
 * consumers, run against a recording store, ask for nothing those uses do not
 * grant and every `store` use is asked for; each use names a resource the
 * kind registry or a rendered CRD serves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { MeshCa } from '../mesh/ca.js';
import { CertificateSigner, MeshCertificates } from '../mesh/certs.js';
import { join } from 'node:path';
import { PolicyManager } from '../agent/policy.js';
import { ServiceManager } from '../agent/services.js';
import { MeshRoutes } from '../agent/mesh.js';
import { NodeProxy } from '../agent/proxy.js';
import type { EndpointManager } from '../agent/endpoints.js';
import type { LbDatapath } from '../agent/datapath.js';
import type { PolicyDatapath } from '../datapath/policy.js';
import { repoRoot } from '../common/version.js';
import type { Logger } from '../common/log.js';
import { ALL_KINDS } from '../k8s/kinds.js';
import type { Informer, Store, StoreObject } from '../store/store.js';
import { KubernetesCluster } from '../agent/cluster.js';
import { PolicyStatusWriter } from '../agent/policy-status.js';
import type { AgentConfig } from '../agent/types.js';
import { openKubernetesStore } from '../store/kubernetes.js';
import { CrdIdentityAllocator, CrdIpcache } from '../identity/crd.js';
import { Operator } from '../operator/operator.js';
import { startKubeApi } from '../../test/lib/kube-api.js';
import { laggyStore } from '../../test/lib/laggy-store.js';
import { until } from '../../test/lib/wait.js';
import { findKubectl, findObject, renderKustomization, type K8sObject } from './manifests.js';
import { AGENT_API_USES, BEELINE_GROUP, BEELINE_VERSION, OPERATOR_API_USES, STORE_CALL_VERBS, grantSet, ruleGrantSet, type ApiUse, type PolicyRule } from './rbac.js';

const kubectl = findKubectl();
const SKIP = kubectl ? false : 'kubectl is not on PATH: the manifests cannot be rendered (install kubectl to run these)';
let cached: K8sObject[] | undefined;
const rendered = (): K8sObject[] => (cached ??= renderKustomization(kubectl!));

const sorted = (s: Set<string>) => [...s].sort();

test('the rendered ClusterRoles grant exactly the uses of src/deploy/rbac.ts, no wildcard, nothing namespaced', { skip: SKIP }, () => {
  for (const [name, uses] of [['beeline-agent', AGENT_API_USES], ['beeline-operator', OPERATOR_API_USES]] as const) {
    const role = findObject(rendered(), 'ClusterRole', name);
    assert.ok(role, `ClusterRole ${name}`);
    const rules = role.rules as PolicyRule[];
    assert.deepEqual(sorted(ruleGrantSet(rules)), sorted(grantSet(uses)), `${name}: rules and rbac.ts differ`);
    for (const r of rules) {
      assert.ok(!r.verbs.includes('*') && !r.resources.includes('*') && !r.apiGroups.includes('*'), `${name}: no wildcards`);
      assert.ok(!r.resources.includes('secrets'), `${name}: no secrets`);
    }
    const binding = findObject(rendered(), 'ClusterRoleBinding', name)!;
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
  }
  assert.ok(!rendered().some((o) => o.kind === 'Role' || o.kind === 'RoleBinding'));
});

test('ruleGrantSet keeps a wildcard, so the comparison fails on one', () => {
  assert.deepEqual(sorted(ruleGrantSet([{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }])), [' pods *']);
  assert.notDeepEqual(sorted(ruleGrantSet([{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }])), sorted(grantSet([{ group: '', resource: 'pods', verbs: ['get'], source: 'store', why: '' }])));
});

test('every use names a resource that is served: a registry kind (store rows), or a rendered beeline CRD with the subresource', { skip: SKIP }, () => {
  const crds = rendered().filter((o) => o.kind === 'CustomResourceDefinition');
  for (const u of [...AGENT_API_USES, ...OPERATOR_API_USES]) {
    const [resource, sub] = u.resource.split('/');
    if (u.group === BEELINE_GROUP) {
      const crd = crds.find((c) => c.metadata.name === `${resource}.${BEELINE_GROUP}`);
      assert.ok(crd, `${u.resource}: a rendered CRD`);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const v = (crd.spec as any).versions.find((x: { name: string }) => x.name === BEELINE_VERSION);
      assert.ok(v?.served, `${u.resource}: served at ${BEELINE_VERSION}`);
      if (sub) assert.ok(v.subresources?.[sub], `${u.resource}: the CRD has the ${sub} subresource`);
      continue;
    }
    const k = ALL_KINDS.find((x) => x.group === u.group && x.plural === resource);
    assert.ok(k, `${u.group || 'core'} ${resource}: a kind of src/k8s/kinds.ts`);
    // Of the kinds beeline does not own, only Cilium's policies' status (the CRD declares the subresource) and HTTPRoutes' (the Gateway API's CRD does).
    assert.ok(!sub || ((u.group === 'cilium.io' || u.resource === 'httproutes/status') && sub === 'status'), `${u.resource}: no subresource of a kind beeline does not own, but a Cilium policy's or an HTTPRoute's status`);
    if (u.group === 'cilium.io') {
      const crd = crds.find((c) => c.metadata.name === `${resource}.cilium.io`);
      assert.ok(crd, `${resource}: its CRD is rendered`);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      if (sub) assert.ok((crd.spec as any).versions.some((x: { subresources?: Record<string, unknown> }) => x.subresources?.[sub]), `${u.resource}: the CRD has the ${sub} subresource`);
    }
  }
});

// ---- what the code asks for ----

type Call = { method: string; kind: string };

/** A store that records every call (method, kind) and hands out informers that never deliver anything. */
function recordingStore(calls: Call[]): Store {
  const informer = (): Informer =>
    Object.assign(new EventEmitter(), {
      start: async () => {},
      stop: async () => {},
      hasSynced: () => true,
      waitForSync: async () => {},
      get: () => undefined,
      list: () => [],
      resourceVersion: () => '1',
    }) as unknown as Informer;
  return new Proxy({ mode: 'kubernetes' } as unknown as Store, {
    get(_target, prop) {
      if (prop === 'mode') return 'kubernetes';
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return (kind: unknown) => {
        const k = typeof kind === 'string' ? kind : isKindObject(kind) ? kind.kind : '?';
        calls.push({ method: prop, kind: k });
        if (prop === 'informer') return informer();
        if (prop === 'list') return Promise.resolve({ items: [], resourceVersion: '1' });
        return Promise.resolve(undefined);
      };
    },
  });
}
const isKindObject = (v: unknown): v is { kind: string } => typeof v === 'object' && v !== null && typeof (v as { kind?: unknown }).kind === 'string';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } } as unknown as Logger;

/** Runs the agent's store consumers against a recording store; returns the calls. */
async function agentCalls(): Promise<Call[]> {
  const calls: Call[] = [];
  const store = recordingStore(calls);
  const dp = new Proxy({} as PolicyDatapath, { get: (_t, p) => (p === 'entries' ? () => [] : () => 0) });
  const endpoints = { list: () => [], get: () => undefined, onChange: () => () => undefined } as unknown as EndpointManager;
  const pm = new PolicyManager(
    { store, datapath: dp, endpoints, identities: () => [], onIdentityChange: () => () => undefined, identityOfIP: () => 2, cidrIdentitiesChanged: () => undefined, log: quiet },
    { enforcement: 'default', audit: false, allowLocalhost: true, policyMapMax: 16384 },
  );
  const lb: LbDatapath = { apply: () => undefined, capacity: () => ({ serviceEntries: 1024, backendEntries: 1024 }), frontends: () => [], backends: () => [], knownFrontends: () => [] };
  const sm = new ServiceManager(store, lb, { nodeName: 'n', nodeIPs: ['192.168.0.1'] }, quiet);
  const proxy = new NodeProxy({ stateDir: '/nonexistent', masterSocket: '/nonexistent/m.sock', ingressPort: 15001, accessLogPort: 4245, meshPort: 15003 }, quiet);
  const mesh = new MeshRoutes({ store, proxy, services: () => undefined, log: quiet });
  await pm.start();
  await sm.start();
  await mesh.start();
  await pm.stop();
  await sm.stop();
  await mesh.stop();
  return calls;
}

/** A store that passes every call to `store` and records it (method, kind). */
function recordingProxy(store: Store, calls: Call[]): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string' || prop === 'close') return typeof v === 'function' ? v.bind(target) : v;
      return (...args: unknown[]) => {
        const kind = args[0];
        calls.push({ method: prop, kind: typeof kind === 'string' ? kind : isKindObject(kind) ? kind.kind : '?' });
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/**
 * Kubernetes mode's identity allocator and ipcache (src/identity/crd.ts, the
 * agent's in that mode) against the API test double, recorded: every path
 * that calls the API (a create, a create that meets a 409, an update of an
 * existing endpoint, a delete).
 */
async function crdAgentCalls(): Promise<Call[]> {
  const calls: Call[] = [];
  const api = await startKubeApi({ bookmarkMs: 100 });
  const store = openKubernetesStore({ kubeconfig: api.kubeconfig });
  try {
    // The allocator's cache lags a second, so the identity seeded below is met at a 409 (then read).
    const alloc = new CrdIdentityAllocator(laggyStore(recordingProxy(store, calls), 1000), { node: 'node1', log: quiet });
    await alloc.start();
    api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: '256' }, securityLabels: ['k8s:app=other'] });
    assert.equal((await alloc.acquire(['k8s:app=web'])).id, 257);
    const ipcache = new CrdIpcache(recordingProxy(store, calls), { node: 'node1', log: quiet });
    await ipcache.start();
    const pod = { namespace: 'default', name: 'web' };
    await ipcache.upsert({ prefix: '10.0.0.5', identity: 257, hostIP: '172.18.0.11', pod });
    await ipcache.upsert({ prefix: '10.0.0.5', identity: 258, hostIP: '172.18.0.11', pod });
    assert.equal(await ipcache.delete('10.0.0.5'), true);
    await ipcache.stop();
    await alloc.stop();
  } finally {
    await store.close();
    await api.close();
  }
  return calls;
}

/**
 * The agent's cluster backend in Kubernetes mode (src/agent/cluster.ts) and
 * its policy status writer (src/agent/policy-status.ts) against the API test
 * double, recorded: the health check, the pod CIDR in both IPAM modes, the
 * node announced (created, then updated), the node watch, a status entry
 * written through a conflict.
 */
async function clusterCalls(): Promise<Call[]> {
  const calls: Call[] = [];
  const api = await startKubeApi({ bookmarkMs: 100 });
  const store = openKubernetesStore({ kubeconfig: api.kubeconfig });
  try {
    api.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1' }, spec: { podCIDR: '10.0.1.0/24' } });
    api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineNode', metadata: { name: 'node2' }, spec: { ipam: { podCIDRs: ['10.0.2.0/24'] } } });
    const rec = recordingProxy(store, calls);
    const config = { node: 'node1', nodeIP: '172.18.0.11' } as AgentConfig;
    const k8s = new KubernetesCluster(config, rec, api.url, quiet);
    await k8s.check();
    assert.equal(await k8s.claimPodCIDR(), '10.0.1.0/24');
    assert.equal(await new KubernetesCluster({ ...config, node: 'node2', ipam: 'cluster-pool' }, rec, api.url, quiet).claimPodCIDR(), '10.0.2.0/24');
    await k8s.announce({ name: 'node1', nodeIP: '172.18.0.11', podCIDR: '10.0.1.0/24' });
    await k8s.announce({ name: 'node1', nodeIP: '172.18.0.12', podCIDR: '10.0.1.0/24' });
    const seen: string[] = [];
    const w = k8s.watchNodes((name) => seen.push(name), quiet);
    await w.start();
    w.stop();
    assert.ok(seen.includes('node2'), 'the node watch saw node2');
    const cnp = api.seed({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'p', namespace: 'default' }, spec: { endpointSelector: {} } }) as StoreObject;
    // Written by another node meanwhile: the write conflicts, the policy is read again.
    api.seed({ apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name: 'c' }, spec: { endpointSelector: {} } });
    await store.updateStatus({ ...cnp, status: { nodes: { node9: { ok: true } } } });
    const writer = new PolicyStatusWriter(rec, 'node1', quiet);
    writer.report(cnp, { ok: true, enforcing: true });
    await until('the status entry', () => (api.get('ciliumnetworkpolicies', 'default', 'p')?.status as { nodes?: Record<string, unknown> } | undefined)?.nodes?.node1, 10_000, 20);
    const ccnp = (await store.get('CiliumClusterwideNetworkPolicy', undefined, 'c'))!;
    await store.updateStatus({ ...ccnp, status: { nodes: { node9: { ok: true } } } });
    writer.report(ccnp, { ok: false, enforcing: false, error: 'x' });
    await until('the clusterwide entry', () => (api.get('ciliumclusterwidenetworkpolicies', undefined, 'c')?.status as { nodes?: Record<string, unknown> } | undefined)?.nodes?.node1, 10_000, 20);
    writer.stop();
  } finally {
    await store.close();
    await api.close();
  }
  return calls;
}

/** The operator in Kubernetes mode against the API test double, recorded: IPAM, node garbage and identity GC all act once. */
async function operatorCalls(): Promise<Call[]> {
  const calls: Call[] = [];
  const caKey = join(tmpdir(), `bl-rbac-ca-${process.pid}.key`);
  const api = await startKubeApi({ bookmarkMs: 100 });
  const store = openKubernetesStore({ kubeconfig: api.kubeconfig });
  try {
    api.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1' } });
    api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineNode', metadata: { name: 'node1' }, spec: {} });
    api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineNode', metadata: { name: 'gone' }, spec: {} });
    api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineEndpoint', metadata: { name: 'a', namespace: 'default' }, spec: { identity: 300, ipv4: '10.0.0.5', node: 'gone', hostIP: '172.18.0.12' } });
    api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: '256' }, securityLabels: ['k8s:app=web'] });
    api.seed({ apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineCertificateRequest', metadata: { name: 'node1.default.web' }, spec: { nodeName: 'node1', namespace: 'default', serviceAccount: 'web', publicKey: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString() } });
    writeFileSync(caKey, randomBytes(32), { mode: 0o600 });
    const op = new Operator(
      { k8sKubeconfig: api.kubeconfig, identityGcGraceMs: 0, identityGcIntervalMs: 20, clusterPoolCIDR: '10.0.0.0/16', clusterPoolMaskSize: 24, meshCaKeyFile: caKey },
      { store: recordingProxy(store, calls), log: quiet },
    );
    api.seed({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80, protocol: 'TCP' }] } });
    api.seed({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'default' }, spec: { parentRefs: [{ group: '', kind: 'Service', name: 'web' }], rules: [{ backendRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }] }] } });
    await op.start();
    await until('the operator to act', () => api.get('beelinenodes', undefined, 'node1')?.spec?.ipam && !api.get('beelinenodes', undefined, 'gone') && !api.get('beelineendpoints', 'default', 'a') && !api.get('beelineidentities', undefined, '256') && (api.get('httproutes', 'default', 'r')?.status as { parents?: unknown[] } | undefined)?.parents?.length && api.get('beelinecertificaterequests', undefined, 'node1.default.web')?.status?.certificate, 10_000, 20);
    await op.stop();
  } finally {
    await store.close();
    await api.close();
    rmSync(caKey, { force: true });
  }
  return calls;
}

/** The agent's mesh certificates against a signing operator: request, answer, renewal, deletion. */
async function meshAgentCalls(): Promise<Call[]> {
  const calls: Call[] = [];
  const api = await startKubeApi({ bookmarkMs: 100 });
  const store = openKubernetesStore({ kubeconfig: api.kubeconfig });
  const dir = mkdtempSync(join(tmpdir(), 'bl-rbac-mesh-'));
  try {
    writeFileSync(join(dir, 'ca.key'), randomBytes(32), { mode: 0o600 });
    const signer = new CertificateSigner(store, await MeshCa.open({ store, keyFile: join(dir, 'ca.key') }), quiet);
    await signer.start();
    const m = new MeshCertificates({ store: recordingProxy(store, calls), nodeName: 'node1', dir: join(dir, 'certs'), log: quiet, install: async () => {}, changed: () => {} });
    await m.start();
    await m.setServiceAccounts(['default/web']);
    await until('the leaf', () => m.certificates().length === 1, 10_000, 20);
    await m.setServiceAccounts([]);
    await m.stop();
    await signer.stop();
  } finally {
    await store.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return calls;
}

/**
 * Direct store calls with a literal kind in the agent's sources (`store.get('Pod', …)`):
 * the calls the managers above do not make (an endpoint's identity source, src/agent/agent.ts).
 */
function literalStoreCalls(): Call[] {
  const dir = join(repoRoot, 'src', 'agent');
  const out: Call[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/\bstore\.(\w+)\('(\w+)'/g)) out.push({ method: m[1]!, kind: m[2]! });
  }
  return out;
}

/** The `group resource verb` grants a list of store calls needs. */
function neededGrants(calls: Call[]): Set<string> {
  const out = new Set<string>();
  for (const c of calls) {
    const verbs = STORE_CALL_VERBS[c.method];
    assert.ok(verbs, `store call ${c.method} has its RBAC verbs in STORE_CALL_VERBS`);
    const k = ALL_KINDS.find((x) => x.kind === c.kind);
    assert.ok(k, `store call ${c.method}(${c.kind}): a kind of the registry`);
    // updateStatus writes the status subresource, which RBAC names apart.
    const resource = c.method === 'updateStatus' ? `${k.plural}/status` : k.plural;
    for (const v of verbs) out.add(`${k.group} ${resource} ${v}`);
  }
  return out;
}

test("the agent's store calls are exactly its `store` uses in rbac.ts", async () => {
  const recorded = await agentCalls();
  assert.ok(recorded.some((c) => c.method === 'informer' && c.kind === 'CiliumNetworkPolicy'), 'the policy manager watches CNPs (the recorder works)');
  const literal = literalStoreCalls();
  assert.ok(literal.some((c) => c.method === 'get' && c.kind === 'Pod'), "the agent reads an endpoint's pod (the scan works)");
  const crd = await crdAgentCalls();
  assert.ok(crd.some((c) => c.method === 'get' && c.kind === 'BeelineIdentity'), 'the allocator met a 409 and read the identity (the race is exercised)');
  const cluster = await clusterCalls();
  assert.ok(cluster.some((c) => c.method === 'updateStatus' && c.kind === 'CiliumNetworkPolicy'), 'the status writer wrote (the recorder works)');
  assert.ok(cluster.some((c) => c.method === 'get' && c.kind === 'CiliumNetworkPolicy'), 'the status writer met a conflict and read the policy again');
  const mesh = await meshAgentCalls();
  assert.ok(mesh.some((c) => c.method === 'delete' && c.kind === 'BeelineCertificateRequest'), 'the mesh certificates dropped a request (the recorder works)');
  // The update of a request (a renewal's new key) is not reached in this short run; it is a use all the same.
  const needed = neededGrants([...recorded, ...literal, ...crd, ...cluster, ...mesh, { method: 'update', kind: 'BeelineCertificateRequest' }]);
  const storeUses = AGENT_API_USES.filter((u: ApiUse) => u.source === 'store');
  assert.deepEqual(sorted(grantSet(storeUses)), sorted(needed), 'rbac.ts store rows and what the code calls differ');
});

test("the agent writes nothing Kubernetes or Cilium owns but its entries in Cilium policies' status; the operator nothing outside beeline.io but HTTPRoutes' status and the mesh CA's ConfigMap", () => {
  const writes = new Set(['create', 'update', 'patch', 'delete']);
  const ciliumStatus = new Set(['ciliumnetworkpolicies/status', 'ciliumclusterwidenetworkpolicies/status']);
  for (const u of AGENT_API_USES) {
    if (u.group === BEELINE_GROUP) continue;
    if (u.group === 'cilium.io' && ciliumStatus.has(u.resource)) assert.deepEqual(u.verbs, ['update'], `${u.resource}: update only`);
    else assert.ok(!u.verbs.some((v) => writes.has(v)), `${u.group || 'core'}/${u.resource}: read-only`);
  }
  for (const u of OPERATOR_API_USES) {
    if (u.group === BEELINE_GROUP) continue;
    if (u.resource === 'httproutes/status') assert.deepEqual(u.verbs, ['update'], `${u.resource}: update only`);
    // The mesh CA's own ConfigMap (create-only, src/mesh/ca.ts): the one other write outside beeline.io.
    else if (u.group === '' && u.resource === 'configmaps') assert.deepEqual(u.verbs, ['get', 'create'], 'configmaps: get and create only (the CA is never overwritten)');
    else assert.ok(!u.verbs.some((v) => writes.has(v)), `${u.group || 'core'}/${u.resource}: read-only`);
  }
});

test("the operator's store calls (Kubernetes mode) are exactly its `store` uses in rbac.ts, and it has no other", async () => {
  const recorded = await operatorCalls();
  assert.ok(recorded.some((c) => c.method === 'update' && c.kind === 'BeelineNode'), 'IPAM wrote a pod CIDR (the recorder works)');
  assert.deepEqual(OPERATOR_API_USES.filter((u) => u.source !== 'store'), []);
  assert.deepEqual(sorted(grantSet(OPERATOR_API_USES)), sorted(neededGrants(recorded)), 'rbac.ts operator rows and what the operator calls differ');
});
