import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Results } from '@neurodissect/core';
import { createSearchIndex, type SearchIndex } from '@neurodissect/search';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBundle } from '../../../scripts/test-setup/app-bundle';
import { launchBrowser, type TestBrowser } from '../../../scripts/test-setup/browser';
import { buildSite } from '../src/build';
import { ARTIFACTS } from './browser';
import { clipSearchForSite, writeImages, XSS_LABEL } from './site-fixtures';

// End-to-end: the site built from the 3,840 clip-search neurons, opened from file:// in Debian's
// headless Chromium. Screenshots go to test-artifacts/ (gitignored).

let results: Results;
let index: SearchIndex;
let work: string;
let site: string;
let browser: TestBrowser;
let page: Page;

function url(hash: string): string {
  return `${pathToFileURL(join(site, 'index.html')).href}${hash}`;
}

async function screenshot(name: string): Promise<void> {
  await browser.screenshot(name);
}

beforeAll(async () => {
  results = clipSearchForSite();
  index = createSearchIndex(results);
  work = mkdtempSync(join(tmpdir(), 'neurodissect-e2e-'));
  site = join(work, 'site');
  const imageRoot = join(work, 'images');
  // Only layer1 unit 0's first two images exist: every other image is a placeholder.
  const unit0 = results.layers[0].neurons.find((n) => n.unit === 0)!;
  writeImages(
    imageRoot,
    unit0.topImages.slice(0, 2).map((t) => results.probe.images[t.image].uri),
  );
  await buildSite({ results, outDir: site, imageRoot, appDir: await ensureAppBundle() });
  browser = await launchBrowser(ARTIFACTS);
  page = browser.page;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the site in headless Chromium', () => {
  it('shows the overview with every layer', async () => {
    await page.goto(url('#/'));
    await expect.poll(() => page.locator('h1').textContent()).toBe('resnet50 (imported from clip-search)');
    const rows = page.locator('table.layers tbody tr');
    expect(await rows.locator('th').allTextContents()).toEqual(['layer1', 'layer2', 'layer3', 'layer4']);
    expect(await rows.locator('td:nth-child(3)').allTextContents()).toEqual(['256', '512', '1024', '2048']);
    await screenshot('overview');
  });

  it('searches a concept, with per-layer counts from the search library', async () => {
    await page.fill('#concept-query', 'dog');
    await page.selectOption('#concept-match', 'stem');
    await page.click('form[role=search] button[type=submit]');
    await page.waitForURL((u) => u.hash === '#/search?q=dog&match=stem');
    const expected = index.search('dog', { match: 'stem' });
    await expect.poll(() => page.locator('p.summary').textContent()).toContain(`${expected.total} neurons`);
    for (const group of expected.layers) {
      const section = page.locator(`section.layer-hits[data-layer="${group.layer}"]`);
      expect(await section.locator('h2').textContent()).toBe(
        `${group.layer} — ${group.count} neuron${group.count === 1 ? '' : 's'}`,
      );
      const shown = group.hits.slice(0, 50);
      expect(await section.locator('tbody tr td:first-child').allTextContents()).toEqual(
        shown.map((h) => `unit ${h.unit}`),
      );
    }
    // Example images are placeholders that show their paths.
    const placeholders = page.locator('.examples .placeholder');
    expect(await placeholders.count()).toBeGreaterThan(0);
    expect(await placeholders.first().locator('.placeholder-path').textContent()).toMatch(
      /^data\/broden1_224\/images\//,
    );
    await screenshot('search');
  });

  it('opens a result with its labels and top images, and keeps it through reload, back and forward', async () => {
    const best = index.search('dog', { match: 'stem', layers: ['layer4'] }).layers[0].hits[0];
    await page.locator('section.layer-hits[data-layer="layer4"] tbody tr').first().locator('a').click();
    await page.waitForURL((u) => u.hash === `#/neuron/layer4/${best.unit}`);
    await expect.poll(() => page.locator('h1').textContent()).toBe(`layer4 · unit ${best.unit}`);
    const check = async () => {
      const view = index.neuron('layer4', best.unit);
      const labels = view.labels['clip-dissect'];
      const rows = page.locator('table.labels tbody tr');
      await expect.poll(() => rows.count()).toBe(10);
      expect(await rows.locator('td:nth-child(2)').allTextContents()).toEqual(labels.map((l) => l.label));
      expect(await rows.locator('td:nth-child(3)').allTextContents()).toEqual(
        labels.map((l) => l.score.toFixed(4)),
      );
      expect(await page.locator('.tiles .placeholder-path').allTextContents()).toEqual(
        view.topImages.map((i) => i.uri),
      );
      expect(await page.locator('.tiles .placeholder').first().getAttribute('aria-label')).toBe(
        `Image not available: ${view.topImages[0].uri}`,
      );
      await expect.poll(() => page.locator('.similar-list li').count()).toBeGreaterThan(0);
    };
    await check();
    await screenshot('neuron');

    await page.reload();
    await check();
    await page.goBack();
    await page.waitForURL((u) => u.hash === '#/search?q=dog&match=stem');
    await expect.poll(() => page.locator('section.layer-hits').count()).toBe(4);
    await page.goForward();
    await page.waitForURL((u) => u.hash === `#/neuron/layer4/${best.unit}`);
    await check();
  });

  it('follows a deep link in a fresh page and moves between neurons with the keyboard', async () => {
    await page.goto(url('#/neuron/layer2/41'));
    await expect.poll(() => page.locator('h1').textContent()).toBe('layer2 · unit 41');
    await page.keyboard.press('ArrowRight');
    await page.waitForURL((u) => u.hash === '#/neuron/layer2/42');
    await expect.poll(() => page.locator('h1').textContent()).toBe('layer2 · unit 42');
    await page.keyboard.press('ArrowLeft');
    await page.waitForURL((u) => u.hash === '#/neuron/layer2/41');
    await page.keyboard.press('/');
    await page.waitForURL((u) => u.hash === '#/search');
    // …where the search box has the focus, ready for typing.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('concept-query');
  });

  it('shows a thumbnail with its activation and heatmap where the image exists', async () => {
    await page.goto(url('#/neuron/layer1/0'));
    const first = page.locator('.tiles .tile').first();
    await expect
      .poll(() =>
        first
          .locator('img:not(.heatmap)')
          .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
      )
      .toBe(1);
    // The heatmap, drawn over the image once both are in.
    await expect.poll(() => first.locator('canvas.heatmap-region').count()).toBe(1);
    expect(await first.locator('.activation').textContent()).toBe('act 3.250');
    expect(await page.locator('.tiles .tile').nth(2).locator('.placeholder').count()).toBe(1);
  });

  it('shows a label made of markup as text, in the neuron page and in search', async () => {
    await page.goto(url('#/neuron/layer4/7'));
    const cell = page.locator('table.labels tbody tr').first().locator('td:nth-child(2)');
    await expect.poll(() => cell.textContent()).toBe(XSS_LABEL);
    expect(await page.locator('main img[src="x"]').count()).toBe(0);

    await page.goto(url(`#/search?q=${encodeURIComponent(XSS_LABEL)}`));
    const section = page.locator('section.layer-hits[data-layer="layer4"]');
    await expect.poll(() => section.locator('tbody td:nth-child(2)').allTextContents()).toEqual([XSS_LABEL]);
    expect(await page.locator('h1').textContent()).toBe(`Concept search: ${XSS_LABEL}`);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(browser.dialogs).toEqual([]);
  });

  it('shows a layer with its charts and a filterable, sortable neuron table', async () => {
    await page.goto(url('#/layer/layer4'));
    await expect.poll(() => page.locator('h1').textContent()).toBe('Layer layer4');
    expect(await page.locator('svg.chart rect.bar').count()).toBe(20);
    expect(await page.locator('ol.bar-list li').count()).toBe(26);
    const rows = page.locator('table.neurons tbody tr');
    expect(await rows.count()).toBe(50);
    expect(await page.locator('p.summary[role=status]').textContent()).toBe('2048 neurons; page 1 of 41.');
    await screenshot('layer');

    await page.fill('#neuron-filter', 'dog');
    const matching = results.layers[3].neurons.filter((n) =>
      n.labels['clip-dissect'].some((l) => l.label.toLowerCase().includes('dog')),
    ).length;
    await expect
      .poll(() => page.locator('p.summary[role=status]').textContent())
      .toMatch(new RegExp(`^${matching} of 2048 neurons match "dog"`));
    expect(page.url()).toContain('#/layer/layer4?filter=dog');

    await page.click('th button.sort >> text=Score');
    await expect.poll(() => page.locator('th[aria-sort]').textContent()).toBe('Score');
    const scores = (await rows.locator('td:nth-child(3)').allTextContents()).map(Number);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    // The table state survives a reload.
    await page.reload();
    await expect
      .poll(() => page.locator('p.summary[role=status]').textContent())
      .toMatch(new RegExp(`^${matching} of 2048`));
    expect(await page.inputValue('#neuron-filter')).toBe('dog');
  });

  it('printed nothing to the browser console', () => {
    expect(browser.consoleProblems).toEqual([]);
  });
});
