import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type LabelTrust, parseResults, type Results } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBundle } from '../../../scripts/test-setup/app-bundle';
import { launchBrowser, type TestBrowser } from '../../../scripts/test-setup/browser';
import { buildSite } from '../src/build';
import { ARTIFACTS } from './browser';
import { smallResults } from './site-fixtures';

// The trust figures of a version 2 Results document on the site, opened from file:// in headless
// Chromium: the neuron page's sentences are read back into numbers and compared with the
// document's; the overview, layer page and search's "significant only" show the counts worked out
// by hand from the fixture below. A site built from Results without trust figures shows none of it.

const R = 1000;

/** clip-dissect's figures of conv unit 0: every figure, p = 2/1001 (one pseudo-neuron at least as high). */
const UNIT0: LabelTrust = {
  significance: { p: 2 / (R + 1), q: 0.01 },
  stability: { top1: 0.9, top5: 1, resamples: 20 },
  heldOut: { correlation: 0.4149 },
};

function trustedResults(): Results {
  const results = resultsFixture({
    model: 'trusted',
    images: ['img/0.png', 'img/1.png', 'img/2.png'],
    layers: [
      {
        name: 'conv',
        neurons: [
          {
            unit: 0,
            topImages: [{ image: 0 }],
            labels: {
              'clip-dissect': [
                { label: 'dog', score: 0.31 },
                { label: 'cat', score: 0.2 },
              ],
              'clip-avg': [{ label: 'dog', score: 0.5, votes: 5 }],
            },
            trust: { 'clip-dissect': UNIT0, 'clip-avg': { significance: { p: 38 / (R + 1), q: 0.6 } } },
          },
          {
            unit: 1,
            topImages: [{ image: 1 }],
            labels: { 'clip-dissect': [{ label: 'dog', score: 0.25 }] },
            trust: { 'clip-dissect': { significance: { p: 120 / (R + 1), q: 0.18 } } },
          },
          { unit: 2, topImages: [{ image: 2 }], labels: { 'clip-dissect': [{ label: 'sky', score: 0.1 }] } },
        ],
      },
      { name: 'fc', neurons: [{ unit: 0, labels: { 'clip-dissect': [{ label: 'dog', score: 0.4 }] } }] },
    ],
  });
  const nullOf = { permutations: R, seed: 0, quantiles: { q50: 0.1, q95: 0.2, q99: 0.25 } };
  results.layers[0].trust = {
    'clip-dissect': {
      null: nullOf,
      significant: 1,
      tested: 3,
      heldOut: { correlation: 0.33, baseline: 0.0471, folds: 2, neurons: 3 },
    },
    'clip-avg': { null: nullOf, significant: 0, tested: 1 },
  };
  // The figures as written must make a valid version 2 document.
  return parseResults(JSON.stringify(results));
}

let work: string;
let trusted: string;
let plain: string;
let browser: TestBrowser;
let page: Page;

const url = (site: string, hash: string) => `${pathToFileURL(join(site, 'index.html')).href}${hash}`;
const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'neurodissect-e2e-trust-'));
  trusted = join(work, 'trusted');
  plain = join(work, 'plain');
  const appDir = await ensureAppBundle();
  await buildSite({ results: trustedResults(), outDir: trusted, appDir });
  await buildSite({ results: smallResults(), outDir: plain, appDir });
  browser = await launchBrowser(ARTIFACTS);
  page = browser.page;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('trust figures on the site', () => {
  it('shows a neuron’s p and q, stability and held-out correlation equal to the document’s', async () => {
    await page.goto(url(trusted, '#/neuron/conv/0'));
    const box = '.trust[data-labeler="clip-dissect"]';
    await expect.poll(() => page.locator(box).count()).toBe(1);
    expect(await text(`${box} > p:first-child`)).toBe("How far to trust “dog”, clip-dissect's best label:");
    const significance = await text(`${box} [data-trust="significance"]`);
    const stability = await text(`${box} [data-trust="stability"]`);
    const heldOut = await text(`${box} [data-trust="held-out"]`);
    expect(significance).toBe(
      'Significant (q < 0.05): better than 999 of 1,000 random image sets (p = 0.002, q = 0.01).',
    );
    expect(stability).toBe('Stability: same best label in 18 of 20 resamples; in the top 5 in 20.');
    expect(heldOut).toBe('On held-out images: held-out correlation 0.41 (random labels: 0.05).');

    // Read back, the numbers are the document's: the count undoes p = (1 + #{null ≥ s}) / (1 + R).
    const [, beaten, of, p, q] = significance.match(
      /better than ([\d,]+) of ([\d,]+) .*p = ([\d.]+), q = ([\d.]+)/,
    )!;
    const count = (s: string) => Number(s.replace(/,/g, ''));
    expect(count(of)).toBe(R);
    expect((1 + (count(of) - count(beaten))) / (1 + count(of))).toBe(UNIT0.significance!.p);
    expect(Number(p)).toBeCloseTo(UNIT0.significance!.p, 3);
    expect(Number(q)).toBe(UNIT0.significance!.q);
    const [, top1, resamples, top5] = stability.match(/in (\d+) of (\d+) resamples; in the top 5 in (\d+)/)!;
    expect(Number(resamples)).toBe(UNIT0.stability!.resamples);
    expect(Number(top1) / Number(resamples)).toBe(UNIT0.stability!.top1);
    expect(Number(top5) / Number(resamples)).toBe(UNIT0.stability!.top5);
    const [, r, baseline] = heldOut.match(/correlation (-?[\d.]+) \(random labels: (-?[\d.]+)\)/)!;
    expect(Number(r)).toBeCloseTo(UNIT0.heldOut!.correlation, 2);
    expect(Number(baseline)).toBeCloseTo(0.0471, 2);
    expect(await text(`${box} .hint`)).toBe(
      'What these numbers mean: docs/trust.md in the neurodissect repository.',
    );

    // clip-avg has significance only, and it is not significant.
    const other = '.trust[data-labeler="clip-avg"]';
    expect(await page.locator(`${other} li`).count()).toBe(1);
    expect(await text(`${other} [data-trust="significance"]`)).toBe(
      'Not significant (q ≥ 0.05): better than 963 of 1,000 random image sets (p = 0.038, q = 0.6).',
    );
    await browser.screenshot('neuron-trust');
  });

  it('shows no trust box for a neuron without figures', async () => {
    await page.goto(url(trusted, '#/neuron/conv/2'));
    await expect.poll(() => text('h1')).toBe('conv · unit 2');
    expect(await page.locator('table.labels').count()).toBe(1);
    expect(await page.locator('.trust').count()).toBe(0);
  });

  it('counts the significant neurons per labeler on the overview and the layer page', async () => {
    await page.goto(url(trusted, '#/'));
    const conv = 'table.layers tr[data-layer="conv"] td.significance';
    await expect.poll(() => page.locator(conv).count()).toBe(1);
    expect(await page.locator(`${conv} li`).allTextContents()).toEqual([
      'clip-dissect: 1 of 3 significant (q < 0.05)',
      'clip-avg: 0 of 1 significant (q < 0.05)',
    ]);
    expect(await text('table.layers tr[data-layer="fc"] td.significance')).toBe('–');

    await page.goto(url(trusted, '#/layer/conv'));
    await expect.poll(() => text('h1')).toBe('Layer conv');
    expect(await page.locator('section.trust li').allTextContents()).toEqual([
      'clip-dissect: 1 of 3 significant (q < 0.05); mean held-out correlation 0.33 (random labels: 0.05)',
      'clip-avg: 0 of 1 significant (q < 0.05)',
    ]);
    await page.goto(url(trusted, '#/layer/fc'));
    await expect.poll(() => text('h1')).toBe('Layer fc');
    expect(await page.locator('section.trust').count()).toBe(0);
  });

  it('keeps only significant neurons in search when asked', async () => {
    await page.goto(url(trusted, '#/search?q=dog'));
    await expect.poll(() => text('p.summary')).toMatch(/^3 neurons in 2 of 2 layers/);
    expect(await page.locator('section[data-layer="conv"] tbody td:first-child').allTextContents()).toEqual([
      'unit 0',
      'unit 1',
    ]);
    expect(await page.locator('section[data-layer="conv"] tbody td:nth-child(5)').allTextContents()).toEqual([
      '0.01',
      '0.18',
    ]);
    await page.check('#concept-significant');
    await page.click('form[role=search] button[type=submit]');
    await page.waitForURL((u) => u.hash === '#/search?q=dog&significant=1');
    await expect
      .poll(() => text('p.summary'))
      .toBe('1 neuron in 1 of 2 layers (exact match, clip-dissect, significant only: q < 0.05).');
    expect(await page.locator('section[data-layer="conv"] tbody td:first-child').allTextContents()).toEqual([
      'unit 0',
    ]);
    expect(await page.locator('section[data-layer="fc"] tbody tr').count()).toBe(0);
    expect(await page.isChecked('#concept-significant')).toBe(true);

    // clip-avg's "dog" neuron is not significant.
    await page.click('a[data-labeler="clip-avg"]');
    await page.waitForURL((u) => u.hash === '#/search?q=dog&labeler=clip-avg&significant=1');
    await expect.poll(() => text('p.summary')).toMatch(/^0 neurons in 0 of 2 layers/);
  });

  it('shows nothing new for Results without trust figures', async () => {
    await page.goto(url(plain, '#/'));
    await expect.poll(() => text('h1')).toBe('small <model>');
    expect(await page.locator('table.layers thead th').allTextContents()).toEqual([
      'Layer',
      'Units',
      'Neurons',
      'Interpretable by score',
    ]);
    expect(await page.locator('#concept-significant').count()).toBe(0);
    await page.goto(url(plain, '#/layer/conv'));
    await expect.poll(() => text('h1')).toBe('Layer conv');
    expect(await page.locator('.trust').count()).toBe(0);
    await page.goto(url(plain, '#/neuron/conv/0'));
    await expect.poll(() => text('h1')).toBe('conv · unit 0');
    expect(await page.locator('.trust').count()).toBe(0);
    await page.goto(url(plain, '#/search?q=dog'));
    await expect.poll(() => page.locator('section.layer-hits').count()).toBe(2);
    expect(await page.locator('table.hits thead th').first().textContent()).toBe('Unit');
    expect(await page.locator('table.hits thead th', { hasText: 'q (best label)' }).count()).toBe(0);
  });

  it('printed nothing to the browser console', () => {
    expect(browser.consoleProblems).toEqual([]);
  });
});
