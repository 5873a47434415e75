/**
 * Issue 15's acceptance, lines 1 and 2 (mesh routes without sidecars) on a
 * 2-node lab, everything real (datapath hop to the node proxy, HAProxy,
 * agents, operator, CLI):
 *   - Services v1 and v2 (pods answering their version) and a parent Service
 *     `web` selecting all of them; an HTTPRoute with parentRef Service web
 *     splitting 90/10 to v1/v2, applied with `beeline apply`: 10,000 requests
 *     from a pod (Node keep-alive client in the pod's netns) land within one
 *     percentage point of 90/10;
 *   - re-applied 50/50 while a client runs: no failed request, and from 1 s
 *     after the apply returned the split is 50/50 (the 200 requests after);
 *   - a backend failing 10% with 503 behind `retry: {attempts: 1, codes:
 *     [503]}`: at least 99% success over 1000 requests, and `beeline observe`
 *     shows the route's flows with retries ≥ 1;
 *   - the route status (operator) in `beeline get httproute -o yaml`.
 * Root; run under `flock /tmp/beeline-heavy.lock`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../src/common/version.js';
import { labDir } from '../../src/lab/state.js';
import { beeline, beelineBin, beelineOk } from '../lib/cli.js';
import type { MeshClientArgs, MeshClientResult } from '../lib/pod-mesh-client.js';
import { until } from '../lib/wait.js';

const LAB = 'meshtest';
const env = { BEELINE_LAB: LAB };
const CLIENT = join(repoRoot, 'dist', 'test', 'lib', 'pod-mesh-client.js');

const server = (script: string) => JSON.stringify([process.execPath, '-e', script]);
const versionServer = (v: string) => server(`require('http').createServer((q, s) => s.end('${v}')).listen(8080)`);
// Every 10th request (counted by this process, retries included) is a 503.
const FLAKY = server("let n = 0; require('http').createServer((q, s) => { if (++n % 10 === 0) { s.statusCode = 503; s.end('fail'); } else s.end('ok'); }).listen(8080)");

const pod = (name: string, node: string, labels: string, command: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {${labels}}}
spec:
  nodeName: ${node}
  containers: [{name: c, image: busybox, command: ${command}}]
---
`;
const service = (name: string, selector: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  selector: {${selector}}
  ports: [{port: 80, targetPort: 8080}]
---
`;
const APP =
  pod('v1-a', 'node1', 'app: web, version: v1', versionServer('v1')) +
  pod('v1-b', 'node2', 'app: web, version: v1', versionServer('v1')) +
  pod('v2-a', 'node2', 'app: web, version: v2', versionServer('v2')) +
  pod('flaky', 'node2', 'app: flaky', FLAKY) +
  pod('client', 'node1', 'app: client', JSON.stringify(['sleep', 'infinity'])) +
  service('web', 'app: web') + service('v1', 'version: v1') + service('v2', 'version: v2') + service('flaky', 'app: flaky');

const split = (w1: number, w2: number) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
  - backendRefs:
    - {name: v1, port: 80, weight: ${w1}}
    - {name: v2, port: 80, weight: ${w2}}
`;
const RETRY = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: retry}
spec:
  parentRefs: [{group: "", kind: Service, name: flaky, port: 80}]
  rules:
  - backendRefs: [{name: flaky, port: 80}]
    retry: {attempts: 1, codes: [503]}
`;

let dir = '';
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The load client in the client pod; resolves with its summary. */
function client(args: MeshClientArgs): Promise<MeshClientResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(beelineBin, ['exec', '-n', 'default', 'client', '--', process.execPath, CLIENT, JSON.stringify(args)], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', reject);
    c.on('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as MeshClientResult);
      } catch {
        reject(new Error(`mesh client exited ${code}: ${out.slice(-500)} ${err.slice(-1000)}`));
      }
    });
  });
}

const clusterIP = (name: string) => (JSON.parse(beelineOk(['get', 'svc', name, '-o', 'json'], env).stdout) as { spec: { clusterIP: string } }).spec.clusterIP;

test('mesh routes on a 2-node lab: 90/10 split, 50/50 swap under load without failures, retries on 503, route status', { timeout: 600_000 }, async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root (a lab)'); return; }
  dir = mkdtempSync(join(tmpdir(), 'bl-mesh-'));
  beeline(['lab', 'down', '--name', LAB, '-q']);
  beelineOk(['lab', 'up', '--nodes', '2', '--name', LAB, '-q']);
  t.after(() => { if (!process.env.BEELINE_KEEP_LAB) beeline(['lab', 'down', '--name', LAB, '-q']); });
  beelineOk(['apply', '-f', file('app.yaml', APP)], env);
  await until('the pods running', () => {
    const items = (JSON.parse(beelineOk(['get', 'pods', '-o', 'json'], env).stdout) as { items: { status: { phase?: string; podIP?: string } }[] }).items;
    return items.length === 5 && items.every((p) => p.status.phase === 'Running' && p.status.podIP) || undefined;
  }, 120_000, 500);
  const web = `http://${clusterIP('web')}/`;
  const flaky = `http://${clusterIP('flaky')}/`;

  // Line 1: the route, applied with the CLI (no warning: everything in it is routed).
  const applied = beelineOk(['apply', '-f', file('split.yaml', split(90, 10))], env);
  assert.doesNotMatch(applied.stderr, /Warning/, applied.stderr);
  // Routed once the client's node proxy runs it: 100 consecutive requests land exactly 90/10
  // (without the route the datapath spreads them over the three pods).
  await until('the route in effect', async () => (await client({ url: web, concurrency: 1, count: 100 })).bodies.v2 === 10 || undefined, 60_000, 500);
  const big = await client({ url: web, concurrency: 4, count: 10_000 });
  t.diagnostic(`10,000 requests: ${JSON.stringify(big.bodies)}, failures ${big.failures}`);
  assert.equal(big.failures, 0, big.errors.join('; '));
  assert.ok(Math.abs((big.bodies.v2 ?? 0) / 10_000 - 0.1) <= 0.01, `v2 share ${big.bodies.v2}/10000`);
  assert.ok(Math.abs((big.bodies.v1 ?? 0) / 10_000 - 0.9) <= 0.01, `v1 share ${big.bodies.v1}/10000`);

  // 90/10 → 50/50 while a client runs.
  const running = client({ url: web, concurrency: 2, seconds: 7, record: true });
  await new Promise((r) => setTimeout(r, 2500));
  beelineOk(['apply', '-f', file('split50.yaml', split(50, 50))], env);
  const appliedAt = Date.now();
  const during = await running;
  assert.equal(during.failures, 0, `failed requests during the swap: ${during.errors.join('; ')}`);
  const after = during.log!.filter(([at]) => at > appliedAt + 1000).slice(0, 200);
  assert.equal(after.length, 200, `${after.length} requests from 1 s after the apply`);
  const v2After = after.filter(([, , b]) => b === 'v2').length;
  t.diagnostic(`from 1 s after the apply: v2 ${v2After}/200`);
  assert.ok(v2After >= 90 && v2After <= 110, `50/50 from 1 s after the apply: v2 ${v2After}/200`);
  const before = during.log!.filter(([at]) => at < appliedAt - 1500);
  assert.ok(before.length >= 100 && Math.abs(before.filter(([, , b]) => b === 'v2').length / before.length - 0.1) <= 0.03, 'still 90/10 before the apply');
  // Weight-only: swapped in place, not reloaded (the agent says so).
  assert.match(readFileSync(join(labDir(LAB), 'nodes', 'node1', 'agent.log'), 'utf8'), /mesh weights swapped in place/);

  // Line 2: retries on 503.
  beelineOk(['apply', '-f', file('retry.yaml', RETRY)], env);
  await until('the retry route in effect', async () => (await client({ url: flaky, concurrency: 1, count: 30 })).failures === 0 || undefined, 60_000, 500);
  const retried = await client({ url: flaky, concurrency: 2, count: 1000 });
  t.diagnostic(`flaky: ${JSON.stringify(retried.bodies)}, failures ${retried.failures}`);
  assert.ok((retried.bodies.ok ?? 0) >= 990, `success ${retried.bodies.ok}/1000: ${retried.errors.join('; ')}`);
  const flows = await until('flows of the retry route with retries', () => {
    const out = beeline(['observe', '--protocol', 'http', '--last', '3000'], env).stdout;
    const lines = out.split('\n').filter((l) => / route=default\/retry /.test(l) && / retries=[1-9]/.test(l));
    return lines.length ? lines : undefined;
  }, 30_000, 1000);
  t.diagnostic(flows[0]!);
  assert.match(flows[0]!, /backend=flaky server=\S+:8080 retries=1/);

  // Route status from the operator.
  const yaml = await until('the route status', () => {
    const y = beelineOk(['get', 'httproute', 'split', '-o', 'yaml'], env).stdout;
    return /controllerName: beeline\.io\/mesh/.test(y) ? y : undefined;
  }, 30_000, 500);
  assert.match(yaml, /type: Accepted\n\s+status: "?True"?/);
  assert.match(yaml, /type: ResolvedRefs\n\s+status: "?True"?/);
  assert.match(beelineOk(['describe', 'httproute', 'split'], env).stdout, /Service web:80 {2}\(controller beeline\.io\/mesh\)/);
});
