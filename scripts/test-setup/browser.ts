import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium';

// The browser tests (the viewer's end-to-end tests, the HTML report's) drive Debian's headless
// Chromium (never a downloaded browser) through this page, which records what went wrong in it.

/** A headless Chromium page that records console errors, warnings, page errors and dialogs. */
export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and warnings and uncaught page errors, as they happened. */
  consoleProblems: string[];
  /** Messages of dialogs (alert, confirm), which are dismissed. */
  dialogs: string[];
  /** Saves the viewport as `<artifacts>/<name>.png`. */
  screenshot(name: string): Promise<void>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Launches Chromium with a fresh profile; fails with a clear message when it is not installed.
 * @param artifacts where {@link TestBrowser.screenshot} saves (a gitignored `test-artifacts/` folder).
 */
export async function launchBrowser(artifacts: string): Promise<TestBrowser> {
  mkdirSync(artifacts, { recursive: true });
  const { context, userData } = await launchChromium('the browser tests', {
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
      await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false });
    },
    async close() {
      await context.close();
      rmSync(userData, { recursive: true, force: true });
    },
  };
}
