/**
 * deploy/kubernetes renders with `kubectl kustomize`, holds what an install
 * needs, passes the offline checks (src/deploy/manifests.ts), and agrees with
 * the code it deploys: the CRDs with the kind registry, the ConfigMap with
 * AgentConfig, the CNI install with the conflist and the image layout; Cilium
 * policies (examples/, docs/) pass our CRDs' schemas.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfig } from '../agent/types.js';
import { repoRoot } from '../common/version.js';
import { CONFLIST_FILE, PLUGIN_TYPE } from '../cni/conflist.js';
import { DEFAULT_AGENT_SOCKET } from '../cni/types.js';
import { ALL_KINDS } from '../k8s/kinds.js';
import { parseManifest } from '../k8s/parse.js';
import { validateObject } from '../k8s/validate.js';
import { checkObjects, findKubectl, findObject, renderKustomization, structuralProblems, validateAgainstSchema, validateCustomObject, type K8sObject } from './manifests.js';

const kubectl = findKubectl();
const SKIP = kubectl ? false : 'kubectl is not on PATH: the manifests cannot be rendered (install kubectl to run these)';
let cached: K8sObject[] | undefined;
const rendered = (): K8sObject[] => (cached ??= renderKustomization(kubectl!));
const clone = <T>(v: T): T => structuredClone(v);

/** The rendered object, which must exist. */
function must(kind: string, name: string): K8sObject {
  const o = findObject(rendered(), kind, name);
  assert.ok(o, `${kind}/${name} is rendered`);
  return o;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const podSpec = (o: K8sObject): any => (o.spec as any).template.spec;

test('kubectl kustomize renders the agent, the operator, RBAC, CRDs and config, all in kube-system', { skip: SKIP }, () => {
  const objs = rendered();
  const names = objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  assert.deepEqual(names, [
    'ClusterRole/beeline-agent',
    'ClusterRole/beeline-operator',
    'ClusterRoleBinding/beeline-agent',
    'ClusterRoleBinding/beeline-operator',
    'ConfigMap/beeline-config',
    'CustomResourceDefinition/beelinecertificaterequests.beeline.io',
    'CustomResourceDefinition/beelineendpoints.beeline.io',
    'CustomResourceDefinition/beelineidentities.beeline.io',
    'CustomResourceDefinition/beelinenodes.beeline.io',
    'CustomResourceDefinition/ciliumcidrgroups.cilium.io',
    'CustomResourceDefinition/ciliumclusterwidenetworkpolicies.cilium.io',
    'CustomResourceDefinition/ciliumnetworkpolicies.cilium.io',
    'DaemonSet/beeline-agent',
    'Deployment/beeline-operator',
    'ServiceAccount/beeline-agent',
    'ServiceAccount/beeline-operator',
  ]);
  for (const o of objs) if (o.metadata.namespace !== undefined) assert.equal(o.metadata.namespace, 'kube-system', `${o.kind}/${o.metadata.name}`);
  for (const o of objs) assert.equal((o.metadata.labels as Record<string, string> | undefined)?.['app.kubernetes.io/part-of'], 'beeline', `${o.kind}/${o.metadata.name} is labelled part-of=beeline (uninstall selects on it)`);
});

test('every rendered object passes the structural checks', { skip: SKIP }, () => {
  assert.deepEqual(checkObjects(rendered()), []);
});

test('the structural checks catch broken references, unknown fields and wrong types', { skip: SKIP }, () => {
  const objs = clone(rendered());
  const ds = objs.find((o) => o.kind === 'DaemonSet')!;
  podSpec(ds).containers[0].volumeMounts[0].name = 'bpf-typo';
  const op = objs.find((o) => o.kind === 'Deployment')!;
  podSpec(op).containers[0].env.find((e: { valueFrom?: { configMapKeyRef?: unknown } }) => e.valueFrom?.configMapKeyRef).valueFrom.configMapKeyRef.key = 'no-such-key';
  (ds.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels['app.kubernetes.io/name'] = 'other';
  const crb = objs.find((o) => o.kind === 'ClusterRoleBinding')!;
  (crb.subjects as { namespace: string }[])[0]!.namespace = 'default';
  const crd = objs.find((o) => o.kind === 'CustomResourceDefinition')!;
  crd.metadata.namespace = 'kube-system';
  // Misspelt and mistyped fields, as kubectl's strict validation would refuse them.
  podSpec(ds).toleration = podSpec(ds).tolerations;
  podSpec(ds).hostNetwork = 'true';
  podSpec(ds).containers[0].securityContext.capabilities.add.push(7);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (crd.spec as any).versions[0].schema.openAPIV3Schema['x-kubernetes-preserve-unknown-field'] = true;
  const problems = checkObjects(objs).join('\n');
  assert.match(problems, /DaemonSet\/beeline-agent: spec.template.spec.toleration: unknown field/);
  assert.match(problems, /spec.template.spec.hostNetwork: must be a boolean/);
  assert.match(problems, /spec.template.spec.containers\[0\].securityContext.capabilities.add\[\d+\]: must be a string/);
  assert.match(problems, /spec.versions\[0\].schema.openAPIV3Schema.x-kubernetes-preserve-unknown-field: unknown field/);
  assert.match(problems, /DaemonSet\/beeline-agent: container agent: volumeMount bpf-typo names no volume/);
  assert.match(problems, /Deployment\/beeline-operator: container operator: env \w+: ConfigMap beeline-config has no key no-such-key/);
  assert.match(problems, /matchLabels app.kubernetes.io\/name=other does not match/);
  assert.match(problems, /subject ServiceAccount default\/beeline-\w+ is not rendered/);
  assert.match(problems, /CustomResourceDefinition\/\S+: cluster-scoped, yet has namespace/);
});

test("the Cilium CRDs match the kind registry and Cilium's names: group, version, plural, scope, short names, status", { skip: SKIP }, () => {
  for (const kind of ['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy', 'CiliumCIDRGroup']) {
    const k = ALL_KINDS.find((x) => x.kind === kind)!;
    const crd = must('CustomResourceDefinition', `${k.plural}.${k.group}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const spec = crd.spec as any;
    assert.equal(spec.group, k.group);
    assert.equal(spec.names.kind, k.kind);
    assert.equal(spec.names.plural, k.plural);
    assert.equal(spec.names.singular, k.singular);
    assert.equal(spec.scope, k.namespaced ? 'Namespaced' : 'Cluster');
    assert.deepEqual(spec.names.shortNames, k.shortNames, `${kind}: the short names kubectl users type`);
    const storage = spec.versions.find((v: { storage: boolean }) => v.storage);
    assert.equal(`${spec.group}/${storage.name}`, k.apiVersion);
    for (const also of k.alsoServedAs ?? []) assert.ok(spec.versions.some((v: { name: string; served: boolean }) => `${spec.group}/${v.name}` === also && v.served), `${kind} is also served as ${also}`);
  }
  for (const name of ['ciliumnetworkpolicies.cilium.io', 'ciliumclusterwidenetworkpolicies.cilium.io']) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const v = (must('CustomResourceDefinition', name).spec as any).versions[0];
    assert.deepEqual(v.subresources, { status: {} }, `${name} has the status subresource`);
    assert.deepEqual(Object.keys(v.schema.openAPIV3Schema.properties).sort(), ['apiVersion', 'kind', 'metadata', 'spec', 'specs', 'status']);
    assert.deepEqual((must('CustomResourceDefinition', name).spec as { names: { categories: string[] } }).names.categories, ['cilium', 'ciliumpolicy']);
  }
});

/** Every CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and CiliumCIDRGroup in examples/, docs/ YAML blocks and the test suites' YAML. */
function ciliumPolicies(): { where: string; object: Record<string, unknown> }[] {
  const kinds = new Set(['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy', 'CiliumCIDRGroup']);
  const out: { where: string; object: Record<string, unknown> }[] = [];
  const take = (text: string, where: string) => {
    let docs;
    try {
      docs = parseManifest(text, where);
    } catch {
      return; // a fragment, not a manifest
    }
    for (const d of docs) if (kinds.has(String(d.object.kind))) out.push({ where: `${where}#${d.source.document}`, object: d.object });
  };
  for (const f of readdirSync(join(repoRoot, 'examples')).filter((f) => f.endsWith('.yaml'))) take(readFileSync(join(repoRoot, 'examples', f), 'utf8'), `examples/${f}`);
  for (const f of readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md'))) {
    const md = readFileSync(join(repoRoot, 'docs', f), 'utf8');
    let i = 0;
    for (const m of md.matchAll(/```ya?ml\n([\s\S]*?)```/g)) take(m[1]!, `docs/${f} block ${++i}`);
  }
  // Policies the test suites apply, written as YAML in template literals (those without interpolation).
  const suites = ['test/privileged', 'bench'].flatMap((d) => tsFiles(join(repoRoot, d)));
  for (const f of [...suites, ...tsFiles(join(repoRoot, 'src')).filter((f) => f.endsWith('.test.ts'))]) {
    const text = readFileSync(f, 'utf8');
    let i = 0;
    for (const m of text.matchAll(/`([^`]*)`/g)) {
      const t = m[1]!;
      i++;
      if (t.includes('${') || !/kind: Cilium(Clusterwide)?NetworkPolicy/.test(t)) continue;
      take(t.replace(/\\`/g, '`'), `${f.slice(repoRoot.length + 1)} literal ${i}`);
    }
  }
  return out;
}

/** The .ts files under dir, recursively. */
function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
}

test("every Cilium policy beeline's validator accepts (examples/, docs/, the test suites' YAML) passes the CRDs' schemas: the API server is never stricter than beeline", { skip: SKIP }, (t: TestContext) => {
  const crds = rendered().filter((o) => o.kind === 'CustomResourceDefinition');
  const policies = ciliumPolicies();
  const accepted = policies.filter((p) => validateObject(p.object).errors.length === 0);
  // The ones meant to be applied must be among them (else they would be skipped silently).
  for (const p of policies) if (!p.where.startsWith('src/')) assert.deepEqual(validateObject(p.object).errors, [], `${p.where} is a valid policy`);
  assert.ok(accepted.length >= 12, `found ${accepted.length} policies to check`);
  t.diagnostic(`${accepted.length} of ${policies.length} policies found are valid and checked`);
  const problems = accepted.flatMap((p) => validateCustomObject(p.object, crds).map((e) => `${p.where}: ${e}`));
  assert.deepEqual(problems, []);
});

test('the CRD schemas refuse what the API server would: no selector, both selectors, no rule section, unknown top-level field, a namespace on a cluster-wide policy', { skip: SKIP }, () => {
  const crds = rendered().filter((o) => o.kind === 'CustomResourceDefinition');
  const cnp = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'p', namespace: 'default' }, spec, ...extra });
  const ok = { endpointSelector: { matchLabels: { app: 'web' } }, ingress: [{ fromEndpoints: [{}] }] };
  assert.deepEqual(validateCustomObject(cnp(ok), crds), []);
  assert.match(validateCustomObject(cnp({ ingress: [{}] }), crds).join('\n'), /spec: must match exactly one of oneOf .* matches 0/);
  assert.match(validateCustomObject(cnp({ ...ok, nodeSelector: {} }), crds).join('\n'), /spec: must match exactly one of oneOf .* matches 2/);
  assert.match(validateCustomObject(cnp({ endpointSelector: {} }), crds).join('\n'), /spec: matches none of anyOf/);
  assert.match(validateCustomObject(cnp(ok, { spce: {} }), crds).join('\n'), /spce: unknown field/);
  assert.match(validateCustomObject(cnp({ ...ok, ingress: {} }), crds).join('\n'), /spec.ingress: must be an array/);
  assert.match(validateCustomObject({ ...cnp(ok), kind: 'CiliumClusterwideNetworkPolicy' }, crds).join('\n'), /metadata.namespace: CiliumClusterwideNetworkPolicy is cluster-scoped/);
  assert.match(validateCustomObject({ ...cnp(ok), apiVersion: 'cilium.io/v3' }, crds).join('\n'), /does not serve version v3/);
  const ccg = { apiVersion: 'cilium.io/v2alpha1', kind: 'CiliumCIDRGroup', metadata: { name: 'g' }, spec: { externalCIDRs: ['10.0.0.0/8', '10.1.2.3'] } };
  assert.match(validateCustomObject(ccg, crds).join('\n'), /spec.externalCIDRs\[1\]: not a CIDR/);
});

test("beeline's own CRDs take the objects Kubernetes mode will write", { skip: SKIP }, () => {
  const crds = rendered().filter((o) => o.kind === 'CustomResourceDefinition');
  const good = [
    { apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineIdentity', metadata: { name: '1234' }, securityLabels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=default'] },
    { apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineEndpoint', metadata: { name: 'web-1', namespace: 'default' }, spec: { identity: 1234, ipv4: '10.0.1.5', node: 'n1', hostIP: '192.168.1.10', endpointID: 7 } },
    { apiVersion: 'beeline.io/v1alpha1', kind: 'BeelineNode', metadata: { name: 'n1' }, spec: { addresses: [{ type: 'InternalIP', ip: '192.168.1.10' }], ipam: { podCIDRs: ['10.0.1.0/24'] } }, status: { ipam: { used: 3, available: 251 }, health: 'ok' } },
  ];
  for (const o of good) assert.deepEqual(validateCustomObject(o, crds), [], o.kind);
  const bad = validateCustomObject({ ...good[1]!, spec: { identity: 0, ipv4: '10.0.1.300', node: 'n1' } }, crds).join('\n');
  assert.match(bad, /spec.identity: less than 1/);
  assert.match(bad, /spec.ipv4: not an IPv4 address/);
  assert.match(bad, /spec.hostIP: required/);
});

test('structuralProblems: fields without a type, a non-object root, branches that declare', () => {
  assert.deepEqual(structuralProblems({ type: 'object', properties: { metadata: { type: 'object' }, a: { type: 'string' }, b: { 'x-kubernetes-preserve-unknown-fields': true }, c: { 'x-kubernetes-int-or-string': true } } }, 's'), []);
  assert.deepEqual(structuralProblems({ type: 'array', properties: { a: {}, l: { type: 'array', items: { properties: {} } } }, anyOf: [{ required: ['a'] }, { type: 'object' }] }, 's'), [
    's: the root must be type: object',
    's.properties.a: no type',
    's.properties.l.items: no type',
    's.anyOf[1]: type is not allowed in a anyOf branch',
  ]);
});

test('validateAgainstSchema: types, int-or-string, enums, nested unknown fields, preserve-unknown-fields', () => {
  const s = {
    type: 'object',
    properties: {
      port: { 'x-kubernetes-int-or-string': true },
      mode: { type: 'string', enum: ['a', 'b'] },
      inner: { type: 'object', properties: { x: { type: 'integer' } } },
      open: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  };
  assert.deepEqual(validateAgainstSchema({ port: 'http', mode: 'a', inner: { x: 1 }, open: { anything: [1] } }, s), []);
  assert.deepEqual(validateAgainstSchema({ port: 80 }, s), []);
  assert.deepEqual(validateAgainstSchema({ port: 1.5, mode: 'c', inner: { x: 'no', y: 1 } }, s), [
    'port: must be an integer or a string',
    'mode: must be one of a, b',
    'inner.x: must be an integer',
    'inner.y: unknown field',
  ]);
});

/** Every key of AgentConfig, so this list fails to compile when AgentConfig changes. */
const AGENT_CONFIG_KEYS = {
  lab: true, node: true, netns: true, stateDir: true, nodeIP: true, uplink: true, podCIDR: true, clusterPoolCIDR: true,
  clusterPoolMaskSize: true, cniNetwork: true, routing: true, hostRouting: true, hostNetns: true, datapath: true, socket: true, pinDir: true,
  bpfObjectDir: true, kvstore: true, k8sKubeconfig: true, ipam: true, monitorAggregation: true, resyncIntervalMs: true, ctMapSize: true, lbMapSize: true,
  maglevTableSize: true, policyMapSize: true, policyMapMax: true, policyEnforcement: true, policyAuditMode: true,
  lbAlgorithm: true, socketLB: true, lbPoolCIDR: true, observer: true, proxy: true, dnsProxy: true, kafkaProxy: true,
} as const satisfies Record<keyof AgentConfig, true>;

test('the ConfigMap holds only AgentConfig options, none of the per-node ones, and the paths the DaemonSet and CNI use', { skip: SKIP }, () => {
  const cm = must('ConfigMap', 'beeline-config');
  const cfg = JSON.parse((cm.data as Record<string, string>)['agent.json']!) as Record<string, unknown>;
  for (const k of Object.keys(cfg)) assert.ok(k in AGENT_CONFIG_KEYS, `agent.json: ${k} is not an AgentConfig option`);
  for (const k of ['lab', 'node', 'netns', 'nodeIP', 'uplink', 'podCIDR']) assert.ok(!(k in cfg), `agent.json: ${k} is per-node`);
  assert.equal(cfg.socket, DEFAULT_AGENT_SOCKET, 'the agent listens where the conflist points the plugin');
  assert.equal(cfg.kvstore, '', 'Kubernetes mode: no etcd');
  const ds = must('DaemonSet', 'beeline-agent');
  const agent = podSpec(ds).containers.find((c: { name: string }) => c.name === 'agent');
  const mounts: { mountPath: string; name: string }[] = agent.volumeMounts;
  const under = (p: string) => mounts.some((m) => p === m.mountPath || p.startsWith(`${m.mountPath}/`));
  for (const k of ['socket', 'stateDir', 'pinDir']) assert.ok(under(String(cfg[k])), `${k} ${String(cfg[k])} is on a host mount`);
  assert.ok(under((cfg.observer as { socket: string }).socket), 'observer socket on a host mount');
  // hostNetwork: the agent runs in the node's root network namespace, allowed only by --host-netns;
  // Kubernetes mode with the pod's service account; its CLI talks to its own socket.
  assert.deepEqual(agent.args, ['agent', '--config', '/etc/beeline/agent.json', '--host-netns', '--k8s-kubeconfig=in-cluster']);
  assert.ok(agent.env.some((e: { name: string; value?: string }) => e.name === 'BEELINE_AGENT_SOCKET' && e.value === cfg.socket), 'BEELINE_AGENT_SOCKET is the agent.json socket');
  assert.ok(mounts.some((m) => m.mountPath === '/etc/beeline' && m.name === 'config'));
});

test('the agent gets exactly the host access and capabilities it is documented to need, nothing privileged', { skip: SKIP }, () => {
  const ds = must('DaemonSet', 'beeline-agent');
  const spec = podSpec(ds);
  assert.equal(spec.hostNetwork, true);
  assert.ok(!spec.hostPID && !spec.hostIPC, 'no host PID or IPC namespace');
  const hostPaths = Object.fromEntries(spec.volumes.filter((v: { hostPath?: unknown }) => v.hostPath).map((v: { name: string; hostPath: { path: string } }) => [v.name, v.hostPath.path]));
  assert.deepEqual(hostPaths, {
    bpffs: '/sys/fs/bpf',
    run: '/var/run/beeline',
    netns: '/var/run/netns',
    cgroup: '/sys/fs/cgroup',
    'cni-bin': '/opt/cni/bin',
    'cni-conf': '/etc/cni/net.d',
  });
  const agent = spec.containers.find((c: { name: string }) => c.name === 'agent');
  assert.equal(agent.securityContext.privileged, false);
  assert.equal(agent.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(agent.securityContext.capabilities, { drop: ['ALL'], add: ['NET_ADMIN', 'SYS_ADMIN', 'BPF', 'PERFMON', 'SYS_RESOURCE'] });
  assert.ok(agent.volumeMounts.find((m: { name: string }) => m.name === 'cgroup').readOnly, 'cgroup hierarchy read-only');
  const install = spec.initContainers.find((c: { name: string }) => c.name === 'install-cni');
  assert.deepEqual(install.securityContext.capabilities, { drop: ['ALL'] });
  assert.deepEqual(install.volumeMounts.map((m: { name: string }) => m.name).sort(), ['cni-bin', 'cni-conf']);
  const op = podSpec(must('Deployment', 'beeline-operator'));
  assert.ok(!op.volumes.some((v: { hostPath?: unknown }) => v.hostPath), 'the operator mounts nothing of the host');
  assert.equal(op.securityContext.runAsNonRoot, true);
  assert.deepEqual(op.containers[0].securityContext.capabilities, { drop: ['ALL'] });
});

test('the CNI install copies the plugin and conflist the image holds, under the names the runtime looks for', { skip: SKIP }, (t: TestContext) => {
  const install = podSpec(must('DaemonSet', 'beeline-agent')).initContainers.find((c: { name: string }) => c.name === 'install-cni');
  const script: string = install.command.join(' ');
  assert.match(script, new RegExp(`/host/opt/cni/bin/${PLUGIN_TYPE}\\b`), 'the plugin is installed under its type name');
  assert.match(script, new RegExp(`/host/etc/cni/net.d/${CONFLIST_FILE.replace('.', '\\.')}\\b`));
  assert.ok(script.lastIndexOf('net.d') > script.lastIndexOf('cni/bin/'), 'the conflist is written after the plugin');
  // The sources it copies are where the Containerfile puts them, and those come from the repository.
  const cf = readFileSync(join(repoRoot, 'deploy', 'kubernetes', 'image', 'Containerfile'), 'utf8');
  for (const src of script.match(/\/opt\/beeline\/\S+/g) ?? []) {
    const rel = src.slice('/opt/beeline/'.length);
    assert.ok(cf.includes(`/src/${rel}`) || cf.includes(`/src/${rel.split('/')[0]}/`), `Containerfile puts ${rel} in the image`);
    assert.ok(existsSync(join(repoRoot, rel)), `${rel} exists in the repository`);
  }
  for (const m of cf.matchAll(/^COPY --from=build (.+) \S+$/gm)) {
    for (const p of m[1]!.split(' ')) {
      const rel = p.replace(/^\/src\/?/, '');
      if (rel === 'node_modules' || rel.startsWith('dist') || rel.startsWith('build')) continue; // made by the build stage
      assert.ok(existsSync(join(repoRoot, rel)), `Containerfile copies ${rel}, which exists`);
    }
  }
  const cm = JSON.parse((must('ConfigMap', 'beeline-config').data as Record<string, string>)['agent.json']!) as { bpfObjectDir: string };
  assert.match(cf, new RegExp(`COPY --from=build /src/build/bpf ./build/bpf`));
  assert.equal(cm.bpfObjectDir, '/opt/beeline/build/bpf');
  t.diagnostic('the image itself is not built here (no builder, no registry)');
});
