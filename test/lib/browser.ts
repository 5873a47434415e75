/**
 * Headless Chromium for the web UI's tests: Debian's /usr/bin/chromium
 * driven by playwright-core (no browser can be downloaded here), with the
 * flags that keep it off the network: only the page's own loopback server
 * is ever contacted.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from '../../src/common/version.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Where tests leave screenshots and downloads (kept after the run; not in git). */
export const ARTIFACTS = join(repoRoot, 'test-artifacts');

export interface UiBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

/** A browser with one page at 1366×768 (a laptop screen), downloads allowed. */
export async function openBrowser(): Promise<UiBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'],
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return {
    browser,
    context,
    page,
    errors,
    close: async () => {
      await browser.close().catch(() => undefined);
    },
  };
}

/** A screenshot into test-artifacts/<dir>/<name>.png; returns its path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const d = join(ARTIFACTS, dir);
  mkdirSync(d, { recursive: true });
  const path = join(d, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
