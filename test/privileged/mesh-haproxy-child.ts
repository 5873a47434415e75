/**
 * Runs inside the private network namespace made by mesh-haproxy.test.ts
 * (`ip netns exec`): compiles GAMMA HTTPRoutes with src/l7/http/mesh.ts,
 * starts the real HAProxy 2.6 with the fragment (bound on 127.0.0.10:8080,
 * the "ClusterIP" of the routed Service, so `dst:dst_port` is what the map
 * holds) and three small Node backends, and checks weights, a weight change
 * by map swap on the runtime API, retries and their log records.
 * Not a test file of its own (no .test suffix): it needs the namespace.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Agent, createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { compileMesh, meshMapSwapPlan, reweightedMaps, type CompiledMesh } from '../../src/l7/http/mesh.js';
import type { ObjectInput } from '../../src/store/store.js';
import { assertPrivateNetns } from '../lib/netns-child.js';
import { startHaproxy, writeRenderedHaproxy, type RunningHaproxy } from '../lib/haproxy.js';

assertPrivateNetns('mesh-haproxy-child');

const VIP = '127.0.0.10';
const PORT = 8080;
const LOG_PORT = 15514;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const svc = (name: string, ip: string, port: number): ObjectInput => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { clusterIP: ip, ports: [{ name: 'http', port }] } });
const slice = (name: string, port: number): ObjectInput => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'http', port }],
});
const route = (name: string, rules: unknown[]): ObjectInput => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: 'default', creationTimestamp: '2026-12-07T00:00:00Z' },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: 'front', port: PORT }], rules },
});

let dir = '';
let hap: RunningHaproxy | undefined;
let mesh: CompiledMesh;
const servers: Server[] = [];
let logs: UdpSocket;
const records: Record<string, unknown>[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
let flakyCount = 0;

function backend(name: string, port: number, flaky = false, echo = false): Promise<void> {
  const s = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (echo) { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url, host: req.headers.host, xs: req.headers['x-s'], xr: req.headers['x-r'] ?? null })); return; }
      if (flaky && ++flakyCount % 10 === 0) { res.writeHead(503).end('busy'); return; }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
    });
  });
  servers.push(s);
  return new Promise((r) => s.listen(port, '127.0.0.1', () => r()));
}

function get(path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: VIP, port: PORT, path, method, agent, headers: method === 'POST' ? { 'content-length': '2', ...headers } : headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    r.on('error', reject);
    r.end(method === 'POST' ? 'hi' : undefined);
  });
}

/** `n` requests, `conc` at a time; the responses in completion order. */
async function many(n: number, conc: number, path: string, method = 'GET') {
  const out: { status: number; body: string }[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => {
    while (next < n) { next++; out.push(await get(path, method)); }
  }));
  return out;
}

function runtime(cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(join(dir, 'h.sock'));
    let out = '';
    s.setEncoding('utf8').on('data', (d: string) => { out += d; }).on('end', () => resolve(out)).on('error', reject);
    s.write(`${cmd}\n`);
  });
}

/** Replaces a map's contents atomically: prepare, add to the new version, commit. */
async function swapMap(path: string, content: string): Promise<void> {
  const v = /New version created: (\d+)/.exec(await runtime(`prepare map ${path}`))?.[1];
  assert.ok(v, 'prepare map gave no version');
  const adds = content.split('\n').filter((l) => l).map((l) => `add map @${v} ${path} ${l}`);
  const out = await runtime([...adds, `commit map @${v} ${path}`].join(';'));
  assert.doesNotMatch(out, /error|unknown|invalid/i, out);
}

before(async () => {
  dir = mkdtempSync('/tmp/bl-mesh-');
  logs = createSocket('udp4');
  logs.on('message', (m) => { try { records.push(JSON.parse(m.toString('utf8'))); } catch { /* not a record */ } });
  await new Promise<void>((r) => logs.bind(LOG_PORT, '127.0.0.1', () => r()));
  await backend('A', 18081);
  await backend('B', 18082);
  await backend('C', 18083, true);
  await backend('D', 18084, false, true);
  mesh = compileMesh({
    routes: [
      route('split', [{ matches: [{ path: { type: 'PathPrefix', value: '/split' } }], backendRefs: [{ name: 'a', port: 80, weight: 90 }, { name: 'b', port: 80, weight: 10 }] }]),
      route('filt', [
        { matches: [{ path: { type: 'Exact', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', hostname: 'n.example', port: 8443, path: { type: 'ReplaceFullPath', replaceFullPath: '/new' }, statusCode: 301 } }] },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/rw' } }],
          filters: [
            { type: 'URLRewrite', urlRewrite: { hostname: 'h.example', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } },
            { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-s', value: '50% "q"' }], remove: ['x-r'] } },
            { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-resp', value: 'yes' }] } },
          ],
          backendRefs: [{ name: 'd', port: 80 }],
        },
        { matches: [{ path: { type: 'PathPrefix', value: '/m' } }], backendRefs: [{ name: 'b', port: 80 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/m' }, headers: [{ name: 'x-v', value: '1' }] }], backendRefs: [{ name: 'a', port: 80 }] },
        { matches: [{ path: { type: 'RegularExpression', value: '/re/[0-9]+' } }], backendRefs: [{ name: 'a', port: 80 }] },
      ]),
      route('flaky', [{ matches: [{ path: { type: 'PathPrefix', value: '/flaky' } }], backendRefs: [{ name: 'c', port: 80 }], retry: { attempts: 1, codes: [503] } }]),
    ],
    services: [svc('front', VIP, PORT), svc('a', '10.96.0.2', 80), svc('b', '10.96.0.3', 80), svc('c', '10.96.0.4', 80), svc('d', '10.96.0.5', 80)],
    endpointSlices: [slice('a', 18081), slice('b', 18082), slice('c', 18083), slice('d', 18084)],
  }, { stateDir: join(dir, 'state'), bind: [`${VIP}:${PORT}`], log: `127.0.0.1:${LOG_PORT} format raw local0` });
  for (const st of mesh.statuses) for (const p of st.parents) assert.deepEqual(p.conditions.map((c) => c.status), ['True', 'True'], JSON.stringify(st));
  const global = `global\n  stats socket ${join(dir, 'h.sock')} mode 600 level admin\n  nbthread 2\ndefaults\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\n`;
  const cfg = writeRenderedHaproxy({ config: global + mesh.config, files: mesh.files }, join(dir, 'h.cfg'));
  hap = await startHaproxy(['-f', cfg], PORT, VIP);
});

after(async () => {
  agent.destroy();
  if (hap) { hap.proc.kill('SIGKILL'); await new Promise((r) => hap!.proc.once('exit', r)); }
  for (const s of servers) s.closeAllConnections(), s.close();
  logs?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const splitId = () => mesh.frontends[0]!.entries.find((e) => e.route.name === 'split')!.id;

test('10,000 requests through a 90/10 route land within 1 percentage point of the weights', async () => {
  const res = await many(10_000, 16, '/split/x');
  assert.equal(res.filter((r) => r.status !== 200).length, 0);
  const b = res.filter((r) => r.body === 'B').length;
  const a = res.filter((r) => r.body === 'A').length;
  assert.equal(a + b, 10_000);
  assert.ok(Math.abs(b / 10_000 - 0.1) <= 0.01, `B got ${b} of 10000`);
});

test('weights 90/10 → 50/50 by swapping the schedule maps (no reload): applied within 1 s, no failed request', async () => {
  const to = reweightedMaps(mesh.frontends, { [splitId()]: [50, 50] });
  const log: { t: number; status: number; body: string }[] = [];
  let stop = false;
  let failures = 0;
  const client = Promise.all(Array.from({ length: 4 }, async () => {
    while (!stop) {
      try {
        const r = await get('/split/y');
        log.push({ t: Date.now(), ...r });
      } catch { failures++; }
    }
  }));
  await sleep(500);
  for (const step of meshMapSwapPlan(mesh.maps, to)) await swapMap(mesh.mapPaths[step.map], step.content);
  const swapped = Date.now();
  await sleep(2000);
  stop = true;
  await client;
  assert.equal(failures, 0);
  assert.equal(log.filter((r) => r.status !== 200).length, 0, 'a request failed during the swap');
  const after1s = log.filter((r) => r.t > swapped + 1000);
  assert.ok(after1s.length >= 200, `only ${after1s.length} requests after the swap`);
  const b = after1s.filter((r) => r.body === 'B').length / after1s.length;
  assert.ok(Math.abs(b - 0.5) <= 0.02, `B share ${b} after the swap`);
  const before = log.filter((r) => r.t < swapped - 50);
  assert.ok(before.filter((r) => r.body === 'B').length / before.length < 0.2, 'the old weights held before the swap');
  mesh = { ...mesh, maps: to };
});

test('a backend answering 503 to 10% with retry {attempts: 1, codes: [503]}: ≥99% success, retries in the log', async () => {
  records.length = 0;
  const res = await many(1000, 8, '/flaky/get');
  const ok = res.filter((r) => r.status === 200).length;
  assert.ok(ok >= 990, `${ok}/1000 succeeded`);
  await sleep(300);
  const mine = records.filter((r) => r.route === 'default/flaky' && r.m === 'GET');
  assert.ok(mine.length >= 990, `${mine.length} log records`);
  const retried = mine.filter((r) => (r.rc as number) > 0).length;
  assert.ok(retried >= 50 && retried <= 150, `${retried} retried`);
  assert.ok(mine.every((r) => typeof r.grp === 'string' && (r.grp as string).startsWith('bl_mesh_g') && r.srv === 's0'));
});

test('a POST is not retried: its 503s reach the client, the log says why', async () => {
  records.length = 0;
  const res = await many(200, 4, '/flaky/post', 'POST');
  const failed = res.filter((r) => r.status === 503).length;
  assert.ok(failed >= 10, `${failed} POSTs got 503`);
  await sleep(300);
  const mine = records.filter((r) => r.route === 'default/flaky' && r.m === 'POST');
  assert.equal(mine.length, 200);
  assert.ok(mine.every((r) => r.rc === 0 && r.noretry === 'method'), JSON.stringify(mine.find((r) => r.rc !== 0 || r.noretry !== 'method')));
});

test('matches in precedence, redirect, URL rewrite and header filters on the real proxy', async () => {
  const red = await get('/old?x=1');
  assert.deepEqual([red.status, red.headers.location], [301, 'https://n.example:8443/new?x=1']);
  assert.equal((await get('/old')).headers.location, 'https://n.example:8443/new');
  assert.equal((await get('/old/')).status, 404, 'Exact is exact');
  const rw = await get('/rw/abc?q=1', 'GET', { 'x-r': 'gone', 'x-s': 'old' });
  assert.equal(rw.status, 200);
  assert.deepEqual(JSON.parse(rw.body), { url: '/v2/abc?q=1', host: 'h.example', xs: '50% "q"', xr: null });
  assert.equal(rw.headers['x-resp'], 'yes');
  assert.equal((await get('/m/1', 'GET', { 'x-v': '1' })).body, 'A', 'more header matches first');
  assert.equal((await get('/m/1', 'GET', { 'x-v': '2' })).body, 'B');
  assert.equal((await get('/m')).body, 'B');
  assert.equal((await get('/mx')).status, 404, 'a prefix matches whole path elements');
  assert.equal((await get('/re/12')).body, 'A');
  assert.equal((await get('/re/1a')).status, 404);
});
