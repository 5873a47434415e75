/**
 * The lab end to end, as a user runs it, and the host-safety guarantee: the
 * root network namespace before `lab up` and after `lab down` is identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { diffSnapshots, snapshotHost, cgroup2Root } from '../../src/lab/safety.js';
import { listNetns } from '../../src/lab/netns.js';
import { processStartTime } from '../../src/lab/process.js';
import type { LabReport } from '../../src/lab/lab.js';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';

const A = 'bltest1';
const B = 'bltest2';

test('lab up, status, exec, a second lab, down: the root namespace is left exactly as it was', async (t) => {
  const before = snapshotHost();
  t.after(() => {
    beeline(['lab', 'down', '--name', A, '-q']);
    beeline(['lab', 'down', '--name', B, '-q']);
  });

  // The CLI process that made the lab exits here; the lab must outlive it.
  const up = beeline(['lab', 'up', '--nodes', '2', '--name', A]);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /\[1\/9\]/, 'lab up shows progress');

  const st = beelineOk(['lab', 'status', '-o', 'json']);
  const report = JSON.parse(st.stdout) as LabReport;
  assert.equal(report.name, A);
  assert.equal(report.healthy, true, st.stdout);
  assert.equal(report.etcd.healthy, true);
  assert.equal(report.nodes.length, 2);
  for (const n of report.nodes) {
    assert.equal(n.agent.health, 'ok', `${n.name}: ${n.agent.message ?? ''}`);
    assert.equal(n.agent.status?.kvstore.state, 'ok');
    assert.ok(n.agent.status!.datapath.attachments.length >= 2, 'agent attached its programs to the uplink');
  }

  // Nodes and the outside world share the fabric; exec returns the command's own status.
  assert.equal(beeline(['lab', 'exec', 'node1', '--', 'ping', '-c', '1', '-W', '2', '172.18.0.12']).code, 0);
  assert.equal(beeline(['lab', 'exec', 'world', '--', 'ping', '-c', '1', '-W', '2', '172.18.0.11']).code, 0);
  assert.equal(beeline(['lab', 'exec', 'node2', '--', 'sh', '-c', 'exit 7']).code, 7);
  const where = beelineOk(['lab', 'exec', 'node1', '--', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
  assert.match(where.stdout, /172\.18\.0\.11\/24/);
  // The probe helper works inside a lab namespace (and is refused in the root one: unit test).
  const probe = beeline(['lab', 'exec', 'world', '--', beelineBin, 'probe', 'tcp', '172.18.0.11:1', '--timeout', '500']);
  assert.equal(probe.code, 1);
  assert.match(probe.stdout, /refused/);

  // The agents' datapath counted the pings above.
  const metrics = JSON.parse(beelineOk(['bpf', 'metrics', 'list', '--node', 'node1', '-o', 'json']).stdout) as { metrics: { reason: number; packets: string }[] }[];
  const forwarded = metrics[0]!.metrics.filter((m) => m.reason === 0).reduce((s, m) => s + BigInt(m.packets), 0n);
  assert.ok(forwarded > 0n, 'uplink programs counted packets');

  // A second lab next to the first; now commands must say which.
  assert.equal(beeline(['lab', 'up', '--nodes', '1', '--name', B, '-q']).code, 0);
  const amb = beeline(['lab', 'status']);
  assert.notEqual(amb.code, 0);
  assert.match(amb.stderr, /^Error \[BL_ERR_LAB_AMBIGUOUS\]: lab: 2 labs are up/);
  assert.equal(beeline(['lab', 'status', '--lab', B]).code, 0);
  assert.equal(beeline(['status'], { BEELINE_LAB: B }).code, 0);
  assert.equal(beeline(['lab', 'up', '--name', B, '-q']).code, 1, 'a lab name is taken only once');

  const pids = [...report.nodes.flatMap((n) => [n.agent.pid, n.agent.supervisorPid]), report.etcd.pid, report.operator.pid];
  assert.ok(pids.every((p) => p > 0));
  const cg = `${cgroup2Root()}/beeline/${A}`;
  assert.ok(existsSync(cg));

  beelineOk(['lab', 'down', '--name', A, '-q']);
  beelineOk(['lab', 'down', '--lab', B, '-q']);

  for (const pid of pids) assert.equal(processStartTime(pid), undefined, `process ${pid} is gone`);
  assert.equal(existsSync(cg), false, 'cgroup subtree removed');
  assert.deepEqual(listNetns().filter((n) => n.startsWith('bl-bltest')), []);
  assert.equal(readFileSync('/proc/mounts', 'utf8').includes('/run/beeline'), false, 'bpffs unmounted');
  const diff = diffSnapshots(before, snapshotHost());
  assert.deepEqual(diff, [], `root namespace changed:\n${diff.join('\n')}`);
});

test('lab down of a lab interrupted half-way removes what it made', async () => {
  const before = snapshotHost();
  const up = beeline(['lab', 'up', '--nodes', '1', '--name', 'bltest3', '-q']);
  assert.equal(up.code, 0, up.stderr);
  // Kill the agent and etcd behind the lab's back: down must still clean up.
  const st = JSON.parse(beelineOk(['lab', 'status', '--name', 'bltest3', '-o', 'json']).stdout) as LabReport;
  process.kill(st.nodes[0]!.agent.supervisorPid, 'SIGKILL');
  process.kill(st.nodes[0]!.agent.pid, 'SIGKILL');
  process.kill(st.etcd.pid, 'SIGKILL');
  const sick = beeline(['lab', 'status', '--name', 'bltest3']);
  assert.equal(sick.code, 1, 'status is non-zero when the lab is not healthy');
  assert.match(sick.stdout, /NOT healthy/);
  beelineOk(['lab', 'down', '--name', 'bltest3', '-q']);
  assert.deepEqual(diffSnapshots(before, snapshotHost()), []);
});
