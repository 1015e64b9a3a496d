import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { launchBrowser } from '../../../scripts/test-setup/browser';
import { loadClipSearch } from '../../../scripts/test-setup/clip-search';
import { evaluateResults, formatHtmlReport, renderFigures } from '../src/index';

// The HTML report opened in headless Chromium, on the real clip-search data (3,840 neurons).
describe('the HTML report in a browser', () => {
  it('renders its tables and figures without errors', { timeout: 120_000 }, async () => {
    const report = evaluateResults(loadClipSearch());
    const figures = await renderFigures(report);
    const file = join(mkdtempSync(join(tmpdir(), 'neurodissect-report-')), 'report.html');
    writeFileSync(file, formatHtmlReport(report, { figures }));

    const browser = await launchBrowser(fileURLToPath(new URL('../test-artifacts/', import.meta.url)));
    try {
      await browser.page.goto(pathToFileURL(file).href);
      // Table 3 per layer, with the counts computed independently for the clip-search data.
      const text = await browser.page.locator('body').textContent();
      for (const row of ['layer1', 'layer2', 'layer3', 'layer4']) expect(text).toContain(row);
      expect(text).toMatch(/634/); // layer4: neurons with max score ≥ 0.3
      expect(await browser.page.locator('table').count()).toBeGreaterThan(0);
      // Every figure is an image that the browser decoded.
      const images = browser.page.locator('img');
      expect(await images.count()).toBe(figures.length);
      const decoded = await images.evaluateAll((all) =>
        all.map((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0),
      );
      expect(decoded.every(Boolean)).toBe(true);
      await browser.screenshot('eval-report');
      expect(browser.consoleProblems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
