/**
 * A full service map, end to end (issue 5, "bad input"): a one-node lab whose
 * load-balancing maps hold 16 entries (`--bpf-lb-map-max 16`). kube-dns takes
 * 4 (two frontends, one backend each); Services with one frontend and one
 * backend take 2 each, so six fit and the seventh is reported as not
 * programmed, with nothing of it written, while the six keep answering. When
 * one of them is deleted, the seventh is programmed without anyone touching it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beeline, beelineOk } from '../lib/cli.js';
import { repoRoot } from '../../src/common/version.js';
import { agentGet } from '../../src/agent/client.js';
import { readState } from '../../src/lab/state.js';
import type { AgentReply } from '../../src/agent/replies.js';
import { until } from '../lib/wait.js';

const LAB = 'svccap';
const env: Record<string, string> = { BEELINE_LAB: LAB };
const ok = (args: string[]) => beelineOk(args, env);

function apply(yaml: string): void {
  const r = spawnSync(join(repoRoot, 'bin', 'beeline'), ['apply', '-f', '-'], { input: yaml, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
}

const services = () => agentGet<AgentReply<'ListServices'>>(readState(LAB)!.agents['node1']!.socket, '/v1/services');
const clusterIP = (name: string) => JSON.parse(ok(['get', 'svc', '-n', 'cap', name, '-o', 'json']).stdout).spec.clusterIP as string;
const get = (ip: string) => beeline(['exec', '-n', 'cap', 'client', '--', 'curl', '-s', '--max-time', '2', `http://${ip}/hostname`], env);
const svc = (i: number) => `apiVersion: v1\nkind: Service\nmetadata: {name: s${i}, namespace: cap}\nspec:\n  selector: {app: echo}\n  ports: [{port: 80, targetPort: 8080}]\n`;

before(async () => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
  ok(['lab', 'up', '--name', LAB, '--nodes', '1', '-q', '--bpf-lb-map-max', '16']);
  apply(`apiVersion: v1
kind: Namespace
metadata: {name: cap}
---
apiVersion: v1
kind: Pod
metadata: {name: echo, namespace: cap, labels: {app: echo}}
spec:
  containers:
  - name: agnhost
    image: registry.k8s.io/e2e-test-images/agnhost:2.47
    args: ["netexec", "--http-port=8080"]
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: cap}
spec:
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
`);
  await until('echo ready and client running', () => {
    const pods = JSON.parse(ok(['get', 'pods', '-n', 'cap', '-o', 'json']).stdout).items as any[];
    return pods.length === 2 && pods.every((p) => p.status?.phase === 'Running' && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  }, 90_000);
});

after(() => {
  beeline(['lab', 'down', '--name', LAB, '-q']);
});

test('a Service that does not fit the maps is reported as not programmed; the others keep working; it comes in when room frees', async () => {
  // One at a time, each programmed before the next: six fit (4 + 6 × 2 = 16 entries).
  for (let i = 0; i < 6; i++) {
    apply(svc(i));
    await until(`s${i} programmed with its backend`, async () => (await services()).services.some((r) => r.service === `cap/s${i}` && r.backends.length === 1));
  }
  apply(svc(6));
  // Reported at once (needing 1 entry while it has no EndpointSlice yet), and again once its backend is known.
  const problem = await until('s6 reported with its backend', async () => (await services()).problems.find((p) => p.service === 'cap/s6' && /needs 2 entries/.test(p.message)));
  assert.equal(problem.severity, 'error');
  assert.equal(problem.field, 'spec.ports');
  assert.match(problem.message, /service map full: needs 2 entries, 0 of 16 free \(--bpf-lb-map-max\); not programmed/);
  // Nothing of s6 is in the maps; the six answer.
  const ip6 = clusterIP('s6');
  assert.doesNotMatch(ok(['bpf', 'lb', 'list', '--node', 'node1']).stdout, new RegExp(`${ip6.replace(/\./g, '\\.')}:80`));
  for (let i = 0; i < 6; i++) {
    const r = get(clusterIP(`s${i}`));
    assert.equal(r.code, 0, `s${i}: ${r.stderr}`);
    assert.equal(r.stdout.trim(), 'echo');
  }
  // Room frees: s6 is programmed and answers, with no problem left.
  ok(['delete', 'svc', '-n', 'cap', 's0']);
  await until('s6 programmed after s0 went', async () => (await services()).services.some((r) => r.service === 'cap/s6' && r.backends.length === 1), 10_000);
  assert.deepEqual((await services()).problems, []);
  assert.equal(get(ip6).stdout.trim(), 'echo');
});
