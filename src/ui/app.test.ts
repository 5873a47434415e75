/**
 * The web app in headless Chromium (Debian's, driven by playwright-core)
 * against `beeline ui`'s server and a real relay whose two nodes serve
 * recorded flows of the Star Wars demo (test/fixtures/ui): the map, the
 * table and its filters, details, exports, keyboard, and what the app does
 * with bad input, a relay that goes away and comes back, and 100k flows.
 * The same app against a real lab: test/privileged/ui.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startGrpcServer, type GrpcServerHandle } from '../api/grpc.js';
import type { Flow } from '../api/generated/flow/Flow.js';
import { repoRoot } from '../common/version.js';
import { Relay } from '../observer/relay.js';
import { timestampOfNs } from '../observer/relay.js';
import { FakeNode } from '../../test/lib/fake-observer.js';
import { CHROMIUM, openBrowser, screenshot, type UiBrowser } from '../../test/lib/browser.js';
import { recordedFlows } from '../../test/lib/recorded-flows.js';
import { startUiServer, type UiServer } from './server.js';

const APP = join(repoRoot, 'dist', 'ui');
const skip = !existsSync(CHROMIUM) ? `no ${CHROMIUM} (make setup installs it)` : !existsSync(join(APP, 'index.html')) ? 'the app is not built (make ui)' : false;

const dir = mkdtempSync(join(tmpdir(), 'bl-uiapp-'));
const relayAddress = `unix://${join(dir, 'relay.sock')}`;
let nodes: FakeNode[] = [];
let relayServer: GrpcServerHandle | undefined;
let ui: UiServer;
let b: UiBrowser;
let page: Page;

/** The recorded flows, their times moved so the newest is `endMs` ago. */
function recorded(endMsAgo = 2000): Flow[] {
  const flows = recordedFlows();
  const ns = (f: Flow) => BigInt(String(f.time!.seconds)) * 1_000_000_000n + BigInt(f.time!.nanos ?? 0);
  const newest = flows.reduce((m, f) => (ns(f) > m ? ns(f) : m), 0n);
  const shift = BigInt(Date.now() - endMsAgo) * 1_000_000n - newest;
  return flows.map((f) => ({ ...f, time: timestampOfNs(ns(f) + shift) }));
}

async function startRelay(): Promise<GrpcServerHandle> {
  const relay = new Relay({ peers: () => nodes.map((n) => n.peer), version: 't', sortBufferMs: 20, log: { debug() {}, info() {}, warn() {}, error() {} } as never });
  return startGrpcServer([relayAddress], [relay.service(), relay.serviceMapService()]);
}

before(async () => {
  if (skip) return;
  const flows = recorded();
  for (const name of ['node1', 'node2']) {
    const n = new FakeNode(name, `unix://${join(dir, `${name}.sock`)}`, []);
    n.flows.push(...flows.filter((f) => f.node_name === name));
    nodes.push(await n.start());
  }
  relayServer = await startRelay();
  ui = await startUiServer({ relay: relayAddress, lab: 'fixture', port: 0, staticDir: APP, relayTimeoutMs: 500 });
  b = await openBrowser();
  page = b.page;
});

after(async () => {
  await b?.close();
  await ui?.close();
  await relayServer?.close();
  for (const n of nodes) await n.server.close();
  rmSync(dir, { recursive: true, force: true });
});

const tid = (id: string) => `[data-testid="${id}"]`;
const node = (id: string) => `${tid('map-node')}[data-node-id="${id}"]`;
const edge = (src: string, dst: string) => `${tid('map-edge')}[data-source="${src}"][data-target="${dst}"]`;
const shownCount = async () => Number((((await page.locator(tid('flow-count')).textContent()) ?? '').match(/[\d,]+/)?.[0] ?? '0').replace(/,/g, ''));

async function waitUntil(ok: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Until the flow count has not changed for 600 ms (a filter or toggle restarts the streams). */
async function settle(): Promise<void> {
  let last = '';
  let since = Date.now();
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    const now = (await page.locator(tid('flow-count')).textContent()) ?? '';
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= 600) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function filter(text: string): Promise<void> {
  const box = page.locator(tid('filter-input'));
  await box.fill(text);
  await box.press('Enter');
  await settle();
}

test('the map: workloads, Services and namespaces of the recorded flows, edges coloured by verdict', { skip }, async () => {
  await page.goto(ui.url);
  await page.locator(tid('relay-status')).filter({ hasText: 'connected' }).waitFor({ timeout: 10_000 });
  for (const id of ['workload/empire/tiefighter', 'workload/empire/xwing', 'service/empire/deathstar', 'workload/empire/deathstar', 'workload/kube-system/coredns', 'service/kube-system/kube-dns']) {
    await page.locator(node(id)).waitFor({ timeout: 10_000 });
  }
  // All namespaces at once, grouped.
  assert.equal(await page.locator(tid('namespace-select')).inputValue(), '');
  for (const ns of ['empire', 'kube-system']) await page.locator(`${tid('map-namespace')}[data-namespace="${ns}"]`).waitFor();
  // The X-wing's edge to the Death Star Service: only drops, red; the TIE fighter's: allowed (green) at L4.
  const xwing = page.locator(edge('workload/empire/xwing', 'service/empire/deathstar')).first();
  await xwing.waitFor({ state: 'attached' });
  assert.equal(await xwing.getAttribute('data-verdict'), 'dropped');
  assert.match(await xwing.evaluate((el) => getComputedStyle(el).stroke), /rgb\(198, 40, 40\)/);
  const tie = page.locator(edge('workload/empire/tiefighter', 'service/empire/deathstar'));
  const verdicts = await tie.evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')));
  assert.ok(verdicts.includes('forwarded') || verdicts.includes('mixed'), verdicts.join());
  await screenshot(page, 'ui', 'fixture-map');
});

test('the table: flows with Hubble UI\'s columns; sorting; a filter in observe\'s language; garbage in the filter keeps the last good one', { skip }, async () => {
  await page.locator(tid('flow-row')).first().waitFor();
  const total = await shownCount();
  assert.ok(total >= 300, `flows shown: ${total}`);
  for (const col of ['time', 'source', 'destination', 'port', 'l7', 'verdict', 'policies', 'node']) await page.locator(`${tid('flow-row')} [data-col="${col}"]`).first().waitFor({ state: 'attached' });
  // Sorting by verdict puts DROPPED rows together.
  await page.locator(tid('sort-verdict')).click();
  const sortState = await page.locator(tid('sort-verdict')).getAttribute('aria-sort');
  assert.ok(sortState === 'ascending' || sortState === 'descending', String(sortState));

  // The map panned far off its nodes first: a filter that shrinks the graph brings what is left into view.
  const pane = (await page.locator('.react-flow__pane').boundingBox())!;
  for (let i = 0; i < 3; i++) {
    await page.mouse.move(pane.x + pane.width - 20, pane.y + pane.height / 2);
    await page.mouse.down();
    await page.mouse.move(pane.x + 20, pane.y + 20, { steps: 5 });
    await page.mouse.up();
  }
  await filter('--http-status 403');
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length > 0 && [...document.querySelectorAll(sel)].every((r) => /403/.test(r.textContent ?? '')), tid('flow-row'));
  const rows = page.locator(tid('flow-row'));
  assert.equal(await rows.count(), 3, 'three exhaust-port answers');
  for (let i = 0; i < 3; i++) {
    assert.match((await rows.nth(i).locator('[data-col="l7"]').textContent()) ?? '', /exhaust-port|403/);
    assert.match((await rows.nth(i).locator('[data-col="policies"]').textContent()) ?? '', /rule1/);
  }
  // The map follows the filter, and what it keeps is in view (not left where the bigger graph had it).
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length > 0 && document.querySelectorAll(sel).length <= 3, tid('map-node'), { timeout: 10_000 });
  await page.waitForFunction((sel) => {
    const pane = document.querySelector('.react-flow')?.getBoundingClientRect();
    return !!pane && [...document.querySelectorAll(sel)].some((n) => {
      const r = n.getBoundingClientRect();
      return r.right > pane.left && r.left < pane.right && r.bottom > pane.top && r.top < pane.bottom;
    });
  }, tid('map-node'), { timeout: 5_000 });
  // Shorthands mean the same.
  await filter('to:pod=empire/deathstar verdict:DROPPED');
  await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].every((r) => r.querySelector('[data-col="verdict"]')?.getAttribute('data-verdict') === 'DROPPED') && document.querySelectorAll(sel).length > 0, tid('flow-row'));
  const dropped = await shownCount();
  // Garbage: an error naming the flag; the last good filter keeps running.
  await filter('--from-ip 10.0.0.300 --bogus');
  await page.locator(tid('filter-error')).waitFor();
  assert.match((await page.locator(tid('filter-error')).textContent()) ?? '', /from-ip|bogus/);
  assert.equal(await shownCount(), dropped);
  // A filter nothing matches: said so.
  await filter('--to-port 9');
  await page.locator(tid('empty-state')).filter({ hasText: 'No flow matches the filter' }).waitFor();
  await filter('');
  await page.waitForFunction(([sel, n]) => Number((document.querySelector(sel)?.textContent ?? '').match(/[\d,]+/)?.[0]?.replace(/,/g, '') ?? 0) >= (n as number), [tid('flow-count'), total] as const);
});

test('a drop opens with its policy and reason; Escape closes; keyboard moves between rows', { skip }, async () => {
  await filter('from:pod=empire/xwing verdict:DROPPED');
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length > 0 && [...document.querySelectorAll(sel)].every((r) => /xwing/.test(r.textContent ?? '')), tid('flow-row'));
  await page.locator(tid('flow-row')).first().click();
  const details = page.locator(tid('flow-details'));
  await details.waitFor();
  assert.match((await details.locator(tid('flow-policies')).textContent()) ?? '', /empire\/rule1/);
  assert.match((await details.locator(tid('drop-reason')).textContent()) ?? '', /POLICY_DENIED/);
  await page.keyboard.press('Escape');
  await details.waitFor({ state: 'hidden' });
  // `/` focuses the filter; ↓ and Enter open a row from the keyboard.
  await page.locator('body').press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'filter-input');
  await page.locator(tid('flow-row')).first().focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await details.waitFor();
  await page.keyboard.press('Escape');
  await filter('');
});

test('clicking a node filters the table to its flows; the chip clears it', { skip }, async () => {
  const before = await shownCount();
  await page.locator(node('workload/empire/xwing')).click();
  await page.locator(tid('selection-chip')).waitFor();
  await page.waitForFunction(([sel, n]) => Number((document.querySelector(sel)?.textContent ?? '').match(/[\d,]+/)?.[0]?.replace(/,/g, '') ?? 0) < (n as number), [tid('flow-count'), before] as const);
  const rows = await page.locator(tid('flow-row')).evaluateAll((rs) => rs.map((r) => r.textContent ?? ''));
  assert.ok(rows.length > 0 && rows.every((t) => /xwing/.test(t)), rows.slice(0, 3).join(' | '));
  await page.locator(tid('selection-chip')).locator('button').click();
  await page.locator(tid('selection-chip')).waitFor({ state: 'detached' });
});

test('hiding noise: the host toggle drops the flows with the host', { skip }, async () => {
  const before = await shownCount();
  const host = page.locator(tid('hide-host'));
  const was = await host.isChecked();
  await host.setChecked(!was);
  await page.waitForFunction(([sel, n]) => Number((document.querySelector(sel)?.textContent ?? '').match(/[\d,]+/)?.[0]?.replace(/,/g, '') ?? 0) !== (n as number), [tid('flow-count'), before] as const);
  const after = await shownCount();
  assert.ok(was ? after > before : after < before, `${before} → ${after}`);
  await host.setChecked(was);
  await settle();
});

test('exports: the shown flows as Hubble JSON lines, the map as SVG and PNG', { skip }, async () => {
  await filter('--http-status 403');
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 3, tid('flow-row'));
  const [jsonl] = await Promise.all([page.waitForEvent('download'), page.locator(tid('export-flows')).click()]);
  assert.equal(jsonl.suggestedFilename(), 'flows.jsonl');
  const lines = readFileSync((await jsonl.path())!, 'utf8').trim().split('\n');
  assert.equal(lines.length, 3);
  for (const l of lines) {
    const j = JSON.parse(l) as { flow: { l7: { http: { code: number; url: string } }; ingress_denied_by?: { name: string }[]; time: string }; node_name: string };
    assert.equal(j.flow.l7.http.code, 403);
    assert.match(j.flow.l7.http.url, /exhaust-port/);
    assert.match(j.flow.time, /Z$/);
    assert.deepEqual(j.flow.ingress_denied_by?.map((p) => p.name), ['rule1']);
  }
  await filter('');
  const [svg] = await Promise.all([page.waitForEvent('download'), page.locator(tid('export-svg')).click()]);
  assert.equal(svg.suggestedFilename(), 'service-map.svg');
  const svgText = readFileSync((await svg.path())!, 'utf8');
  assert.match(svgText, /^<svg[\s>]/);
  assert.match(svgText, /tiefighter/);
  const [png] = await Promise.all([page.waitForEvent('download'), page.locator(tid('export-png')).click()]);
  assert.equal(png.suggestedFilename(), 'service-map.png');
  const head = readFileSync((await png.path())!).subarray(0, 8);
  assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});

test('the suggestion for a selected workload appears beside its flows', { skip }, async () => {
  await page.locator(node('workload/empire/deathstar')).click();
  await page.locator(tid('suggest-policy')).click();
  const yaml = page.locator(tid('suggestion-yaml'));
  await yaml.waitFor({ timeout: 10_000 });
  const text = (await yaml.textContent()) ?? '';
  assert.match(text, /kind: CiliumNetworkPolicy/);
  assert.match(text, /class: tiefighter|org: empire/);
  assert.doesNotMatch(text, /xwing|alliance/, 'the X-wing was only ever dropped');
  assert.ok((await page.locator(tid('suggestion-rule')).count()) >= 1);
  await screenshot(page, 'ui', 'fixture-suggestion');
  await page.keyboard.press('Escape');
});

test('the relay goes away: the app says so and keeps its flows; it comes back: live again', { skip }, async () => {
  const before = await shownCount();
  await relayServer!.close();
  relayServer = undefined;
  await page.locator(tid('relay-error')).waitFor({ timeout: 15_000 });
  assert.match((await page.locator(tid('relay-status')).textContent()) ?? '', /unreachable/);
  assert.equal(await shownCount(), before, 'what was shown stays');
  await screenshot(page, 'ui', 'fixture-relay-away');
  relayServer = await startRelay();
  await page.locator(tid('relay-error')).waitFor({ state: 'hidden', timeout: 15_000 });
  await page.locator(tid('relay-status')).filter({ hasText: 'connected' }).waitFor();
  // New flows arrive again, on the stream the app opened anew.
  const n = await shownCount();
  const f = { ...recorded(0)[0]!, node_name: 'node1' };
  await waitUntil(() => nodes[0]!.following.size > 0, 'the app follows node1 again');
  nodes[0]!.flows.push(f);
  for (const c of nodes[0]!.following) c.write({ flow: f, node_name: 'node1', time: f.time });
  await page.waitForFunction(([sel, k]) => Number((document.querySelector(sel)?.textContent ?? '').match(/[\d,]+/)?.[0]?.replace(/,/g, '') ?? 0) > (k as number), [tid('flow-count'), n] as const, { timeout: 10_000 });
  assert.equal(b.errors.filter((e) => !/Failed to load resource|503|ERR_/.test(e)).length, 0, b.errors.join('\n'));
});

test('flows with unknown identities or missing fields render', { skip }, async () => {
  const t = timestampOfNs(BigInt(Date.now()) * 1_000_000n);
  const odd: Flow[] = [
    { time: t, verdict: 'DROPPED', source: { identity: 77777 }, destination: {}, Type: 'L3_L4', drop_reason_desc: 'POLICY_DENIED' } as Flow,
    { time: t, verdict: 'FORWARDED' } as Flow,
    { time: t, verdict: 'FORWARDED', IP: { source: '203.0.113.9', destination: '10.0.0.3', ipVersion: 'IPv4' }, l4: { UDP: { source_port: 1, destination_port: 2 } }, source: { identity: 2, labels: ['reserved:world'] }, destination: { identity: 9999999 } } as Flow,
  ];
  for (const o of odd) {
    nodes[0]!.flows.push(o);
    for (const c of nodes[0]!.following) c.write({ flow: o, node_name: 'node1', time: t });
  }
  await filter('--identity 77777');
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 1, tid('flow-row'), { timeout: 10_000 });
  assert.match((await page.locator(`${tid('flow-row')} [data-col="source"]`).textContent()) ?? '', /77777/);
  await filter('');
  assert.equal(b.errors.filter((e) => /pageerror/.test(e)).length, 0, b.errors.join('\n'));
});
