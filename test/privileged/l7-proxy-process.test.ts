/**
 * Issue 12, deliverable 2: the node proxy is its own supervised process. On
 * a 2-node lab with Cilium's Star Wars demo (its L7 policy) and a plain TCP
 * server behind an L4-only policy (no http rules: never redirected), a raw
 * client in the tiefighter pod (test/lib/pod-http-client.ts) holds
 *   - `l7`: a keep-alive connection to a deathstar through its node's proxy,
 *   - `other`: one to the other deathstar through the other node's proxy
 *     (when the deathstars are on both nodes),
 *   - `l4`: a long-lived connection to the L4-only server;
 * then
 *   1. the deathstar node's agent is killed by its pid (agent.pid; the
 *      supervisor restarts it): `l7` answers a request while the agent is
 *      down and after it is back, on the same connection; `l4` never notices;
 *   2. that node's HAProxy master is killed by its pid (proxy.pid; the
 *      supervisor restarts it): `l7` (held by it) is cut, `other` and `l4`
 *      are not, and new connections are served again within a second of the
 *      new proxy process starting (measured from the pod: a new connection
 *      every 20 ms until one is answered).
 * Root; run under `flock /tmp/beeline-heavy.lock`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beeline } from '../lib/cli.js';
import { starWarsLab } from '../lib/starwars.js';
import { until, sleep } from '../lib/wait.js';
import { PodHttpClient } from '../lib/pod-http.js';
import { landing } from '../lib/http-probes.js';
import { labDir } from '../../src/lab/state.js';

const LAB = 'l7proc';
const env = { BEELINE_LAB: LAB };
const ALLOWED = landing('Content-Length: 0\r\n', '');
const PLAIN_PORT = 9000;

/** A plain TCP server answering every read with a tiny HTTP response, behind an L4-only policy. */
const PLAIN = `apiVersion: v1
kind: Pod
metadata: {name: plain, namespace: empire, labels: {org: empire, class: plain}}
spec:
  containers:
  - name: c
    image: busybox
    command: ${JSON.stringify([process.execPath, '-e', `require('net').createServer((s) => s.on('data', () => s.write('HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n')).on('error', () => {})).listen(${PLAIN_PORT})`])}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: plain-l4, namespace: empire}
spec:
  endpointSelector: {matchLabels: {class: plain}}
  ingress:
  - fromEndpoints: [{matchLabels: {org: empire}}]
    toPorts: [{ports: [{port: "${PLAIN_PORT}", protocol: TCP}]}]
`;


const nodeFile = (node: string, f: string) => join(labDir(LAB), 'nodes', node, f);
function readPid(node: string, f: string): number | undefined {
  try {
    const n = Number(readFileSync(nodeFile(node, f), 'utf8').trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
test('the node proxy is its own supervised process: agent restarts never cut proxied connections; a proxy restart cuts only its own, new ones served within a second; L4 traffic never notices', { timeout: 300_000 }, async (t) => {
  t.after(() => { if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', LAB, '-q']); });
  const all = await starWarsLab(LAB, PLAIN);
  const tie = all.find((p) => p.name === 'tiefighter')!;
  const deathstars = all.filter((p) => p.name.startsWith('deathstar-'));
  const target = deathstars.find((p) => p.node !== tie.node) ?? deathstars[0]!;
  const other = deathstars.find((p) => p.node !== target.node);
  const plain = all.find((p) => p.name === 'plain')!;
  const node = target.node;
  t.diagnostic(`tiefighter on ${tie.node}; l7 → ${target.name} ${target.ip} (${node}); other → ${other ? `${other.name} ${other.ip} (${other.node})` : 'none: both deathstars on one node'}; l4 → plain ${plain.ip}:${PLAIN_PORT} (${plain.node})`);

  const client = new PodHttpClient(LAB, 'empire', 'tiefighter');
  t.after(() => client.close());
  await until('the L7 policy enforced', async () => {
    const [a, d] = await client.batch(target.ip, 80, [{ name: 'a', steps: [ALLOWED], waitMs: 2000 }, { name: 'd', steps: ['PUT /v1/exhaust-port HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'], waitMs: 2000 }]);
    return a!.statuses[0] === 200 && d!.statuses[0] === 403;
  }, 60_000, 500);

  const ok = async (id: string, what: string) => {
    const r = await client.request(id, id === 'l4' ? 'ping\n' : ALLOWED, 5000);
    assert.equal(r.status, 200, `${what}: ${id} answered ${JSON.stringify(r)}`);
    assert.equal(r.closed, false, `${what}: ${id} still open`);
  };
  for (const [id, ip, port] of [['l7', target.ip, 80], ['l4', plain.ip, PLAIN_PORT], ...(other ? [['other', other.ip, 80]] : [])] as [string, string, number][]) {
    const o = await client.open(id, ip, port);
    assert.ok(o.localPort, `open ${id}: ${o.error}`);
    await ok(id, 'before');
  }

  await t.test("an agent restart does not cut the proxied keep-alive connection, nor the L4 one", async () => {
    const agent = readPid(node, 'agent.pid');
    assert.ok(agent && alive(agent), `${node}'s agent pid`);
    const proxy = readPid(node, 'proxy.pid')!;
    process.kill(agent, 'SIGKILL');
    const t0 = Date.now();
    // While the agent is down (the supervisor waits 500 ms before restarting it): the proxy serves.
    await ok('l7', 'agent down');
    const downMs = Date.now() - t0;
    const next = await until(`${node}'s agent restarted`, () => {
      const p = readPid(node, 'agent.pid');
      return p && p !== agent && alive(p) ? p : undefined;
    }, 30_000, 50);
    // The new agent has started its endpoints and policy again (it answers status).
    await until(`${node}'s agent ready`, () => beeline(['lab', 'status', '--name', LAB], env).stdout.split('\n').some((l) => l.startsWith(node) && /\bok\b/.test(l) && l.includes(String(next))), 60_000, 500);
    await sleep(1000); // the new agent renders the proxy's configuration again (a reload if it changed)
    await ok('l7', 'agent back');
    await ok('l4', 'agent back');
    if (other) await ok('other', 'agent back');
    assert.equal(readPid(node, 'proxy.pid'), proxy, 'the proxy was not restarted with the agent');
    t.diagnostic(`agent ${agent} killed; the l7 connection answered ${downMs} ms later with the agent down; agent ${next} back; the same connections answered after`);
  });

  await t.test('a proxy restart cuts only its own connections; new connections served within a second of the new proxy starting', async () => {
    const master = readPid(node, 'proxy.pid');
    assert.ok(master && alive(master), `${node}'s proxy pid`);
    const workers = children(master);
    assert.ok(workers.length >= 1, 'the proxy has a worker');
    const tKill = Date.now();
    process.kill(master, 'SIGKILL');
    const next = await until(`${node}'s proxy restarted`, () => {
      const p = readPid(node, 'proxy.pid');
      return p && p !== master && alive(p) ? p : undefined;
    }, 30_000, 5);
    // From the moment the new proxy process is seen, the pod tries new connections (20 ms apart, 300 ms each).
    const polling = client.poll(target.ip, 80, ALLOWED, 200, { everyMs: 20, attemptMs: 300, timeoutMs: 20_000 });
    // The supervisor writes the pid file as it spawns the new proxy, and it was polled every 5 ms:
    // "back" is when it was seen (/proc's start time is no better: btime has whole seconds).
    const tStart = Date.now();
    const served = await polling;
    assert.ok(served.ok, `a new connection served after the restart: ${JSON.stringify(served)}`);
    const fromStart = served.at! - tStart;
    const fromKill = served.at! - tKill;
    const oldWorkers = workers.filter(alive);
    // The killed master's worker must not linger (it would hold the listening port beside the new one).
    const gone = await until('the killed proxy\'s workers gone', () => (workers.some(alive) ? undefined : Date.now()), 35_000, 20).catch(() => undefined);
    t.diagnostic(`the killed master's workers ${workers.join(',')} ${gone ? `exited ${gone - tKill} ms after the kill` : 'still alive 35 s after the kill'}`);
    assert.ok(gone, `the killed master's workers ${workers.join(',')} exit`);
    t.diagnostic(`proxy master ${master} (workers ${workers.join(',')}) killed; new master ${next} started ${Math.round(tStart - tKill)} ms after the kill; a new connection was served ${Math.round(fromStart)} ms after the new proxy started (${Math.round(fromKill)} ms after the kill, ${served.attempts} attempts); old workers still alive: ${oldWorkers.join(',') || 'none'}`);
    // The connection the killed proxy held: cut with its worker (a request on it gets no answer).
    const cut = await client.request('l7', ALLOWED, 3000);
    t.diagnostic(`the l7 connection held by the killed proxy: ${cut.status === 200 ? 'still served (its worker outlived the master)' : `cut (${cut.closed ? 'closed' : 'no answer'})`}`);
    assert.ok(cut.status !== 200 || oldWorkers.length > 0, 'a connection of the killed proxy answered although its worker is gone');
    // The others never noticed.
    await ok('l4', 'proxy restarted');
    if (other) await ok('other', 'proxy restarted (the other node\'s proxy)');
    assert.ok(fromStart <= 1000, `new connections served ${Math.round(fromStart)} ms after the proxy was back (≤ 1000 ms)`);
    // A new keep-alive connection works as before.
    assert.ok((await client.open('l7b', target.ip, 80)).localPort);
    await ok('l7b', 'a new connection after the restart');
  });
});
