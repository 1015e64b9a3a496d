import { mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseResults, type Results } from '@neurodissect/core';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../../scripts/test-setup/chromium';

// The end-to-end tests drive Debian's headless Chromium (never a downloaded browser).
// Screenshots go to test-artifacts/ (gitignored), kept as the tests' artifacts.
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

/** A headless Chromium page that records console errors, warnings, page errors and dialogs. */
export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and warnings and uncaught page errors, as they happened. */
  consoleProblems: string[];
  /** Messages of dialogs (alert, confirm), which are dismissed. */
  dialogs: string[];
  /** Saves the viewport as test-artifacts/<name>.png. */
  screenshot(name: string): Promise<void>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile; fails with a clear message when it is not installed. */
export async function launchBrowser(): Promise<TestBrowser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { context, userData } = await launchChromium("the viewer's end-to-end tests", {
    viewport: { width: 1200, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  const consoleProblems: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      consoleProblems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleProblems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return {
    context,
    page,
    consoleProblems,
    dialogs,
    async screenshot(name) {
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
    },
    async close() {
      await context.close();
      rmSync(userData, { recursive: true, force: true });
    },
  };
}

/** Clicks the in-browser page's "Download results.json" and reads the validated Results. */
export async function downloadResults(page: Page): Promise<Results> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-results')]);
  const path = await download.path();
  if (path === null) throw new Error('the download was not saved');
  return parseResults(await readFile(path, 'utf8'));
}
