/**
 * The demo's look at the web UI (scripts/demo.sh, act 6c): opens `beeline
 * ui` in headless Chromium, prints what the map and the table show, and
 * saves screenshots: the map, the table filtered to HTTP 403, the policy
 * suggested for a workload.
 *   node dist/scripts/ui-screenshots.js --url http://127.0.0.1:12000/ --out DIR
 *        [--filter 'http-status:403'] [--select workload/empire/deathstar]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openBrowser } from '../test/lib/browser.js';

const { values: o } = parseArgs({ options: { url: { type: 'string' }, out: { type: 'string' }, filter: { type: 'string', default: 'http-status:403' }, select: { type: 'string', default: 'workload/empire/deathstar' } } });
if (!o.url || !o.out) {
  console.error('usage: ui-screenshots --url URL --out DIR [--filter TEXT] [--select NODE-ID]');
  process.exit(2);
}
mkdirSync(o.out, { recursive: true });
const tid = (id: string) => `[data-testid="${id}"]`;
const b = await openBrowser();
try {
  const page = b.page;
  const t0 = Date.now();
  await page.goto(o.url);
  await page.locator(tid('relay-status')).filter({ hasText: 'connected' }).waitFor({ timeout: 15_000 });
  await page.locator(tid('map-node')).first().waitFor({ timeout: 15_000 });
  await page.locator(tid('flow-row')).first().waitFor({ timeout: 15_000 });
  // The map settles after its first layout.
  await page.waitForTimeout(1500);
  const nodes = await page.locator(tid('map-node')).evaluateAll((els) => els.map((e) => e.getAttribute('data-node-id')));
  const edges = await page.locator(tid('map-edge')).evaluateAll((els) => els.map((e) => `${e.getAttribute('data-source')} → ${e.getAttribute('data-target')} ${e.getAttribute('data-verdict')}`));
  console.log(`UI loaded in ${Date.now() - t0} ms: ${nodes.length} map nodes, ${edges.length} edges, ${(await page.locator(tid('flow-count')).textContent())?.trim()}`);
  for (const e of [...new Set(edges)].filter((x) => x.includes('empire')).sort()) console.log(`  edge ${e}`);
  await page.screenshot({ path: join(o.out, 'ui-map.png') });
  console.log(`saved ${join(o.out, 'ui-map.png')}`);

  await page.locator(tid('filter-input')).fill(o.filter!);
  await page.locator(tid('filter-input')).press('Enter');
  await page.waitForTimeout(1500);
  const rows = await page.locator(tid('flow-row')).evaluateAll((rs) => rs.map((r) => ['source', 'destination', 'l7', 'verdict', 'policies'].map((c) => r.querySelector(`[data-col="${c}"]`)?.textContent?.trim() ?? '').join(' | ')));
  console.log(`table filtered by "${o.filter}": ${rows.length} rows`);
  for (const r of rows.slice(0, 5)) console.log(`  ${r}`);
  await page.screenshot({ path: join(o.out, 'ui-filtered.png') });
  console.log(`saved ${join(o.out, 'ui-filtered.png')}`);

  await page.locator(tid('filter-input')).fill('');
  await page.locator(tid('filter-input')).press('Enter');
  await page.locator(`${tid('map-node')}[data-node-id="${o.select}"]`).click();
  await page.locator(tid('suggest-policy')).click();
  await page.locator(tid('suggestion-yaml')).waitFor({ timeout: 15_000 });
  console.log(`policy suggested for ${o.select}:`);
  console.log(((await page.locator(tid('suggestion-yaml')).textContent()) ?? '').trim().split('\n').map((l) => `  ${l}`).join('\n'));
  await page.screenshot({ path: join(o.out, 'ui-suggestion.png') });
  console.log(`saved ${join(o.out, 'ui-suggestion.png')}`);
  const errors = b.errors.filter((e) => /pageerror/.test(e));
  if (errors.length) {
    console.error(`page errors:\n${errors.join('\n')}`);
    process.exitCode = 1;
  }
} finally {
  await b.close();
}
