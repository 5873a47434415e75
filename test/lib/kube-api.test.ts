/**
 * The Kubernetes API test double (kube-api.ts) driven by real clients: kubectl
 * (get, apply client- and server-side, get -w, delete) and
 * @kubernetes/client-node (pagination, watch from a resourceVersion, bookmarks,
 * 410 → relist, conflicts), plus the patch functions on their own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, Watch, makeInformer, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { startKubeApi, mergePatch, strategicMergePatch, jsonPatch, parseLabelSelector, type KubeApi } from './kube-api.js';
import { until } from './wait.js';

type T = { after: (fn: () => Promise<void> | void) => void };

async function api(t: T, bookmarkMs?: number): Promise<KubeApi> {
  const k = await startKubeApi(bookmarkMs ? { bookmarkMs } : {});
  t.after(() => k.close());
  return k;
}

function clients(k: KubeApi) {
  const kc = new KubeConfig();
  kc.loadFromFile(k.kubeconfig);
  return { kc, core: kc.makeApiClient(CoreV1Api) };
}

const pod = (name: string, labels: Record<string, string> = {}, nodeName = 'node1'): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { nodeName, containers: [{ name: 'c', image: 'nginx' }] },
});

/** The Status body of a client-node ApiException. */
function statusOf(e: unknown): { code: number; reason: string } {
  const err = e as { code?: number; body?: unknown };
  const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
  assert.equal(body?.kind, 'Status', `expected a Status body, got ${JSON.stringify(err.body)}`);
  assert.equal(body.code, err.code);
  return body;
}

// ---- kubectl ---------------------------------------------------------------

const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));

function kubectlFor(k: KubeApi, t: T) {
  const cache = mkdtempSync(join(tmpdir(), 'bl-kube-api-kubectl-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  const base = ['--kubeconfig', k.kubeconfig, '--cache-dir', cache];
  // Asynchronous: the server answers from this process's event loop.
  const run = (...args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      execFile(KUBECTL!, [...base, ...args], { encoding: 'utf8', timeout: 30_000 }, (e, out, err) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, out, err }));
    });
  const ok = async (...args: string[]) => {
    const r = await run(...args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.err}`);
    return r.out;
  };
  return { base, run, ok };
}

test('kubectl: discovery, get (table and name), apply of a CiliumNetworkPolicy and a Service, re-apply, server-side apply, delete', { skip: !KUBECTL && 'kubectl not installed' }, async (t) => {
  const k = await api(t);
  const kubectl = kubectlFor(k, t);
  assert.match(await kubectl.ok('version', '-o', 'json'), /"gitVersion": "v1\.32\.0"/);
  assert.equal(await kubectl.ok('get', 'namespaces', '-o', 'name'), 'namespace/default\nnamespace/kube-system\n');
  // Categories: `get all` lists pods and services (none yet).
  assert.equal(await kubectl.ok('get', 'all', '-o', 'name'), '');
  // The default printer asks for a Table.
  assert.match(await kubectl.ok('get', 'ns'), /^NAME\s+AGE\ndefault\s+\d+s\nkube-system\s+\d+s\n$/);

  // A CNP from examples/ (a custom resource: client-side apply creates, then merge-patches).
  const cnpFile = join(process.cwd(), 'examples', 'sw_l3_l4_policy.yaml');
  assert.match(await kubectl.ok('apply', '--validate=false', '-f', cnpFile), /ciliumnetworkpolicy.cilium.io\/rule1 created/);
  const cnp = k.get('ciliumnetworkpolicies', 'default', 'rule1')!;
  assert.equal(cnp.spec.endpointSelector.matchLabels.class, 'deathstar');
  assert.ok(cnp.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
  assert.match(await kubectl.ok('apply', '--validate=false', '-f', cnpFile), /rule1 unchanged/);
  assert.equal(await kubectl.ok('get', 'cnp', '-A', '-o', 'name'), 'ciliumnetworkpolicy.cilium.io/rule1\n');
  // With validation on (kubectl's default), kubectl finds fieldValidation in the OpenAPI v3 documents and leaves it to the server.
  await kubectl.ok('delete', 'cnp', 'rule1');
  assert.match(await kubectl.ok('apply', '-f', cnpFile), /rule1 created/);
  assert.ok(k.requests.some((r) => r.method === 'POST' && r.path.endsWith('/ciliumnetworkpolicies') && r.query.fieldValidation === 'Strict'));

  // A Service: re-apply with a change is a strategic merge patch.
  const dir = mkdtempSync(join(tmpdir(), 'bl-kube-api-svc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const svc = (targetPort: number, extra = '') =>
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  selector: {app: web}\n  ports:\n  - name: http\n    port: 80\n    targetPort: ${targetPort}\n${extra}`;
  const file = join(dir, 'svc.yaml');
  writeFileSync(file, svc(8080));
  assert.match(await kubectl.ok('apply', '--validate=false', '-f', file), /service\/web created/);
  const created = k.get('services', 'default', 'web')!;
  writeFileSync(file, svc(9090, '  - name: https\n    port: 443\n'));
  assert.match(await kubectl.ok('apply', '-f', file), /service\/web configured/);
  const patched = k.get('services', 'default', 'web')!;
  assert.deepEqual(patched.spec.ports, [
    { name: 'http', port: 80, targetPort: 9090 },
    { name: 'https', port: 443 },
  ]);
  assert.equal(patched.metadata.uid, created.metadata.uid);
  assert.equal(patched.metadata.generation, 2);
  assert.ok(Number(patched.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
  assert.ok(k.requests.some((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/default/services/web' && r.contentType.startsWith('application/strategic-merge-patch+json')));

  // Dropping a port and the selector from the file: kubectl's patch deletes the list item by its merge key (port) and the field.
  writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - name: https\n    port: 443\n    targetPort: 8443\n');
  assert.match(await kubectl.ok('apply', '-f', file), /service\/web configured/);
  assert.deepEqual(k.get('services', 'default', 'web')!.spec, { ports: [{ name: 'https', port: 443, targetPort: 8443 }] });

  // Server-side apply: kubectl sends application/apply-patch+yaml with its field manager.
  writeFileSync(file, svc(7070));
  assert.match(await kubectl.ok('apply', '--server-side', '--validate=false', '-f', file), /serverside-applied/);
  const ssa = k.get('services', 'default', 'web')!;
  assert.equal(ssa.spec.ports[0].targetPort, 7070);
  assert.ok(ssa.metadata.managedFields.some((m: { manager: string; operation: string }) => m.manager === 'kubectl' && m.operation === 'Apply'));
  assert.ok(k.requests.some((r) => r.contentType.startsWith('application/apply-patch+yaml') && r.query.fieldManager === 'kubectl'));

  assert.match(await kubectl.ok('delete', 'service', 'web'), /service "web" deleted/);
  const gone = await kubectl.run('get', 'service', 'web');
  assert.equal(gone.code, 1);
  assert.match(gone.err, /Error from server \(NotFound\): services "web" not found/);
  await kubectl.ok('create', '--validate=false', '-f', file);
  assert.match((await kubectl.run('create', '--validate=false', '-f', file)).err, /Error from server \(AlreadyExists\).*services "web" already exists/);
});

test('kubectl get -w: the list, then the changes as they happen', { skip: !KUBECTL && 'kubectl not installed' }, async (t) => {
  const k = await api(t);
  const kubectl = kubectlFor(k, t);
  k.seed(pod('a'));
  const w = spawn(KUBECTL!, [...kubectl.base, 'get', 'pods', '-w', '-o', 'custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,RV:.metadata.resourceVersion', '--no-headers'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = () => {
    if (w.exitCode === null && w.signalCode === null) w.kill();
  };
  t.after(stop);
  let out = '';
  w.stdout.on('data', (d) => (out += d));
  await until('the first line of kubectl get -w', () => out.includes('a '), 15_000, 50);
  await until('kubectl to watch', () => k.openWatches() === 1, 15_000, 50);
  k.seed(pod('b', {}, 'node2'));
  await until('the added pod', () => /^b\s+node2\s+\d+$/m.test(out), 15_000, 50);
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 2, out);
  stop();
});

// ---- @kubernetes/client-node --------------------------------------------------

test('client-node: list pages with limit + continue from one snapshot; an expired continue token is 410 Expired', async (t) => {
  const k = await api(t);
  const { core } = clients(k);
  for (const n of ['p1', 'p2', 'p3', 'p4', 'p5']) await core.createNamespacedPod({ namespace: 'default', body: pod(n) });
  const first = await core.listNamespacedPod({ namespace: 'default', limit: 2 });
  assert.deepEqual(
    first.items.map((p) => p.metadata?.name),
    ['p1', 'p2'],
  );
  assert.equal(first.metadata?.remainingItemCount, 3);
  const snapshot = first.metadata?.resourceVersion;
  // Changes after the first page do not show in the next pages.
  await core.deleteNamespacedPod({ namespace: 'default', name: 'p4' });
  await core.createNamespacedPod({ namespace: 'default', body: pod('p6') });
  const second = await core.listNamespacedPod({ namespace: 'default', limit: 2, _continue: first.metadata?._continue });
  assert.deepEqual(
    second.items.map((p) => p.metadata?.name),
    ['p3', 'p4'],
  );
  assert.equal(second.metadata?.resourceVersion, snapshot);
  const third = await core.listNamespacedPod({ namespace: 'default', limit: 2, _continue: second.metadata?._continue });
  assert.deepEqual(
    third.items.map((p) => p.metadata?.name),
    ['p5'],
  );
  assert.equal(third.metadata?._continue, undefined);
  // A fresh list is at the current resourceVersion.
  const now = await core.listNamespacedPod({ namespace: 'default' });
  assert.equal(now.metadata?.resourceVersion, k.resourceVersion());
  assert.deepEqual(
    now.items.map((p) => p.metadata?.name),
    ['p1', 'p2', 'p3', 'p5', 'p6'],
  );

  k.compact();
  await assert.rejects(core.listNamespacedPod({ namespace: 'default', limit: 2, _continue: first.metadata?._continue }), (e) => {
    assert.equal(statusOf(e).reason, 'Expired');
    assert.equal((e as { code: number }).code, 410);
    return true;
  });
});

test('client-node: label and field selectors (metadata.name, metadata.namespace, spec.nodeName)', async (t) => {
  const k = await api(t);
  const { core } = clients(k);
  await core.createNamespace({ body: { metadata: { name: 'other' } } });
  await core.createNamespacedPod({ namespace: 'default', body: pod('a', { app: 'web', tier: 'front' }, 'node1') });
  await core.createNamespacedPod({ namespace: 'default', body: pod('b', { app: 'web' }, 'node2') });
  await core.createNamespacedPod({ namespace: 'other', body: pod('c', { app: 'db' }, 'node1') });
  const names = async (q: { labelSelector?: string; fieldSelector?: string }) => (await core.listPodForAllNamespaces(q)).items.map((p) => p.metadata?.name);
  assert.deepEqual(await names({ labelSelector: 'app=web' }), ['a', 'b']);
  assert.deepEqual(await names({ labelSelector: 'app in (web,db),!tier' }), ['b', 'c']);
  assert.deepEqual(await names({ labelSelector: 'app!=web' }), ['c']);
  assert.deepEqual(await names({ fieldSelector: 'spec.nodeName=node1' }), ['a', 'c']);
  assert.deepEqual(await names({ fieldSelector: 'metadata.namespace=other' }), ['c']);
  assert.deepEqual(await names({ fieldSelector: 'metadata.name!=a,spec.nodeName=node1' }), ['c']);
  // Field labels the API does not index are refused, as by the API.
  await assert.rejects(core.listPodForAllNamespaces({ fieldSelector: 'spec.containers=x' }), (e) => statusOf(e).reason === 'BadRequest');
  await assert.rejects(core.listNamespacedService({ namespace: 'default', fieldSelector: 'spec.nodeName=node1' }), (e) => statusOf(e).reason === 'BadRequest');
  // A pod in a namespace that does not exist: NotFound.
  await assert.rejects(core.createNamespacedPod({ namespace: 'nowhere', body: pod('x') }), (e) => statusOf(e).reason === 'NotFound');
  // Deleting a namespace deletes what is in it.
  await core.deleteNamespace({ name: 'other' });
  assert.deepEqual(await names({}), ['a', 'b']);
});

test('client-node Watch: replay after a resourceVersion, then stream, with bookmarks; a label change turns MODIFIED into DELETED', async (t) => {
  const k = await api(t, 100);
  const { kc, core } = clients(k);
  await core.createNamespacedPod({ namespace: 'default', body: pod('a', { app: 'web' }) });
  const from = k.resourceVersion();
  await core.createNamespacedPod({ namespace: 'default', body: pod('b', { app: 'web' }) });
  await core.createNamespacedPod({ namespace: 'default', body: pod('other', { app: 'db' }) });
  const seen: { type: string; name?: string; rv: string }[] = [];
  const ctl = await new Watch(kc).watch(
    '/api/v1/namespaces/default/pods',
    { resourceVersion: from, allowWatchBookmarks: true, labelSelector: 'app=web' },
    (type, obj) => seen.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion }),
    () => {},
  );
  t.after(() => ctl.abort());
  await until('the replayed event', () => seen.some((e) => e.name === 'b'), 5000, 20);
  assert.deepEqual(seen[0], { type: 'ADDED', name: 'b', rv: String(Number(from) + 1) });
  await core.patchNamespacedPod({ namespace: 'default', name: 'b', body: [{ op: 'replace', path: '/metadata/labels/app', value: 'api' }] });
  await core.deleteNamespacedPod({ namespace: 'default', name: 'a' });
  await until('the streamed events', () => seen.filter((e) => e.type === 'DELETED').length === 2, 5000, 20);
  assert.deepEqual(
    seen.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.name}`),
    ['ADDED b', 'DELETED b', 'DELETED a'],
  );
  await until('a bookmark at the current resourceVersion', () => seen.some((e) => e.type === 'BOOKMARK' && e.rv === k.resourceVersion()), 5000, 20);
});

test('client-node Watch: sendInitialEvents streams the state, then a bookmark marking its end, then changes', async (t) => {
  const k = await api(t);
  const { kc, core } = clients(k);
  await core.createNamespacedPod({ namespace: 'default', body: pod('a') });
  await core.createNamespacedPod({ namespace: 'default', body: pod('b') });
  const seen: string[] = [];
  const ctl = await new Watch(kc).watch(
    '/api/v1/namespaces/default/pods',
    { sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: 'NotOlderThan' },
    (type, obj) => seen.push(type === 'BOOKMARK' ? `BOOKMARK ${obj.metadata?.annotations?.['k8s.io/initial-events-end']}` : `${type} ${obj.metadata?.name}`),
    () => {},
  );
  t.after(() => ctl.abort());
  await until('the end of the initial events', () => seen.length === 3, 5000, 20);
  await core.deleteNamespacedPod({ namespace: 'default', name: 'a' });
  await until('the deletion', () => seen.length === 4, 5000, 20);
  assert.deepEqual(seen, ['ADDED a', 'ADDED b', 'BOOKMARK true', 'DELETED a']);
});

test('client-node Watch: a compacted resourceVersion gets an ERROR event carrying 410 Expired', async (t) => {
  const k = await api(t);
  const { kc, core } = clients(k);
  const from = k.resourceVersion();
  await core.createNamespacedPod({ namespace: 'default', body: pod('a') });
  k.compact();
  const seen: { type: string; obj: { code?: number; reason?: string; kind?: string } }[] = [];
  let ended = false;
  await new Watch(kc).watch(
    '/api/v1/namespaces/default/pods',
    { resourceVersion: from },
    (type, obj) => seen.push({ type, obj }),
    () => (ended = true),
  );
  await until('the watch to end', () => ended, 5000, 20);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].type, 'ERROR');
  assert.deepEqual([seen[0].obj.kind, seen[0].obj.code, seen[0].obj.reason], ['Status', 410, 'Expired']);
});

test('client-node informer (ListWatch): resumes from its resourceVersion when the stream ends; relists after a 410', async (t) => {
  const k = await api(t);
  const { kc, core } = clients(k);
  await core.createNamespacedPod({ namespace: 'default', body: pod('a') });
  const path = '/api/v1/namespaces/default/pods';
  const informer = makeInformer(kc, path, () => core.listNamespacedPod({ namespace: 'default' }) as Promise<never>);
  informer.on('error', () => {});
  await informer.start();
  t.after(() => informer.stop());
  const names = () => informer.list().map((p: KubernetesObject) => p.metadata?.name).sort().join();
  const lists = () => k.requests.filter((r) => r.method === 'GET' && r.path === path && r.query.watch !== 'true').length;
  const watches = () => k.requests.filter((r) => r.query.watch === 'true');
  await until('the informer to watch', () => k.openWatches() === 1, 5000, 20);
  assert.equal(names(), 'a');

  // The server ends the stream (its timeout): the informer watches again from the last resourceVersion it saw.
  await core.createNamespacedPod({ namespace: 'default', body: pod('b') });
  await until('b in the cache', () => names() === 'a,b', 5000, 20);
  const seenRv = k.resourceVersion();
  k.endWatches();
  await until('the informer to watch again', () => watches().length === 2 && k.openWatches() === 1, 5000, 20);
  assert.equal(watches()[1].query.resourceVersion, seenRv);
  assert.equal(lists(), 1);

  // Disconnected while changes happen and the history is compacted: its next watch gets 410, so it relists.
  await informer.stop();
  await core.createNamespacedPod({ namespace: 'default', body: pod('c') });
  await core.deleteNamespacedPod({ namespace: 'default', name: 'a' });
  k.compact();
  await informer.start();
  await until('a relist', () => lists() === 2, 10_000, 20);
  await until('the cache to hold b and c', () => names() === 'b,c', 10_000, 20);
  // Its watch after the relist starts from the relist's resourceVersion.
  await until('the informer to watch after the relist', () => k.openWatches() === 1, 5000, 20);
  assert.equal(watches().at(-1)!.query.resourceVersion, k.resourceVersion());
});

test('client-node: update with a stale resourceVersion is 409 Conflict; custom resources need one; status subresource', async (t) => {
  const k = await api(t);
  const { kc, core } = clients(k);
  const a = await core.createNamespacedPod({ namespace: 'default', body: pod('a') });
  await assert.rejects(core.createNamespacedPod({ namespace: 'default', body: pod('a') }), (e) => statusOf(e).reason === 'AlreadyExists');
  const b = await core.replaceNamespacedPod({ namespace: 'default', name: 'a', body: { ...a, spec: { ...a.spec!, nodeName: 'node2' } } });
  assert.equal(b.metadata?.generation, 2);
  await assert.rejects(core.replaceNamespacedPod({ namespace: 'default', name: 'a', body: a }), (e) => {
    const s = statusOf(e);
    assert.equal(s.code, 409);
    assert.equal(s.reason, 'Conflict');
    return true;
  });
  // A write that changes nothing keeps the resourceVersion.
  const same = await core.replaceNamespacedPod({ namespace: 'default', name: 'a', body: b });
  assert.equal(same.metadata?.resourceVersion, b.metadata?.resourceVersion);
  // Status: the object's PUT keeps status; .../status changes only status.
  const st = await core.replaceNamespacedPodStatus({ namespace: 'default', name: 'a', body: { ...b, spec: { ...b.spec!, nodeName: 'x' }, status: { phase: 'Running' } } });
  assert.equal(st.status?.phase, 'Running');
  assert.equal(st.spec?.nodeName, 'node2');
  assert.equal(st.metadata?.generation, 2);
  const kept = await core.replaceNamespacedPod({ namespace: 'default', name: 'a', body: { ...st, status: { phase: 'Failed' } } });
  assert.equal(kept.status?.phase, 'Running');
  await assert.rejects(core.readNamespacedPod({ namespace: 'default', name: 'zz' }), (e) => statusOf(e).reason === 'NotFound');
  // Delete with a stale precondition: Conflict.
  await assert.rejects(core.deleteNamespacedPod({ namespace: 'default', name: 'a', body: { preconditions: { resourceVersion: '1' } } }), (e) => statusOf(e).reason === 'Conflict');

  // Custom resources through the generic client: server-side apply creates, PUT without resourceVersion is Invalid.
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const cnp = { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'p', namespace: 'default' }, spec: { endpointSelector: { matchLabels: { app: 'web' } } } };
  const applied = await objects.patch(cnp, undefined, undefined, 'test', undefined, PatchStrategy.ServerSideApply);
  assert.equal((applied.metadata as { generation?: number }).generation, 1);
  await assert.rejects(objects.replace(cnp), (e) => {
    assert.equal(statusOf(e).reason, 'Invalid');
    return true;
  });
  // Re-applying without a field this manager set before removes it.
  await objects.patch({ ...cnp, spec: { endpointSelector: { matchLabels: { app: 'web' } }, description: 'd' } }, undefined, undefined, 'test', undefined, PatchStrategy.ServerSideApply);
  assert.equal(k.get('ciliumnetworkpolicies', 'default', 'p')!.spec.description, 'd');
  await objects.patch(cnp, undefined, undefined, 'test', undefined, PatchStrategy.ServerSideApply);
  const after = k.get('ciliumnetworkpolicies', 'default', 'p')!;
  assert.equal(after.spec.description, undefined);
  assert.equal(after.metadata.generation, 3);
  await assert.rejects(objects.patch(cnp, undefined, undefined, 'test', undefined, PatchStrategy.StrategicMergePatch), (e) => statusOf(e).reason === 'UnsupportedMediaType');
});

// ---- patches and selectors on their own ------------------------------------------

test('patches: merge, strategic merge (merge keys, $patch, $setElementOrder, $retainKeys) and JSON patch', () => {
  assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [3] }), { a: 1, b: { d: 3, e: 4 }, l: [3] });
  const podSpec = {
    containers: [
      { name: 'a', image: 'x', ports: [{ containerPort: 80 }] },
      { name: 'b', image: 'y' },
    ],
    tolerations: [{ key: 't' }],
  };
  assert.deepEqual(
    strategicMergePatch(podSpec, {
      containers: [{ name: 'b', image: 'z' }, { name: 'a', $patch: 'delete' }, { name: 'c', image: 'w' }],
      tolerations: [{ key: 'u' }],
    }),
    {
      containers: [
        { name: 'b', image: 'z' },
        { name: 'c', image: 'w' },
      ],
      tolerations: [{ key: 'u' }],
    },
  );
  assert.deepEqual(
    strategicMergePatch({ ports: [{ port: 80, name: 'http' }, { port: 443 }] }, { '$setElementOrder/ports': [{ port: 443 }, { port: 80 }], ports: [{ port: 80, targetPort: 8080 }] }),
    { ports: [{ port: 443 }, { port: 80, name: 'http', targetPort: 8080 }] },
  );
  assert.deepEqual(strategicMergePatch({ s: { a: 1, b: 2 } }, { s: { $patch: 'replace', c: 3 } }), { s: { c: 3 } });
  assert.deepEqual(strategicMergePatch({ s: { type: 'A', a: 1 } }, { s: { $retainKeys: ['type', 'b'], type: 'B', b: 2 } }), { s: { type: 'B', b: 2 } });
  assert.deepEqual(strategicMergePatch({ f: ['x', 'y', 'z'] }, { '$deleteFromPrimitiveList/f': ['y'] }), { f: ['x', 'z'] });
  assert.deepEqual(
    jsonPatch({ a: [1, 2], b: { c: 1 } }, [
      { op: 'add', path: '/a/-', value: 3 },
      { op: 'replace', path: '/b/c', value: 2 },
      { op: 'remove', path: '/a/0' },
      { op: 'test', path: '/b/c', value: 2 },
    ]),
    { a: [2, 3], b: { c: 2 } },
  );
  assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]));
  assert.deepEqual(parseLabelSelector('a=b, c in (d, e),!f,g,h!=i'), [
    { key: 'a', op: 'in', values: ['b'] },
    { key: 'c', op: 'in', values: ['d', 'e'] },
    { key: 'f', op: '!exists', values: [] },
    { key: 'g', op: 'exists', values: [] },
    { key: 'h', op: 'notin', values: ['i'] },
  ]);
});
