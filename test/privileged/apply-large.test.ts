/**
 * `beeline apply -f` of big files against a real lab's etcd (issue 16, item 3):
 * a 10,000-object file is written whole, at one revision; one invalid object
 * among 10,000 writes nothing; a file over the lab etcd's request limit is
 * refused whole with BL_ERR_STORE_TXN_LIMIT; and readers (a watch, an
 * informer, lists running meanwhile) never see part of a file.
 *
 * The kind is HTTPRoute with a Gateway parent: the store keeps it like any
 * other kind, and nothing routes by it (the mesh takes Service parents only;
 * the agents and the operator skip it), so the numbers are the store's own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readState } from '../../src/lab/state.js';
import { openEtcdStore, type EtcdStore } from '../../src/store/etcd.js';
import type { StoreObject } from '../../src/store/store.js';
import { beeline, beelineBin, type CliResult } from '../lib/cli.js';

const LAB = 'bigapply';
const env = { BEELINE_LAB: LAB };
const N = 10_000;
const pad = (i: number) => String(i).padStart(5, '0');

let dir = '';
let store: EtcdStore;

/** One HTTPRoute; `version` shows in its hostname and path, so a reader can tell which file it came from. */
function route(prefix: string, i: number, version: string, label: string): Record<string, unknown> {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: `${prefix}-${pad(i)}`, namespace: 'default', labels: { bulk: label } },
    spec: {
      parentRefs: [{ name: 'gw' }],
      hostnames: [`h${i}.${version}.example.com`],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${version}/${i}` } }], backendRefs: [{ name: `svc-${i % 50}`, port: 8080 }] }],
    },
  };
}

const versionOf = (o: StoreObject) => ((o.spec as { hostnames: string[] }).hostnames[0] ?? '').split('.')[1];

function writeFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The CLI without blocking this process's event loop (its watch and informer keep running meanwhile). */
function beelineAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(beelineBin, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function bulk(label: string): Promise<StoreObject[]> {
  return (await store.list('HTTPRoute', { namespace: 'default', labelSelector: `bulk=${label}` })).items;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bl-apply-large-'));
  const up = beeline(['lab', 'up', '--nodes', '1', '--name', LAB, '-q']);
  assert.equal(up.code, 0, up.stderr);
  store = openEtcdStore({ endpoint: `unix://${readState(LAB)!.etcd!.socket}` });
});

after(async () => {
  await store?.close();
  beeline(['lab', 'down', '--name', LAB, '-q']);
  rmSync(dir, { recursive: true, force: true });
});

test('apply -f of a 10,000-object file (YAML, 3 MB) writes every object, all at one revision', async (t) => {
  const yaml = Array.from({ length: N }, (_, i) => {
    const r = route('route', i, 'v1', 'big');
    return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${(r.metadata as { name: string }).name}
  namespace: default
  labels: {bulk: big}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["h${i}.v1.example.com"]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v1/${i}}}]
    backendRefs: [{name: svc-${i % 50}, port: 8080}]
`;
  }).join('---\n');
  const file = writeFile('routes.yaml', yaml);
  const t0 = Date.now();
  const r = await beelineAsync(['apply', '-f', file]);
  t.diagnostic(`apply -f of ${N} objects (${(yaml.length / 1e6).toFixed(1)} MB of YAML): ${Date.now() - t0} ms`);
  assert.equal(r.code, 0, r.stderr.slice(0, 2000));
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, N);
  assert.equal(lines[4321], `httproute.gateway.networking.k8s.io/route-${pad(4321)} created`);
  assert.ok(lines.every((l) => l.endsWith(' created')));

  const items = await bulk('big');
  assert.equal(items.length, N);
  assert.deepEqual(
    items.map((o) => o.metadata.name),
    Array.from({ length: N }, (_, i) => `route-${pad(i)}`),
  );
  assert.equal(new Set(items.map((o) => o.metadata.resourceVersion)).size, 1, 'one transaction: one revision for the whole file');
  assert.ok(items.every((o, i) => versionOf(o) === 'v1' && (o.spec as { hostnames: string[] }).hostnames[0] === `h${i}.v1.example.com`));
  assert.ok(items.every((o) => /^[0-9a-f-]{36}$/.test(o.metadata.uid)));
});

test('one invalid object among 10,000 applies nothing; the error names the object and the field', async () => {
  const was = await bulk('big');
  // The 10,000 objects again with a new spec (updates), and one new object; route-06789's port is out of range.
  const docs = Array.from({ length: N }, (_, i) => route('route', i, 'v2', 'big'));
  docs.push(route('extra', 0, 'v2', 'big'));
  ((docs[6789]!.spec as { rules: { backendRefs: { port: number }[] }[] }).rules[0]!.backendRefs[0]!).port = 70000;
  const file = writeFile('routes-bad.json', JSON.stringify(docs));
  const r = await beelineAsync(['apply', '-f', file]);
  assert.equal(r.code, 1, r.stdout.slice(0, 500));
  assert.equal(r.stdout, '', 'nothing reported applied');
  const err = r.stderr.trim().split('\n');
  assert.equal(err[0], `Error [BL_ERR_INVALID]: apply ${file}: 1 invalid object, nothing from this file was applied`);
  assert.match(err[1]!, new RegExp(`^  ${file}#6790: HTTPRoute/default/route-06789: spec\\.rules\\[0\\]\\.backendRefs\\[0\\]\\.port: `));
  assert.equal(err.length, 2, r.stderr);

  const now = await bulk('big');
  assert.deepEqual(now, was, 'every object as it was, resourceVersion included; nothing added');
});

test("a file over the lab etcd's request limit (32 MiB) is refused whole with BL_ERR_STORE_TXN_LIMIT", async () => {
  // 5,000 objects with an 8 KB annotation each: ~40 MB in one transaction.
  const note = 'n'.repeat(8000);
  const docs = Array.from({ length: 5000 }, (_, i) => {
    const r = route('huge', i, 'v1', 'huge');
    (r.metadata as { annotations?: Record<string, string> }).annotations = { note };
    return r;
  });
  const file = writeFile('routes-huge.json', JSON.stringify(docs));
  const r = await beelineAsync(['apply', '-f', file]);
  assert.equal(r.code, 1, r.stderr);
  // The warnings come first (Gateway parents are not routed: three, then one line for the rest), then the error.
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('Warning: ')).length, 4, r.stderr.slice(0, 2000));
  assert.match(
    lines.filter((l) => !l.startsWith('Warning: ')).join('\n'),
    new RegExp(`^Error \\[BL_ERR_STORE_TXN_LIMIT\\]: apply ${file}: etcd refused the batch \\(5000 objects, about \\d+\\.\\d MiB\\) as one transaction: larger than its --max-request-bytes; nothing was applied \\(.*--max-request-bytes >= \\d+.*split the file`),
  );
  assert.deepEqual(await bulk('huge'), []);
  // The lab is still fine: the next file goes in.
  const small = writeFile('routes-small.json', JSON.stringify([route('small', 0, 'v1', 'small')]));
  assert.equal((await beelineAsync(['apply', '-f', small])).code, 0);
  assert.equal((await bulk('small')).length, 1);
});

test('readers never see part of a file: a watch gets 10,000 changes at one revision; an informer and lists meanwhile see all or none', async (t) => {
  const tStart = Date.now();
  const informer = store.informer('HTTPRoute', { namespace: 'default', labelSelector: 'bulk=big' });
  await informer.start();
  await informer.waitForSync();
  t.after(() => informer.stop());
  assert.equal(informer.list().length, N);
  const inV3 = () => informer.list().filter((o) => versionOf(o) === 'v3').length;

  // The informer's state at every macrotask boundary (where a consumer's timer or I/O callback would run).
  let updates = 0;
  informer.on('update', (o) => {
    if (versionOf(o) === 'v3') updates++;
  });
  const seen = new Set<number>();
  const sampler = setInterval(() => seen.add(updates), 1);

  // A watch from the informer's version: every change of the file, and at which revision.
  const w = store.watch('HTTPRoute', { namespace: 'default', labelSelector: 'bulk=big', resourceVersion: informer.resourceVersion() });
  const events: { type: string; rv: string }[] = [];
  const watching = (async () => {
    for await (const ev of w) {
      if (ev.type === 'BOOKMARK') continue;
      events.push({ type: ev.type, rv: ev.object.metadata.resourceVersion });
      if (events.length === N) break;
    }
  })();

  // Lists, back to back, while the file is applied: each a snapshot at one revision.
  let applying = true;
  const listed: number[] = [];
  const listing = (async () => {
    while (applying) listed.push((await bulk('big')).filter((o) => versionOf(o) === 'v3').length);
  })();

  const file = writeFile('routes-v3.json', JSON.stringify(Array.from({ length: N }, (_, i) => route('route', i, 'v3', 'big'))));
  const t0 = Date.now();
  const r = await beelineAsync(['apply', '-f', file]);
  const applyMs = Date.now() - t0;
  assert.equal(r.code, 0, r.stderr.slice(0, 2000));
  assert.equal(r.stdout.trim().split('\n').filter((l) => l.endsWith(' configured')).length, N);

  const tApplied = Date.now();
  const deadline = setTimeout(() => w.close(), 30_000);
  await watching;
  const tWatched = Date.now();
  clearTimeout(deadline);
  w.close();
  // Let the informer and the sampler catch up, then stop the lister.
  const until = Date.now() + 30_000;
  while (inV3() < N && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
  await new Promise((res) => setTimeout(res, 20));
  applying = false;
  await listing;
  clearInterval(sampler);
  t.diagnostic(`phases: synced ${t0 - tStart} ms, applied ${tApplied - t0} ms, watched +${tWatched - tApplied} ms, informer +${Date.now() - tWatched} ms`);
  t.diagnostic(`apply -f of ${N} updates (JSON): ${applyMs} ms; ${listed.length} lists meanwhile saw ${JSON.stringify([...new Set(listed)])} objects of the new file; the informer's sampled counts: ${JSON.stringify([...seen].sort((a, b) => a - b))}`);

  assert.equal(events.length, N, 'the watch saw every change');
  assert.ok(events.every((e) => e.type === 'MODIFIED'));
  assert.equal(new Set(events.map((e) => e.rv)).size, 1, 'all at one revision');
  assert.equal(inV3(), N);
  assert.deepEqual([...seen].filter((n) => n !== 0 && n !== N), [], 'the informer was never seen holding part of the file');
  assert.deepEqual(listed.filter((n) => n !== 0 && n !== N), [], 'no list held part of the file');
  assert.ok(listed.length >= 1);
});
