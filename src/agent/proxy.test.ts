/**
 * The agent's driving of the node proxy against a real HAProxy 2.6 on
 * 127.0.0.1 (no root: a non-transparent configuration forwarding to a Node
 * HTTP server, started as the lab starts it: `haproxy -W -S <master socket>`):
 * a reload is acknowledged only once its new worker is up; a reload that does
 * not load is an error and the old worker keeps serving; an identity change
 * goes through the runtime API and changes which rule set a request gets,
 * without a reload; a restarted agent with the same files does not reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { logger } from '../common/log.js';
import type { RenderOptions } from '../l7/http/haproxy.js';
import type { L7Redirect } from '../policy/index.js';
import { NodeProxy, haproxyCommand, parseShowProc, proxyConfigFile, proxyRuleSet, reloadProxyAndWait, writeProxyFiles, type EndpointRedirects, type NodeProxyConfig } from './proxy.js';
import { freePort } from '../../test/lib/haproxy.js';

const hasHaproxy = spawnSync('sh', ['-c', 'command -v haproxy']).status === 0;
const PEER = 1234;

test('parseShowProc: the master\'s reload and failure counts, the current workers (not the old ones)', () => {
  const text = `#<PID>          <type>          <reloads>       <uptime>        <version>
15490           master          2 [failed: 1]   0d00h00m05s     2.6.12-1+deb12u4
# workers
15663           worker          1               0d00h00m02s     2.6.12-1+deb12u4
# old workers
15500           worker          2               0d00h00m09s     2.6.12-1+deb12u4
# programs
`;
  assert.deepEqual(parseShowProc(text), { reloads: 2, failed: 1, workers: [15663] });
  assert.throws(() => parseShowProc('Unknown command'), /unexpected answer to show proc/);
});

test('NodeProxy.setSection: a section waits for the first update, then is appended (sorted by name) with its files and re-renders; removing it renders without', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-proxy-section-'));
  try {
    const cfg: NodeProxyConfig = { stateDir: dir, masterSocket: join(dir, 'master.sock'), ingressPort: 15001, accessLogPort: 4245 };
    const p = new NodeProxy(cfg, logger('test', new PassThrough()), 5, 300);
    p.setSection('zeta', { config: 'frontend zeta\n', files: [{ path: join(dir, 'zeta.map'), content: 'z\n' }] });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(p.stats.renders, 0, 'nothing rendered before the first update');
    p.setSection('alpha', { config: 'frontend alpha\n', files: [] });
    p.update([], [], 1);
    await p.flush();
    const text = readFileSync(proxyConfigFile(dir), 'utf8');
    assert.ok(text.indexOf('# ---- section alpha ----\nfrontend alpha') > 0 && text.indexOf('frontend alpha') < text.indexOf('frontend zeta'), text.slice(-200));
    assert.equal(readFileSync(join(dir, 'zeta.map'), 'utf8'), 'z\n');
    const renders = p.stats.renders;
    p.setSection('alpha', { config: 'frontend alpha\n', files: [] });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(p.stats.renders, renders, 'the same section again renders nothing');
    p.setSection('zeta', undefined);
    await new Promise((r) => setTimeout(r, 30));
    await p.flush();
    p.stop();
    assert.ok(p.stats.renders > renders);
    assert.doesNotMatch(readFileSync(proxyConfigFile(dir), 'utf8'), /zeta/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NodeProxy: a proxy that cannot be reached acknowledges nothing, and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-proxy-unreachable-'));
  try {
    const cfg: NodeProxyConfig = { stateDir: dir, masterSocket: join(dir, 'master.sock'), ingressPort: 15001, accessLogPort: 4245 };
    const p = new NodeProxy(cfg, logger('test', new PassThrough()), 5, 300);
    const acked: number[] = [];
    p.onApplied = (g) => acked.push(g);
    p.update([{ ipv4: '10.0.1.5', l7: [redirect(80, 0, 'GET', '/a')] }], [], 7);
    await p.flush();
    p.stop();
    assert.deepEqual(acked, []);
    assert.match(p.stats.lastError ?? '', /ENOENT|ECONNREFUSED/);
    assert.equal(p.stats.reloads, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NodeProxy against HAProxy 2.6: acknowledged after the new worker is up; identities change in place (no reload) and pick the rule set; a failed reload keeps the old worker', { skip: !hasHaproxy && 'haproxy is not installed', timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bl-proxy-runtime-'));
  const server = await httpServer();
  let haproxy: ChildProcess | undefined;
  try {
    const port = await freePort();
    const cfg: NodeProxyConfig = { stateDir: dir, masterSocket: join(dir, 'master.sock'), ingressPort: port, accessLogPort: await freePort() };
    const render: RenderOptions = { transparent: false, bindAddress: '127.0.0.1', forwardTo: `127.0.0.1:${(server.address() as AddressInfo).port}` };
    // As the lab does: the proxy starts with the rules of no policy, the agent takes over.
    writeProxyFiles(cfg, proxyRuleSet(cfg, [], []), render);
    haproxy = spawn('haproxy', ['-W', '-db', '-S', cfg.masterSocket, '-f', proxyConfigFile(dir)], { stdio: 'ignore' });
    const first = await until(async () => (await haproxyCommand(cfg.masterSocket, 'show proc').then(parseShowProc, () => undefined))?.workers[0]);

    const p = new NodeProxy(cfg, logger('test', new PassThrough()), 5, 5000, render);
    const acked: number[] = [];
    p.onApplied = (g) => acked.push(g);
    // Identity PEER may GET /a; nobody else has a rule set (denied). 127.0.0.1 is not in the map yet: world.
    const eps: EndpointRedirects[] = [{ ipv4: '127.0.0.1', l7: [redirect(port, PEER, 'GET', '/a')] }];
    p.update(eps, [], 1);
    await p.flush();
    assert.equal(p.stats.lastError, undefined);
    assert.deepEqual(acked, [1], 'acknowledged once the reload took');
    assert.equal(p.stats.reloads, 1);
    const afterReload = parseShowProc(await haproxyCommand(cfg.masterSocket, 'show proc'));
    assert.equal(afterReload.reloads, 1);
    assert.ok(afterReload.workers.length === 1 && afterReload.workers[0] !== first, 'a new worker runs the configuration');
    assert.equal(await get(port, '/a'), 403, 'the client is world: no rule set, denied');

    // The ipcache gives 127.0.0.1 identity PEER: the map is swapped in the running worker.
    p.update(eps, [{ prefix: '127.0.0.1/32', identity: PEER }, { prefix: '10.0.0.0/8', identity: 77 }], 1);
    await p.flush();
    assert.deepEqual([p.stats.reloads, p.stats.mapUpdates, acked], [1, 1, [1, 1]]);
    const inPlace = parseShowProc(await haproxyCommand(cfg.masterSocket, 'show proc'));
    assert.deepEqual([inPlace.reloads, inPlace.workers], [1, afterReload.workers], 'no reload, the same worker');
    assert.equal(await get(port, '/a'), 200, 'the client is now PEER: its rule set allows GET /a');
    assert.equal(await get(port, '/b'), 403, 'and only that');
    const shown = await haproxyCommand(join(dir, 'haproxy.sock'), `show map ${join(dir, 'identities.map')}`);
    assert.match(shown, /127\.0\.0\.1\/32 1234/);
    assert.match(shown, /10\.0\.0\.0\/8 77/);

    // The identity goes again: denied again, still without a reload.
    p.update(eps, [{ prefix: '10.0.0.0/8', identity: 77 }], 2);
    await p.flush();
    assert.deepEqual([p.stats.reloads, p.stats.mapUpdates, acked], [1, 2, [1, 1, 2]]);
    assert.equal(await get(port, '/a'), 403);

    // New rules: a reload.
    p.update([{ ipv4: '127.0.0.1', l7: [redirect(port, 0, 'GET', '/b')] }], [{ prefix: '10.0.0.0/8', identity: 77 }], 3);
    await p.flush();
    assert.deepEqual([p.stats.reloads, acked.at(-1)], [2, 3]);
    assert.equal(await get(port, '/b'), 200);

    // A restarted agent rendering the same files: nothing to reload (it would close idle proxied
    // connections), acknowledged at once.
    const restarted = new NodeProxy(cfg, logger('test', new PassThrough()), 5, 5000, render);
    const acked2: number[] = [];
    restarted.onApplied = (g) => acked2.push(g);
    restarted.update([{ ipv4: '127.0.0.1', l7: [redirect(port, 0, 'GET', '/b')] }], [{ prefix: '10.0.0.0/8', identity: 77 }], 1);
    await restarted.flush();
    assert.deepEqual([restarted.stats.reloads, acked2], [0, [1]]);
    assert.equal(parseShowProc(await haproxyCommand(cfg.masterSocket, 'show proc')).reloads, 2, 'the master was not asked again');

    // A configuration that does not load: the reload is an error, the old worker keeps serving.
    const before = parseShowProc(await haproxyCommand(cfg.masterSocket, 'show proc'));
    writeFileSync(proxyConfigFile(dir), 'global\n  no-such-keyword\n');
    await assert.rejects(reloadProxyAndWait(cfg.masterSocket, 5000), /the reload failed/);
    const kept = parseShowProc(await haproxyCommand(cfg.masterSocket, 'show proc'));
    assert.deepEqual(kept.workers, before.workers);
    assert.equal(await get(port, '/b'), 200, 'the previous configuration still serves');
    p.stop();
  } finally {
    if (haproxy?.pid) {
      haproxy.kill('SIGTERM');
      await new Promise((r) => haproxy!.once('exit', r));
    }
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function redirect(port: number, identity: number, method: string, path: string): L7Redirect {
  return { direction: 'ingress', port, portPrefixLen: 16, identity, protocol: 6, parser: 'http', proxyPort: port, http: [{ origin: { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'p' }, rules: [{ method, path }] }] };
}

function httpServer(): Promise<Server> {
  const s = createServer((_req, res) => res.end('ok\n'));
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(f: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
