/**
 * Security identities in the agents and the datapath, on a real 2-node lab:
 * pods with equal labels on both nodes get one identity, other labels
 * another; every node's bl_ipcache holds every pod IP with its identity and
 * tunnel endpoint; bl_lxc carries the identity; `identity list|get` show
 * them; deleting the last pod of an identity drops the node's reference; the
 * monitor's trace events carry the identities.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { run } from '../../src/common/exec.js';
import type { EndpointModel } from '../../src/agent/types.js';
import type { EndpointMapRow, IpcacheRow } from '../../src/agent/datapath.js';
import { listPods } from '../../src/lab/pods.js';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = <T>(args: string[]) => JSON.parse(beelineOk([...args, '-o', 'json']).stdout) as T;

async function until<T>(what: string, fn: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(200);
  }
}

test('pods get cluster-wide identities, published in every node\'s ipcache and endpoint map', { timeout: 240_000 }, async (t) => {
  const lab = 'idag';
  t.after(() => beeline(['lab', 'down', '--name', lab, '-q']));
  const up = beeline(['lab', 'up', '--nodes', '2', '--name', lab, '--routing', 'tunnel', '-q']);
  assert.equal(up.code, 0, up.stderr);
  beelineOk(['lab', 'pod', 'add', 'node1', 'w1', '--label', 'app=web', '--lab', lab]);
  beelineOk(['lab', 'pod', 'add', 'node2', 'w2', '--label', 'app=web', '--lab', lab]);
  beelineOk(['lab', 'pod', 'add', 'node2', 'd1', '--label', 'app=db', '--lab', lab]);
  const pods = listPods(lab);
  const ipOf = (name: string) => pods.find((p) => p.name === name)!.ip!;

  type Ep = EndpointModel & { node: string };
  const eps = await until('every endpoint has an allocated identity', () => {
    // The test's own pods (the lab's cluster DNS pods in kube-system have endpoints too).
    const l = json<Ep[]>(['endpoint', 'list', '--lab', lab]).filter((e) => e.pod?.namespace !== 'kube-system');
    return l.length === 3 && l.every((e) => e.identity >= 256) ? l : undefined;
  });
  const byPod = (name: string) => eps.find((e) => e.pod?.name === name)!;
  const web = byPod('w1').identity;
  assert.equal(byPod('w2').identity, web, 'equal labels on both nodes: one identity');
  assert.notEqual(byPod('d1').identity, web, 'other labels: another identity');
  assert.ok(byPod('w1').identityLabels?.includes('k8s:app=web'));
  assert.ok(byPod('w1').identityLabels?.includes('k8s:io.kubernetes.pod.namespace=default'));

  // identity list: the reserved ones and both allocated; Cilium's text layout.
  const ids = json<{ id: number; labels: string[] }[]>(['identity', 'list', '--lab', lab]);
  assert.deepEqual(ids.find((i) => i.id === 1)?.labels, ['reserved:host']);
  assert.ok(ids.find((i) => i.id === web)?.labels.includes('k8s:app=web'));
  const txt = beelineOk(['identity', 'list', '--lab', lab]).stdout;
  assert.match(txt, /^ID\s+LABELS\n/);
  assert.match(txt, new RegExp(`\\n${web}\\s+k8s:app=web\\n`));
  const got = json<{ id: number; references: Record<string, number> }>(['identity', 'get', String(web), '--lab', lab]);
  assert.deepEqual(got.references, { node1: 1, node2: 1 });

  // bl_ipcache of both nodes: every pod IP with its identity, remote ones behind their node.
  const status = json<{ node: string; nodeIP: string }[]>(['status', '--lab', lab]);
  const nodeIP = (n: string) => status.find((s) => s.node === n)!.nodeIP;
  const want = [
    { ip: ipOf('w1'), node: 'node1', identity: web },
    { ip: ipOf('w2'), node: 'node2', identity: web },
    { ip: ipOf('d1'), node: 'node2', identity: byPod('d1').identity },
  ];
  await until('both ipcaches hold every pod', () => {
    const maps = json<{ node: string; rows: IpcacheRow[] }[]>(['bpf', 'ipcache', 'list', '--lab', lab]);
    for (const m of maps) {
      for (const w of want) {
        const row = m.rows.find((r) => r.prefix === `${w.ip}/32`);
        const tunnel = w.node === m.node ? '0.0.0.0' : nodeIP(w.node);
        if (!row || row.identity !== w.identity || row.tunnelEndpoint !== tunnel) throw new Error(`${m.node}: ${w.ip} is ${JSON.stringify(row)}`);
      }
      // The remote pod CIDR keeps its tunnel endpoint, now as world; no identity-0 entries remain.
      if (m.rows.some((r) => r.identity === 0)) throw new Error(`${m.node}: identity 0 in ${JSON.stringify(m.rows)}`);
      if (!m.rows.some((r) => r.prefix === '0.0.0.0/0' && r.identity === 2)) throw new Error(`${m.node}: no world entry`);
    }
    return true;
  });

  // bl_lxc carries the identity.
  const lxc = json<{ node: string; rows: EndpointMapRow[] }[]>(['bpf', 'endpoint', 'list', '--lab', lab]);
  assert.equal(lxc.find((n) => n.node === 'node1')!.rows.find((r) => r.ip === ipOf('w1'))?.identity, web);
  assert.equal(lxc.find((n) => n.node === 'node2')!.rows.find((r) => r.ip === ipOf('d1'))?.identity, byPod('d1').identity);

  // Traffic still flows, and the monitor's trace events carry the real identities.
  const w1 = pods.find((p) => p.name === 'w1')!;
  const mon = spawn(beelineBin, ['monitor', '--lab', lab, '-o', 'json', '--type', 'trace', '--timeout', '5s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  mon.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const done = new Promise((r) => mon.on('close', r));
  await sleep(1500);
  const ping = run('ip', ['netns', 'exec', w1.netns, 'ping', '-c', '2', '-W', '2', ipOf('d1')], { allowFailure: true, timeoutMs: 20_000 });
  assert.equal(ping.code, 0, `w1 pings d1: ${ping.stdout}${ping.stderr}`);
  await done;
  assert.ok(
    out.split('\n').some((l) => l.includes(`"srcLabel":${web}`) && l.includes(`"dstLabel":${byPod('d1').identity}`)),
    `a trace event ${web}->${byPod('d1').identity}:\n${out.slice(0, 2000)}`,
  );

  // Deleting the last pod of the db identity drops node2's reference, and its ipcache entry everywhere.
  const dbId = byPod('d1').identity;
  beelineOk(['lab', 'pod', 'del', 'd1', '--lab', lab]);
  await until('node2 no longer references the db identity', () => {
    const refs = json<{ node: string; id: number; references: number }[]>(['identity', 'references', '--lab', lab]);
    return refs.some((r) => r.id === dbId) ? undefined : true;
  });
  const after = json<{ references: Record<string, number> }>(['identity', 'get', String(dbId), '--lab', lab]);
  assert.deepEqual(after.references, {});
  await until('d1 left both ipcaches', () => {
    const maps = json<{ node: string; rows: IpcacheRow[] }[]>(['bpf', 'ipcache', 'list', '--lab', lab]);
    return maps.every((m) => !m.rows.some((r) => r.prefix === `${ipOf('d1')}/32`)) ? true : undefined;
  });
  // The web identity is still referenced by both nodes.
  assert.deepEqual(json<{ references: Record<string, number> }>(['identity', 'get', String(web), '--lab', lab]).references, { node1: 1, node2: 1 });
});
