/**
 * `beeline ui`'s server over a real relay (src/observer/relay.ts on a unix
 * socket) whose nodes are protocol-exact Observers (test/lib/fake-observer):
 * the app's files, the forwarded streams and calls, the UI's own rpcs, and
 * what it answers to bad requests and a relay that is not there or goes away.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGrpcServer, type GrpcServerHandle } from '../api/grpc.js';
import type { GetFlowsResponse__Output } from '../api/generated/observer/GetFlowsResponse.js';
import type { GetServiceMapResponse__Output } from '../api/generated/servicemap/GetServiceMapResponse.js';
import type { ErrorReply__Output } from '../api/generated/ui/ErrorReply.js';
import type { ParseFilterReply__Output } from '../api/generated/ui/ParseFilterReply.js';
import type { ExportFlowsReply__Output } from '../api/generated/ui/ExportFlowsReply.js';
import type { UiConfig__Output } from '../api/generated/ui/UiConfig.js';
import { Relay } from '../observer/relay.js';
import { FakeNode, nowMs } from '../../test/lib/fake-observer.js';
import { startUiServer, type UiServer } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'bl-ui-'));
const app = join(dir, 'app');
let node1: FakeNode;
let relayServer: GrpcServerHandle;
let ui: UiServer;
const relayAddress = `unix://${join(dir, 'relay.sock')}`;

async function startRelay(): Promise<GrpcServerHandle> {
  const relay = new Relay({ peers: () => [node1.peer], version: 't', sortBufferMs: 20, log: { debug() {}, info() {}, warn() {}, error() {} } as never });
  return startGrpcServer([relayAddress], [relay.service(), relay.serviceMapService()]);
}

before(async () => {
  mkdirSync(join(app, 'assets'), { recursive: true });
  writeFileSync(join(app, 'index.html'), '<!doctype html><title>beeline</title>');
  writeFileSync(join(app, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'not for the browser');
  node1 = await new FakeNode('node1', `unix://${join(dir, 'n1.sock')}`, [10, 20, 30], 0, {
    source: { ID: 1, identity: 300, namespace: 'empire', labels: ['k8s:org=empire'], pod_name: 'tiefighter', workloads: [] },
    destination: { ID: 2, identity: 301, namespace: 'empire', labels: ['k8s:class=deathstar'], pod_name: 'deathstar-1', workloads: [{ name: 'deathstar', kind: 'Deployment' }] },
    IP: { source: '10.0.0.3', destination: '10.0.1.4', ipVersion: 'IPv4', encrypted: false },
    l4: { TCP: { source_port: 40000, destination_port: 80, flags: { SYN: true } } },
    Type: 'L3_L4',
  }).start();
  relayServer = await startRelay();
  ui = await startUiServer({ relay: relayAddress, lab: 'test', port: 0, staticDir: app, relayTimeoutMs: 500 });
});

after(async () => {
  await ui?.close();
  await relayServer?.close();
  await node1?.server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function http(method: string, path: string, body?: string, headers: Record<string, string> = {}, server: UiServer = ui): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (route: string, msg: unknown, headers: Record<string, string> = {}) => http('POST', `/api/${route}`, JSON.stringify(msg), headers);
const lines = <T>(body: string): T[] => body.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);

test('serves the app: the page, content-named assets, the page for app paths; nothing outside the app', async () => {
  assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  let r = await http('GET', '/');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /text\/html/);
  assert.match(r.body, /<title>beeline/);
  assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
  r = await http('GET', '/assets/index-abc.js');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /javascript/);
  assert.match(String(r.headers['cache-control']), /immutable/);
  r = await http('GET', '/flows');
  assert.equal(r.status, 200, 'an app path is the app');
  assert.match(r.body, /<title>beeline/);
  for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/nope.js']) {
    r = await http('GET', p);
    assert.equal(r.status, 404, p);
    assert.doesNotMatch(r.body, /not for the browser/);
  }
});

test('refuses other sites: a Host that is not its address, a cross-site Origin', async () => {
  let r = await http('GET', '/', undefined, { host: 'evil.example:80' });
  assert.equal(r.status, 403);
  assert.equal((JSON.parse(r.body) as ErrorReply__Output).error?.code, 'BL_ERR_UI_REQUEST');
  r = await post('ui.Ui/GetConfig', {}, { origin: 'http://evil.example' });
  assert.equal(r.status, 403);
  r = await post('ui.Ui/GetConfig', {}, { origin: `http://127.0.0.1:${ui.port}` });
  assert.equal(r.status, 200);
  r = await http('GET', '/', undefined, { host: `localhost:${ui.port}` });
  assert.equal(r.status, 200);
});

test('bad requests: one error with a stable code and the HTTP status that fits', async () => {
  const cases: [Promise<Reply>, number, RegExp][] = [
    [http('GET', '/api/ui.Ui/GetConfig'), 405, /use POST/],
    [http('POST', '/api/ui.Ui/GetConfig', '{not json'), 400, /request body/],
    [http('POST', '/api/ui.Ui/GetConfig', '[1,2]'), 400, /not a JSON object/],
    [post('ui.Ui/Nope', {}), 404, /no rpc ui\.Ui\/Nope/],
    [post('ui.Ui/GetConfig', { pad: 'x'.repeat(2 << 20) }), 413, /over/],
    [post('ui.Ui/ParseFilter', { text: '--to-pod' }), 400, /--to-pod: needs a value/],
    [post('ui.Ui/ExportFlows', { flows: 'all' }), 400, /flows: expected a list/],
    [post('ui.Ui/SuggestPolicy', { namespace: '', labels: {} }), 400, /--namespace is required/],
  ];
  for (const [p, status, re] of cases) {
    const r = await p;
    assert.equal(r.status, status, r.body);
    const e = (JSON.parse(r.body) as ErrorReply__Output).error!;
    assert.match(e.code, /^BL_ERR_/);
    assert.match(e.message, re);
  }
});

test('GetConfig and ParseFilter', async () => {
  const c = JSON.parse((await post('ui.Ui/GetConfig', {})).body) as UiConfig__Output;
  assert.deepEqual([c.relay, c.lab], [relayAddress, 'test']);
  const f = JSON.parse((await post('ui.Ui/ParseFilter', { text: 'from:pod=empire/xwing !verdict:FORWARDED' })).body) as ParseFilterReply__Output;
  assert.deepEqual(f.whitelist, [{ source_pod: ['empire/xwing'] }]);
  assert.deepEqual(f.blacklist, [{ verdict: ['FORWARDED'] }]);
  assert.equal(f.flags, '--from-pod empire/xwing --not --verdict FORWARDED');
});

test('GetFlows: the relay\'s stream as NDJSON, a filter the relay refuses is a 400; leaving cancels the node\'s stream', async () => {
  let r = await post('observer.Observer/GetFlows', { number: '2' });
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /application\/x-ndjson/);
  const flows = lines<GetFlowsResponse__Output>(r.body).filter((x) => x.flow);
  assert.deepEqual(flows.map((x) => x.flow!.Summary), ['node1@20', 'node1@30']);
  assert.equal(flows[0]!.flow!.destination!.pod_name, 'deathstar-1');
  r = await post('observer.Observer/GetFlows', { number: '10', whitelist: [{ source_ip: ['10.0.0.300'] }] });
  assert.equal(r.status, 400, r.body);
  assert.match((JSON.parse(r.body) as ErrorReply__Output).error!.message, /source_ip/);

  // Follow, read one new flow, then go away: the relay and the node see the cancellation.
  const cancelledBefore = node1.cancelled;
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ui.port, method: 'POST', path: '/api/observer.Observer/GetFlows', headers: { 'content-type': 'application/json' } }, (res) => {
      assert.equal(res.statusCode, 200);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        // Since a second ago: the node's old flows are out, any flow is the new one.
        if (text.includes('"flow":')) {
          req.destroy();
          resolve();
        }
      });
      res.on('error', () => {});
      setTimeout(() => node1.emit(nowMs()), 300);
      setTimeout(() => reject(new Error(`no followed flow; got ${text.slice(0, 200)}`)), 5000);
    });
    req.on('error', () => {});
    req.end(JSON.stringify({ number: '0', follow: true, since: { seconds: String(Math.floor(Date.now() / 1000) - 1), nanos: 0 } }));
  });
  for (let i = 0; i < 50 && node1.cancelled === cancelledBefore; i++) await new Promise((res) => setTimeout(res, 50));
  assert.ok(node1.cancelled > cancelledBefore, 'the node stream was cancelled when the browser left');
});

test('WatchServiceMap: the graph now, as NDJSON', async () => {
  const r = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ui.port, method: 'POST', path: '/api/servicemap.ServiceMap/WatchServiceMap', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (text.includes('\n')) {
          req.destroy();
          resolve(text);
        }
      });
      res.on('error', () => {});
    });
    req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
    req.end(JSON.stringify({ interval_ms: 200 }));
  });
  const m = JSON.parse(r.split('\n')[0]!) as GetServiceMapResponse__Output;
  const ids = m.nodes.map((n) => n.id).sort();
  assert.ok(ids.includes('workload/empire/deathstar'), ids.join());
  assert.ok(ids.includes('workload/empire/tiefighter'), ids.join());
  const e = m.edges.find((x) => x.source_id === 'workload/empire/tiefighter' && x.destination_id === 'workload/empire/deathstar');
  assert.ok(e, JSON.stringify(m.edges));
  assert.equal(e!.port, 80);
});

test('ExportFlows: the flows as Hubble JSON lines (observe -o json)', async () => {
  const got = lines<GetFlowsResponse__Output>((await post('observer.Observer/GetFlows', { number: '3' })).body).filter((x) => x.flow);
  const r = await post('ui.Ui/ExportFlows', { flows: got });
  assert.equal(r.status, 200, r.body);
  const out = lines<{ flow: { time: string; source: { pod_name: string }; l4: { TCP: { destination_port: number } }; Summary: string }; node_name: string; time: string }>((JSON.parse(r.body) as ExportFlowsReply__Output).jsonl);
  assert.equal(out.length, 3);
  assert.match(out[0]!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/, 'times in RFC 3339, as protojson writes them');
  assert.equal(out[0]!.node_name, 'node1');
  assert.equal(out[0]!.flow.source.pod_name, 'tiefighter');
  assert.equal(out[0]!.flow.l4.TCP.destination_port, 80);
  assert.deepEqual(out.map((x) => x.flow.Summary), got.map((x) => x.flow!.Summary));
});

test('the relay away: 503 naming it; gone mid-stream: a trailer line; back: served again', async () => {
  // Mid-stream: a follow that is running when the relay stops.
  const trailer = new Promise<string>((resolve) => {
    const req = request({ host: '127.0.0.1', port: ui.port, method: 'POST', path: '/api/observer.Observer/GetFlows', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.end(JSON.stringify({ number: '1', follow: true }));
  });
  await new Promise((res) => setTimeout(res, 400));
  await relayServer.close();
  const text = await trailer;
  const last = JSON.parse(text.trim().split('\n').pop()!) as ErrorReply__Output;
  assert.match(last.error?.code ?? '', /BL_ERR_OBSERVER_(UNREACHABLE|REQUEST)/, text);

  const r = await post('observer.Observer/GetFlows', { number: '1' });
  assert.equal(r.status, 503, r.body);
  const e = (JSON.parse(r.body) as ErrorReply__Output).error!;
  assert.equal(e.code, 'BL_ERR_OBSERVER_UNREACHABLE');
  assert.match(e.message, /relay\.sock/);
  assert.equal((await post('ui.Ui/GetConfig', {})).status, 200, 'the UI itself keeps answering');

  relayServer = await startRelay();
  let ok = 0;
  for (let i = 0; i < 40 && ok !== 200; i++) {
    ok = (await post('observer.Observer/GetFlows', { number: '1' })).status;
    if (ok !== 200) await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(ok, 200, 'served again once the relay is back');
});

test('an app that was never built: a 500 that says how to build it', async () => {
  const empty = await startUiServer({ relay: relayAddress, port: 0, staticDir: join(dir, 'nothing'), relayTimeoutMs: 200 });
  try {
    const r = await http('GET', '/', undefined, {}, empty);
    assert.equal(r.status, 500);
    const e = (JSON.parse(r.body) as ErrorReply__Output).error!;
    assert.equal(e.code, 'BL_ERR_UI_NOT_BUILT');
    assert.match(e.hint, /make ui/);
  } finally {
    await empty.close();
  }
});

test('a port already taken: a usage error naming it', async () => {
  await assert.rejects(startUiServer({ relay: relayAddress, port: ui.port, staticDir: app }), /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
});
