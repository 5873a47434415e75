/**
 * `lab pod add|list|del` with real namespaces and the real plugin, against a
 * fake agent: a lab state written by hand around one node namespace, so the
 * pod path is tested without a running lab. cni.test.ts repeats it in a real lab.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { CniError, PodNotFoundError } from '../../src/common/errors.js';
import { listNetns } from '../../src/lab/netns.js';
import { addPod, deletePod, listPods, nodeConflistPath, readPod } from '../../src/lab/pods.js';
import { planLab } from '../../src/lab/topology.js';
import type { LabState } from '../../src/lab/state.js';
import { registerLabPod } from '../../src/cli/labpod.js';
import { fakeAgent } from '../lib/fake-agent.js';
import { IpLinks } from '../../src/cni/link.js';
import { addNetns, addrsIn, delNetnsIfPresent, linkNames } from '../lib/cni.js';
import { until } from '../lib/wait.js';

test('lab pod add/list/del run the plugin the kubelet way; failures leave nothing behind', async (t) => {
  const lab = `test-${randomBytes(2).toString('hex')}`;
  const run = mkdtempSync(join(tmpdir(), 'bl-test-run-'));
  const prevRun = process.env.BEELINE_RUN_DIR;
  process.env.BEELINE_RUN_DIR = run;
  t.after(() => {
    for (const ns of listNetns().filter((n) => n.startsWith(`bl-${lab}-`))) delNetnsIfPresent(ns);
    if (prevRun === undefined) delete process.env.BEELINE_RUN_DIR;
    else process.env.BEELINE_RUN_DIR = prevRun;
    rmSync(run, { recursive: true, force: true });
  });
  const plan = planLab(lab, 1);
  const node = plan.nodes[0]!;
  // The plugin's links made in the node's namespace, as the real agent (which runs there) makes them.
  const agent = await fakeAgent(t, { links: new IpLinks({ nodeNetns: `/run/netns/${node.netns}` }) });
  addNetns(node.netns);
  const dir = join(run, 'labs', lab);
  mkdirSync(dir, { recursive: true });
  const state = { version: 1, plan, phase: 'up', createdAt: new Date().toISOString(), dir, netns: [node.netns], agents: { [node.name]: { socket: agent.socket, process: { role: 'agent', pid: 0, starttime: '0', cmd: [], log: '' }, config: '', log: '' } } } as unknown as LabState;
  writeFileSync(join(dir, 'lab.json'), JSON.stringify(state));

  const web = await addPod(lab, { node: node.name, name: 'web', labels: { app: 'web' } });
  assert.equal(web.netns, `bl-${lab}-p-default-web`);
  assert.equal(web.phase, 'running');
  assert.equal(web.ip, '10.0.1.2');
  assert.deepEqual(addrsIn(web.netns, 'eth0'), ['10.0.1.2/32']);
  assert.deepEqual(readPod(lab, 'web'), web);
  const ep = agent.endpoints.get(`${web.containerID}/eth0`)!;
  assert.deepEqual(ep.pod, { namespace: 'default', name: 'web' });
  assert.deepEqual(ep.labels, { app: 'web' });
  assert.equal(ep.netns, `/run/netns/${web.netns}`);
  const conflist = JSON.parse(readFileSync(nodeConflistPath(lab, node.name), 'utf8')) as { plugins: { agentSocket: string }[] };
  assert.equal(conflist.plugins[0]!.agentSocket, agent.socket, "the node's conflist names its agent socket");

  // Through the CLI: a second pod, listed.
  const cli = new Command('lab');
  registerLabPod(cli);
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
  try {
    await cli.parseAsync(['pod', 'add', node.name, 'db', '--namespace', 'data', '--label', 'tier=db', '--lab', lab], { from: 'user' });
    await cli.parseAsync(['pod', 'list', '--lab', lab, '-o', 'json'], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  assert.match(out[0]!, new RegExp(`^pod/db created on ${node.name}: 10\\.0\\.1\\.3 \\(netns bl-${lab}-p-data-db\\)\\n$`));
  assert.deepEqual((JSON.parse(out[1]!) as { name: string; ip: string }[]).map((p) => [p.name, p.ip]), [
    ['db', '10.0.1.3'],
    ['web', '10.0.1.2'],
  ]);

  // A failing ADD: the plugin rolls back, the lab removes the namespace and the record.
  agent.failNext.set('PUT /v1/endpoints', { status: 500, code: 'BL_ERR_DATAPATH', message: 'injected' });
  await assert.rejects(addPod(lab, { node: node.name, name: 'bad' }), (e: CniError) => e instanceof CniError && e.cniCode === 103 && /lab pod add bad: CNI ADD on node1: CNI error 103/.test(e.message));
  assert.equal(readPod(lab, 'bad'), undefined);
  assert.equal(existsSync(`/run/netns/bl-${lab}-p-default-bad`), false);
  assert.equal(agent.pool.used, 2);

  await deletePod(lab, 'web');
  assert.equal(readPod(lab, 'web'), undefined);
  assert.equal(existsSync(`/run/netns/${web.netns}`), false);
  assert.equal(agent.endpoints.has(`${web.containerID}/eth0`), false);
  await assert.rejects(deletePod(lab, 'web'), PodNotFoundError);

  // DEL with the agent gone keeps the pod for a retry; --force removes it anyway.
  await agent.stop();
  await assert.rejects(deletePod(lab, 'db'), (e: CniError) => e instanceof CniError && e.cniCode === 11 && /--force/.test(e.hint ?? ''));
  assert.equal(readPod(lab, 'db')?.phase, 'deleting');
  await deletePod(lab, 'db', { force: true });
  assert.deepEqual(listPods(lab), []);
  assert.deepEqual(listNetns().filter((n) => n.startsWith(`bl-${lab}-p-`)), []);
  // A veth whose peer's namespace was deleted goes when the kernel's namespace cleanup (a work queue) has run.
  await until('the veths gone with the DEL (or the namespace)', () => linkNames(node.netns).filter((n) => n.startsWith('lxc')).length === 0, 5_000, 100);
});
