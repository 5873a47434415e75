/**
 * Deleting a pod frees what it held (issue 4): its address, its CNI state
 * (veth, endpoint), its cgroup, and — when it was the identity's last user —
 * its security identity, which the lab's operator garbage-collects after the
 * grace period.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AgentStatus, EndpointModel } from '../../src/agent/types.js';
import { cgroupPath } from '../../src/lab/cgroup.js';
import { listPods } from '../../src/lab/pods.js';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';

const LAB = 'idgc';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('deleting the last pod with an identity frees its IP, veth, endpoint, cgroup and, after the grace period, its identity', { timeout: 120_000 }, async (t) => {
  t.after(() => beeline(['lab', 'down', '--name', LAB, '-q']));
  assert.equal(beeline(['lab', 'up', '--nodes', '1', '--name', LAB, '--identity-gc-grace', '2s', '-q']).code, 0);
  const status = JSON.parse(beelineOk(['lab', 'status', '--lab', LAB, '-o', 'json']).stdout) as { operator: { running: boolean } };
  assert.equal(status.operator.running, true, 'the lab runs an operator');

  beelineOk(['lab', 'pod', 'add', '--lab', LAB, 'node1', 'lonely', '--label', 'app=lonely']);
  beelineOk(['lab', 'pod', 'exec', '--lab', LAB, '-d', 'lonely', '--', beelineBin, 'serve', '--http', '8080']);
  const pod = listPods(LAB).find((p) => p.name === 'lonely')!;
  // The pod's endpoint (the lab's cluster DNS pod has one too, and an address).
  const endpoints = () => (JSON.parse(beelineOk(['endpoint', 'list', '--lab', LAB, '-o', 'json']).stdout) as EndpointModel[]).filter((e) => e.pod?.namespace !== 'kube-system');
  let id = 0;
  for (let i = 0; i < 40 && id < 256; i++, await sleep(250)) id = endpoints().find((e) => e.ipv4 === pod.ip)?.identity ?? 0;
  assert.ok(id >= 256, `the pod got an allocated identity (${id})`);
  const hostIf = endpoints()[0]!.hostIfname;
  const ipamUsedAll = () => (JSON.parse(beelineOk(['status', '--lab', LAB, '-o', 'json']).stdout) as AgentStatus[])[0]!.ipam.used;
  const dnsPods = (JSON.parse(beelineOk(['endpoint', 'list', '--lab', LAB, '-o', 'json']).stdout) as EndpointModel[]).filter((e) => e.pod?.namespace === 'kube-system').length;
  const ipamUsed = () => ipamUsedAll() - dnsPods;
  assert.equal(ipamUsed(), 1);
  assert.ok(existsSync(cgroupPath(LAB, 'pods', 'lonely')), 'its process runs in the pod cgroup');

  beelineOk(['lab', 'pod', 'del', '--lab', LAB, 'lonely']);
  assert.equal(ipamUsed(), 0, 'address released');
  assert.deepEqual(endpoints(), [], 'endpoint gone');
  assert.notEqual(beeline(['lab', 'exec', '--lab', LAB, 'node1', '--', 'ip', 'link', 'show', hostIf]).code, 0, 'host veth gone');
  assert.equal(existsSync(cgroupPath(LAB, 'pods', 'lonely')), false, 'pod cgroup gone');

  const listed = () => beelineOk(['identity', 'list', '--lab', LAB]).stdout;
  let gone = false;
  for (let i = 0; i < 60 && !gone; i++, await sleep(250)) gone = !new RegExp(`^${id}\\s`, 'm').test(listed());
  assert.ok(gone, `identity ${id} garbage-collected:\n${listed()}`);
});
