import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../common/errors.js';
import { registerLabPod } from '../cli/labpod.js';
import { planLab } from './topology.js';
import { cniEnv, checkDnsLabel, listPods, parseLabel, podNetnsName, renderNodeConflist, type PodRecord } from './pods.js';
import type { LabState } from './state.js';

test('pod names and namespaces are DNS labels; the netns name carries lab, namespace and name', () => {
  for (const ok of ['web', 'web-0', 'a', 'x'.repeat(63)]) checkDnsLabel(ok, 'pod name');
  for (const bad of ['', 'Web', '-web', 'web-', 'a_b', 'a.b', 'x'.repeat(64)]) assert.throws(() => checkDnsLabel(bad, 'pod name'), UsageError, bad);
  assert.equal(podNetnsName('demo', 'default', 'web'), 'bl-demo-p-default-web');
  // The longest possible name still fits a file name under /run/netns.
  assert.ok(podNetnsName('x'.repeat(12), 'n'.repeat(63), 'p'.repeat(63)).length < 255);
});

test('labels: key=value with Kubernetes rules', () => {
  assert.deepEqual(parseLabel('app=web'), ['app', 'web']);
  assert.deepEqual(parseLabel('app.kubernetes.io/name=web'), ['app.kubernetes.io/name', 'web']);
  assert.deepEqual(parseLabel('tier='), ['tier', '']);
  for (const bad of ['app', '=web', 'app=we b', 'a b=c', 'Bad_Prefix/x=y', '-a=b']) assert.throws(() => parseLabel(bad), UsageError, bad);
});

test('the CNI environment is what a kubelet passes', () => {
  const env = cniEnv('ADD', { containerID: 'abc', netnsPath: '/run/netns/bl-demo-p-default-web', ifname: 'eth0', namespace: 'default', name: 'web', uid: 'u-1' });
  assert.equal(env.CNI_COMMAND, 'ADD');
  assert.equal(env.CNI_NETNS, '/run/netns/bl-demo-p-default-web');
  assert.equal(env.CNI_ARGS, 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u-1');
  assert.match(env.CNI_PATH!, /\/bin$/);
});

function fakeLab(t: { after: (fn: () => void) => void }): { dir: string; state: LabState } {
  const run = mkdtempSync(join(tmpdir(), 'bl-pods-'));
  const prev = process.env.BEELINE_RUN_DIR;
  process.env.BEELINE_RUN_DIR = run;
  t.after(() => {
    if (prev === undefined) delete process.env.BEELINE_RUN_DIR;
    else process.env.BEELINE_RUN_DIR = prev;
    rmSync(run, { recursive: true, force: true });
  });
  const dir = join(run, 'labs', 'demo');
  const state = {
    version: 1,
    plan: planLab('demo', 1),
    phase: 'up',
    createdAt: new Date().toISOString(),
    dir,
    netns: [],
    agents: { node1: { socket: join(dir, 'nodes', 'node1', 'agent.sock'), process: { role: 'agent', pid: 1, starttime: '1', cmd: [], log: '' }, config: '', log: '' } },
  } as unknown as LabState;
  mkdirSync(join(dir, 'pods'), { recursive: true });
  writeFileSync(join(dir, 'lab.json'), JSON.stringify(state));
  return { dir, state };
}

test("a node's conflist points at its own agent socket", (t) => {
  const { dir, state } = fakeLab(t);
  assert.deepEqual(renderNodeConflist(state, 'node1').plugins, [{ type: 'beeline-cni', agentSocket: join(dir, 'nodes', 'node1', 'agent.sock'), capabilities: { ips: true, mac: true } }]);
  assert.throws(() => renderNodeConflist(state, 'node9'), /node node9 has no agent/);
});

test('lab pod list reads the records; bad labels are usage errors before anything runs', async (t) => {
  const { dir } = fakeLab(t);
  const rec: PodRecord = {
    version: 1, name: 'web', namespace: 'default', node: 'node1', netns: 'bl-demo-p-default-web', netnsPath: '/run/netns/bl-demo-p-default-web',
    containerID: 'c'.repeat(64), uid: 'u', ifname: 'eth0', labels: { app: 'web' }, phase: 'running', createdAt: new Date().toISOString(), ip: '10.0.1.2',
  };
  writeFileSync(join(dir, 'pods', 'web.json'), JSON.stringify(rec));
  assert.deepEqual(listPods('demo'), [rec]);

  const lab = new Command('lab').exitOverride();
  registerLabPod(lab);
  lab.commands.forEach((c) => c.exitOverride().commands.forEach((s) => s.exitOverride()));
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
  try {
    await lab.parseAsync(['pod', 'list', '-o', 'json'], { from: 'user' });
    await lab.parseAsync(['pod', 'list', '-o', 'wide'], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  assert.deepEqual(JSON.parse(out[0]!), [rec]);
  assert.match(out[1]!, /^NAME\s+NAMESPACE\s+NODE\s+IP\s+STATUS\s+AGE\s+NETNS\s+CONTAINER-ID\s+LABELS\nweb\s+default\s+node1\s+10\.0\.1\.2\s+Running\s+\d+s\s+bl-demo-p-default-web\s+cccccccccccc\s+app=web\n$/);
  await assert.rejects(lab.parseAsync(['pod', 'add', 'node1', 'db', '--label', 'bad label'], { from: 'user' }), UsageError);
});
