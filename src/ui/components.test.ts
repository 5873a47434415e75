/**
 * The app's table and flow details rendered to HTML (react-dom/server), the
 * components loaded from ui/src through Vite's SSR loader: virtualization
 * (100k rows held, only the rows in view in the DOM), the contract's test
 * ids, and flows with missing fields. The same components in a browser:
 * app.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createElement, type ComponentType } from 'react';
import { renderToString } from 'react-dom/server';
import { createServer, type ViteDevServer } from 'vite';
import type { Flow__Output } from '../api/generated/flow/Flow.js';
import { repoRoot } from '../common/version.js';
import { DEFAULT_SORT, flowRow, type FlowRow } from './model/flows.js';

let vite: ViteDevServer;
// Typed loosely: the components' own prop types live in ui/ (JSX, DOM), outside this build.
let FlowTable: ComponentType<Record<string, unknown>>;
let FlowDetails: ComponentType<Record<string, unknown>>;

before(async () => {
  vite = await createServer({ configFile: join(repoRoot, 'ui', 'vite.config.ts'), server: { middlewareMode: true, hmr: false, ws: false }, appType: 'custom', logLevel: 'silent' });
  ({ FlowTable } = await vite.ssrLoadModule('/src/FlowTable.tsx'));
  ({ FlowDetails } = await vite.ssrLoadModule('/src/FlowDetails.tsx'));
});

after(async () => {
  await vite?.close();
});

const row = (f: Partial<Flow__Output>, seq = 0): FlowRow => flowRow({ flow: f as Flow__Output, node_name: 'node1', time: f.time ?? null }, seq)!;
const table = (rows: FlowRow[]) => renderToString(createElement(FlowTable, { rows, sort: DEFAULT_SORT, onSort() {}, openSeq: null, onOpen() {}, emptyText: 'No flows yet' }));
const count = (html: string, s: string) => html.split(s).length - 1;

test('the table holds 100,000 flows but renders only the rows in view, with the contract test ids', () => {
  const rows = Array.from({ length: 100_000 }, (_, i) => row({ verdict: i % 2 ? 'DROPPED' : 'FORWARDED', time: { seconds: String(1765000000 + i), nanos: 0 } }, i));
  const html = table(rows);
  const shown = count(html, 'data-testid="flow-row"');
  assert.ok(shown > 0 && shown <= 40, `rows in the DOM: ${shown}`);
  assert.match(html, /data-testid="flow-table"/);
  for (const c of ['time', 'source', 'destination', 'port', 'l7', 'verdict', 'policies', 'node']) assert.match(html, new RegExp(`data-testid="sort-${c}"`));
  assert.match(html, /data-testid="sort-time" aria-sort="descending"/);
  assert.match(html, /data-col="verdict"[^>]*data-verdict="DROPPED"/);
  // The spacer is as tall as every row: the scrollbar tells how many there are.
  assert.match(html, /height:2600000px/);
});

test('an empty table says why', () => {
  assert.match(table([]), /data-testid="empty-state"[^>]*>No flows yet</);
});

test('a dropped flow\'s details: the drop reason in words, the policy that denied it, the JSON', () => {
  const r = row({
    verdict: 'DROPPED',
    drop_reason: 133,
    drop_reason_desc: 'POLICY_DENIED',
    source: { namespace: 'empire', pod_name: 'xwing', labels: [], identity: 258 } as unknown as Flow__Output['source'],
    ingress_denied_by: [{ name: 'rule1', namespace: 'empire', kind: 'CiliumNetworkPolicy', labels: [], revision: '2' }],
  });
  const html = renderToString(createElement(FlowDetails, { row: r, onClose() {} }));
  assert.match(html, /data-testid="flow-details"/);
  assert.match(html, /data-testid="drop-reason"[^>]*>.*POLICY_DENIED.*Policy denied/s);
  assert.match(html, /data-testid="flow-policies".*empire\/rule1.*ingress.*denied/s);
  assert.match(html, /<pre>\{/);
});

test('a flow with nothing known renders (no reason, no policy, no L7)', () => {
  const html = renderToString(createElement(FlowDetails, { row: row({}), onClose() {} }));
  assert.match(html, /No policy named by this flow/);
  assert.doesNotMatch(html, /data-testid="drop-reason"/);
});
