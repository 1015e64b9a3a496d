import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseResults, type Results } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBundle } from '../../../scripts/test-setup/app-bundle';
import { launchBrowser, type TestBrowser } from '../../../scripts/test-setup/browser';
import { buildSite } from '../src/build';
import { ARTIFACTS } from './browser';

// A neuron's relations on its page, opened from file:// in headless Chromium: the units it fires
// with as links to their pages, with their labels from the other layer's data, and a layer that was
// related to but not dissected (no page) as plain text.
function relatedResults(): Results {
  const results = resultsFixture({
    images: ['img/0.png'],
    layers: [
      {
        name: 'layer3',
        neurons: [
          { unit: 0, labels: { 'clip-dissect': [{ label: 'striped', score: 0.3 }] } },
          { unit: 1, labels: { 'clip-dissect': [{ label: 'red', score: 0.2 }] } },
        ],
      },
      {
        name: 'layer4',
        neurons: [
          {
            unit: 0,
            labels: { 'clip-dissect': [{ label: 'zebra', score: 0.4 }] },
            relations: [
              {
                layer: 'layer3',
                direction: 'from',
                units: [
                  { unit: 1, r: 0.81 },
                  { unit: 0, r: -0.125 },
                ],
              },
              { layer: 'layer2', direction: 'from', units: [{ unit: 7, r: 0.5 }] },
            ],
          },
        ],
      },
    ],
  });
  return parseResults(JSON.stringify(results));
}

let work: string;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'neurodissect-e2e-relations-'));
  await buildSite({ results: relatedResults(), outDir: work, appDir: await ensureAppBundle() });
  browser = await launchBrowser(ARTIFACTS);
  page = browser.page;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('relations on the neuron page', () => {
  it('lists the units a neuron fires with, linked, with their labels and r', async () => {
    await page.goto(`${pathToFileURL(join(work, 'index.html')).href}#/neuron/layer4/0`);
    const items = page.locator('.relations-section li');
    await expect.poll(() => items.count()).toBe(3);
    await expect
      .poll(async () => (await items.first().textContent())?.trim())
      .toBe('layer3 #1 red, r = 0.81');
    expect((await items.nth(1).textContent())?.trim()).toBe('layer3 #0 striped, r = -0.13');
    expect(await items.first().locator('a').getAttribute('href')).toBe('#/neuron/layer3/1');
    expect((await items.nth(2).textContent())?.trim()).toBe('layer2 #7, r = 0.50');
    expect(await items.nth(2).locator('a').count()).toBe(0);
    // A neuron without relations has no such section.
    await page.goto(`${pathToFileURL(join(work, 'index.html')).href}#/neuron/layer3/0`);
    await expect.poll(() => page.locator('h1').textContent()).toContain('layer3 · unit 0');
    expect(await page.locator('.relations-section').count()).toBe(0);
  });
});
