/**
 * Policy enforcement and audit modes end to end, from `lab up` flags to the
 * datapath: with `--enable-policy always` every endpoint enforces both
 * directions with no policy at all (so nothing passes), and with
 * `--policy-audit-mode` what policy would drop passes and is reported as an
 * audit verdict naming its reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import { until, sleep } from '../lib/wait.js';

const PODS = `apiVersion: v1
kind: Namespace
metadata: {name: m}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: m, labels: {app: server}}
spec:
  nodeName: node2
  containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.47, args: ["netexec", "--http-port=80"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: m, labels: {app: client}}
spec:
  nodeName: node1
  containers: [{name: c, image: busybox, command: ["sleep", "infinity"]}]
`;

async function labWithPods(lab: string, flags: string[]): Promise<{ env: Record<string, string>; serverIP: string }> {
  const env = { BEELINE_LAB: lab };
  beeline(['lab', 'down', '--name', lab, '-q']);
  const up = beeline(['lab', 'up', '--nodes', '2', '--name', lab, '-q', ...flags]);
  assert.equal(up.code, 0, up.stderr);
  const r = spawnSync(beelineBin, ['apply', '-f', '-'], { input: PODS, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  const serverIP = await until('both pods running', () => {
    const items = JSON.parse(beelineOk(['get', 'pods', '-n', 'm', '-o', 'json'], env).stdout).items as { metadata: { name: string }; status?: { phase?: string; podIP?: string } }[];
    if (items.filter((p) => p.status?.phase === 'Running').length !== 2) return undefined;
    return items.find((p) => p.metadata.name === 'server')?.status?.podIP;
  }, 90_000, 500);
  return { env, serverIP };
}

const probe = (env: Record<string, string>, ip: string) => beeline(['exec', '-n', 'm', 'client', '--', beelineBin, 'probe', 'tcp', `${ip}:80`, '--timeout', '1000'], env).code === 0;

test('--enable-policy always: endpoints enforce both directions with no policy, and nothing passes', { timeout: 240_000 }, async (t) => {
  const lab = 'polalw';
  t.after(() => beeline(['lab', 'down', '--name', lab, '-q']));
  const { env, serverIP } = await labWithPods(lab, ['--enable-policy', 'always']);
  await until('the endpoints enforce', () => {
    const nodes = JSON.parse(beelineOk(['policy', 'get', '-o', 'json'], env).stdout) as { endpoints: { pod: string; ingressEnforced: boolean; egressEnforced: boolean }[] }[];
    const eps = nodes.flatMap((n) => n.endpoints).filter((e) => e.pod.startsWith('m/'));
    return eps.length === 2 && eps.every((e) => e.ingressEnforced && e.egressEnforced);
  }, 30_000);
  assert.equal(probe(env, serverIP), false, 'default deny everywhere');
  const trace = beelineOk(['policy', 'trace', '--src-pod', 'm/client', '--dst-pod', 'm/server', '--dport', '80/TCP'], env).stdout;
  assert.match(trace, /DENIED/);
  assert.match(trace, /enforcement-always/);
});

test('--policy-audit-mode: what policy would drop passes, reported as an audit verdict with its reason', { timeout: 240_000 }, async (t) => {
  const lab = 'polaud';
  t.after(() => beeline(['lab', 'down', '--name', lab, '-q']));
  const { env, serverIP } = await labWithPods(lab, ['--policy-audit-mode']);
  const deny = 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespace: m}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n';
  const r = spawnSync(beelineBin, ['apply', '-f', '-'], { input: deny, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  await until('the policy is enforced (in audit mode)', () => {
    const nodes = JSON.parse(beelineOk(['policy', 'get', '-o', 'json'], env).stdout) as { endpoints: { pod: string; ingressEnforced: boolean; audit: boolean }[] }[];
    const eps = nodes.flatMap((n) => n.endpoints).filter((e) => e.pod.startsWith('m/'));
    return eps.length === 2 && eps.every((e) => e.ingressEnforced && e.audit);
  }, 30_000);
  const mon = spawn(beelineBin, ['monitor', '--type', 'policy-verdict', '--type', 'drop', '--timeout', '5s'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  mon.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const closed = new Promise((res) => mon.on('close', res));
  await sleep(1500);
  assert.equal(probe(env, serverIP), true, 'audit mode lets it through');
  await closed;
  const audits = out.split('\n').filter((l) => l.includes('action audit'));
  assert.ok(audits.some((l) => l.includes(`${serverIP}:80`)), `audit verdicts for the connection:\n${out}`);
  assert.ok(audits.some((l) => /NetworkPolicy\/m\/deny-all/.test(l)), `naming the policy:\n${out}`);
  assert.ok(!out.split('\n').some((l) => / drop /i.test(l) && l.includes(`${serverIP}:80`)), `and no drop:\n${out}`);
});
