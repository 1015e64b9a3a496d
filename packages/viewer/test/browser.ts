import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseResults, type Results } from '@neurodissect/core';
import type { Page } from 'playwright-core';

/** Where the viewer's browser tests save screenshots, kept as their artifacts (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

/** Clicks the in-browser page's "Download results.json" and reads the validated Results. */
export async function downloadResults(page: Page): Promise<Results> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-results')]);
  const path = await download.path();
  if (path === null) throw new Error('the download was not saved');
  return parseResults(await readFile(path, 'utf8'));
}
