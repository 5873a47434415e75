/**
 * The store goes away and comes back (issue 4's acceptance): while etcd is
 * stopped for 10 s no pod loses connectivity, agents report the store as
 * unreachable, and what is created right after it returns reaches every node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { AgentStatus } from '../../src/agent/types.js';
import type { IpcacheRow } from '../../src/agent/datapath.js';
import { listPods } from '../../src/lab/pods.js';
import { beeline, beelineOk } from '../lib/cli.js';

const LAB = 'etcdout';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function statuses(): AgentStatus[] {
  return JSON.parse(beeline(['status', '--lab', LAB, '-o', 'json']).stdout || '[]') as AgentStatus[];
}

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return;
    await sleep(250);
  }
  assert.fail(`${what}: not within ${timeoutMs / 1000}s`);
}

test('a 10 s etcd outage: traffic flows, status says unreachable, objects made after it reach every node', { timeout: 180_000 }, async (t) => {
  t.after(() => beeline(['lab', 'down', '--name', LAB, '-q']));
  assert.equal(beeline(['lab', 'up', '--nodes', '2', '--name', LAB, '-q']).code, 0);
  beelineOk(['lab', 'pod', 'add', '--lab', LAB, 'node1', 'p1', '--label', 'app=client']);
  beelineOk(['lab', 'pod', 'add', '--lab', LAB, 'node2', 'p2', '--label', 'app=server']);
  const [p1, p2] = ['p1', 'p2'].map((n) => listPods(LAB).find((p) => p.name === n)!);

  // 25 s of pings, 4 a second, across nodes, spanning the whole outage.
  const ping = spawn('ip', ['netns', 'exec', p1!.netns, 'ping', '-c', '100', '-i', '0.25', '-W', '1', p2!.ip!], { stdio: ['ignore', 'pipe', 'pipe'] });
  let pingOut = '';
  ping.stdout.setEncoding('utf8').on('data', (d: string) => (pingOut += d));
  const pingDone = new Promise<number>((r) => ping.on('close', (c) => r(c ?? 1)));
  await sleep(2000);

  beelineOk(['lab', 'etcd', 'stop', '--lab', LAB]);
  const stoppedAt = Date.now();
  await until('both agents report the kvstore unreachable', () => {
    const s = statuses();
    return s.length === 2 && s.every((n) => n.kvstore.state === 'unreachable' && n.health === 'degraded');
  }, 8000);
  const st = beeline(['status', '--lab', LAB, '--node', 'node1']);
  assert.notEqual(st.code, 0, 'status exits non-zero while degraded');
  assert.match(st.stdout, /KVStore:\s+unreachable/);

  await sleep(Math.max(0, 10_000 - (Date.now() - stoppedAt)));
  beelineOk(['lab', 'etcd', 'start', '--lab', LAB]);
  await until('both agents report the kvstore ok again', () => statuses().every((n) => n.kvstore.state === 'ok' && n.health === 'ok'), 15_000);

  // Right after: a new pod (new labels, so a new identity) and an object applied through the CLI.
  beelineOk(['lab', 'pod', 'add', '--lab', LAB, 'node1', 'p3', '--label', 'app=late']);
  const p3 = listPods(LAB).find((p) => p.name === 'p3')!;
  const ipcache = () => JSON.parse(beelineOk(['bpf', 'ipcache', 'list', '--lab', LAB, '-o', 'json']).stdout) as { node: string; rows: IpcacheRow[] }[];
  const madeAt = Date.now();
  await until('the new pod is in both nodes\' ipcache with its own identity', () => {
    const ids = ipcache().map((n) => n.rows.find((r) => r.prefix === `${p3.ip}/32`)?.identity ?? 0);
    return ids.length === 2 && ids[0]! >= 256 && ids[0] === ids[1];
  }, 30_000);
  t.diagnostic(`the new pod's identity reached both nodes ${((Date.now() - madeAt) / 1000).toFixed(1)} s after it was made`);
  assert.equal(beeline(['lab', 'pod', 'exec', '--lab', LAB, 'p3', '--', 'ping', '-c', '1', '-W', '2', p2!.ip!]).code, 0);

  assert.equal(await pingDone, 0, pingOut.slice(-300));
  const loss = /(\d+)% packet loss/.exec(pingOut)?.[1];
  assert.equal(loss, '0', `no packet lost during the outage:\n${pingOut.split('\n').slice(-3).join('\n')}`);
});
