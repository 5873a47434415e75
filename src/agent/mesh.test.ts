/**
 * The agent's mesh routes against the Kubernetes API double (the store) and a
 * real HAProxy 2.6 on 127.0.0.1 (no root: the listener is not transparent, the
 * servers connect from the proxy's own address; the "Service" web has
 * ClusterIP 127.0.0.1 and the listener's port, so the original destination the
 * frontend map is looked up with is the listener itself): an HTTPRoute splits
 * by weight exactly, a weight change is a map swap without a reload, a new
 * rule is a reload, the routed Service ports reach the load-balancer once the
 * proxy listens, and a deleted route takes them away again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { logger } from '../common/log.js';
import type { Store } from '../store/store.js';
import { NodeProxy, haproxyCommand, parseShowProc, proxyConfigFile, proxyRuleSet, writeProxyFiles, type NodeProxyConfig } from './proxy.js';
import { MESH_SECTION, MeshRoutes, meshCompileOptions } from './mesh.js';
import { freePort } from '../../test/lib/haproxy.js';
import { kubeStores } from '../../test/lib/kube-stores.js';

const hasHaproxy = spawnSync('sh', ['-c', 'command -v haproxy']).status === 0;

test('meshCompileOptions: transparent listener at the mesh port, servers from the client address, records to the ring', () => {
  const o = meshCompileOptions({ stateDir: '/run/p', masterSocket: '/run/p/m.sock', ingressPort: 15001, accessLogPort: 4245, meshPort: 15003 });
  assert.deepEqual(o.bind, ['0.0.0.0:15003 transparent']);
  assert.equal(o.serverSource, '0.0.0.0 usesrc clientip');
  assert.match(o.log ?? '', /^ring@bl_records /);
});

test('MeshRoutes with HAProxy 2.6: weights split exactly, a weight change swaps maps without a reload, a new rule reloads, frontends handed on', { skip: !hasHaproxy && 'haproxy is not installed', timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-mesh-agent-'));
  const v1 = await named('v1');
  const v2 = await named('v2');
  let haproxy: ChildProcess | undefined;
  const { open } = await kubeStores(t);
  const store = open();
  try {
    const meshPort = await freePort();
    const cfg: NodeProxyConfig = { stateDir: dir, masterSocket: join(dir, 'master.sock'), ingressPort: await freePort(), accessLogPort: await freePort(), meshPort };
    const render = { transparent: false, bindAddress: '127.0.0.1', forwardTo: '127.0.0.1:9' } as const;
    writeProxyFiles(cfg, proxyRuleSet(cfg, [], []), render);
    haproxy = spawn('haproxy', ['-W', '-db', '-S', cfg.masterSocket, '-f', proxyConfigFile(dir)], { stdio: 'ignore' });
    await until(async () => (await haproxyCommand(cfg.masterSocket, 'show proc').then(parseShowProc, () => undefined))?.workers[0]);

    const proxy = new NodeProxy(cfg, logger('test', new PassThrough()), 5, 5000, render);
    proxy.update([], [], 1);
    await proxy.flush();
    const handed: { frontends: string[]; port: number | undefined }[] = [];
    const sink = { setMeshFrontends: (f: ReadonlySet<string>, port: number | undefined) => void handed.push({ frontends: [...f], port }) };
    const mesh = new MeshRoutes({ store, proxy, services: () => sink, log: logger('test', new PassThrough()), debounceMs: 5, render: { bind: [`127.0.0.1:${meshPort}`] } });
    await mesh.start();
    assert.equal(proxy.section(MESH_SECTION), undefined, 'no route: no section');

    await seed(store, meshPort, (v1.address() as AddressInfo).port, (v2.address() as AddressInfo).port);
    await store.create(route([90, 10]));
    await until(async () => (proxy.section(MESH_SECTION) ? true : undefined));
    await proxy.flush();
    await until(async () => (handed.length ? true : undefined));
    assert.deepEqual(handed.at(-1), { frontends: [`default/web:${meshPort}`], port: meshPort }, 'handed on once the proxy runs the section');
    const reloads = proxy.stats.reloads;
    assert.deepEqual(await split(meshPort, 100), { v1: 90, v2: 10 });

    // 90/10 → 50/50: the same configuration text, only the schedule maps: swapped in place.
    await updateRoute(store, (r) => (r.spec.rules[0].backendRefs[0].weight = 50, r.spec.rules[0].backendRefs[1].weight = 50));
    await until(async () => (mesh.stats.swaps === 1 ? true : undefined));
    assert.equal(proxy.stats.reloads, reloads, 'no reload for a weight change');
    assert.deepEqual(await split(meshPort, 100), { v1: 50, v2: 50 });

    // A new rule (a path match): a reload; /two goes to v2 alone.
    await updateRoute(store, (r) => r.spec.rules.unshift({ matches: [{ path: { type: 'PathPrefix', value: '/two' } }], backendRefs: [{ group: '', kind: 'Service', name: 'v2', port: 80 }] }));
    await until(async () => (proxy.stats.reloads > reloads ? true : undefined));
    assert.equal(await get(meshPort, '/two/x'), 'v2');
    assert.deepEqual(await split(meshPort, 10), { v1: 5, v2: 5 });

    // The route goes: the section goes, the Service port is the datapath's again.
    await store.delete('HTTPRoute', 'default', 'split');
    await until(async () => (proxy.section(MESH_SECTION) ? undefined : true));
    assert.deepEqual(handed.at(-1), { frontends: [], port: undefined });
    await proxy.flush();
    assert.equal(proxy.stats.lastError, undefined);
    await mesh.stop();
    proxy.stop();
  } finally {
    if (haproxy?.pid) {
      haproxy.kill('SIGTERM');
      await new Promise((r) => haproxy!.once('exit', r));
    }
    v1.close();
    v2.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/* eslint-disable @typescript-eslint/no-explicit-any */
function route(weights: [number, number]): any {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'split', namespace: 'default' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'web' }],
      rules: [{ backendRefs: [{ group: '', kind: 'Service', name: 'v1', port: 80, weight: weights[0] }, { group: '', kind: 'Service', name: 'v2', port: 80, weight: weights[1] }] }],
    },
  };
}

async function updateRoute(store: Store, f: (r: any) => void): Promise<void> {
  const r = (await store.get('HTTPRoute', 'default', 'split')) as any;
  f(r);
  await store.update(r);
}

async function seed(store: Store, meshPort: number, p1: number, p2: number): Promise<void> {
  await store.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '127.0.0.1', ports: [{ port: meshPort, protocol: 'TCP' }] } });
  for (const [name, port] of [['v1', p1], ['v2', p2]] as const) {
    await store.create({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { clusterIP: name === 'v1' ? '10.96.0.11' : '10.96.0.12', ports: [{ port: 80, targetPort: port, protocol: 'TCP' }] } });
    await store.create({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-a`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }], ports: [{ port, protocol: 'TCP' }],
    });
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function named(name: string): Promise<Server> {
  const s = createServer((_req, res) => res.end(name));
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? body : String(res.statusCode)));
    });
    req.on('error', reject);
    req.end();
  });
}

async function split(port: number, n: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const b = await get(port, '/');
    out[b] = (out[b] ?? 0) + 1;
  }
  return out;
}

async function until<T>(f: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
