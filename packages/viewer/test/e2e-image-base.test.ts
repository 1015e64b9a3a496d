import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseResults, type Results } from '@neurodissect/core';
import { encodeRgbPng } from '@neurodissect/toyworld';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBundle } from '../../../scripts/test-setup/app-bundle';
import { launchBrowser, type TestBrowser } from '../../../scripts/test-setup/browser';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { runCli } from '../../cli/src/program';
import { ARTIFACTS } from './browser';

// The published clip-search data as a user gets it on screen: `neurodissect import clip-search`,
// then `neurodissect site --image-base URL`, the images served by a local test server standing in
// for the report's web site, the site opened from file:// in headless Chromium.

let work: string;
let results: Results;
let images: { url: string; close(): Promise<void> };
let browser: TestBrowser;
let page: Page;
/** layer4 unit 1802: Figure 18's first "dog" neuron. */
const UNIT = 1802;
const SIZE = 24;

async function cli(...argv: string[]): Promise<string> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  if (code !== 0 || stderr !== '')
    throw new Error(`neurodissect ${argv[0]} failed (${code}):\n${stderr}\n${stdout}`);
  return stdout;
}

function url(hash: string): string {
  return `${pathToFileURL(join(work, 'site', 'index.html')).href}${hash}`;
}

beforeAll(async () => {
  await ensureAppBundle();
  work = mkdtempSync(join(tmpdir(), 'neurodissect-e2e-image-base-'));
  await cli('import', 'clip-search', fixturePath('core', 'clip-search'), '--out', join(work, 'results.json'));
  results = parseResults(readFileSync(join(work, 'results.json'), 'utf8'));
  // The image server stands in for the report's web site: every probe image at its Broden path,
  // each a colour of its own; anything else is not found.
  const served = new Map(results.probe.images.map((image, i) => [`/${image.uri}`, i]));
  const server = createServer((request, response) => {
    const index = served.get(decodeURIComponent(request.url ?? ''));
    if (index === undefined) {
      response.writeHead(404).end();
      return;
    }
    const data = new Uint8Array(SIZE * SIZE * 3).map((_, j) =>
      j % 3 === 0 ? index % 256 : j % 3 === 1 ? 200 : 60,
    );
    response
      .writeHead(200, { 'Content-Type': 'image/png' })
      .end(encodeRgbPng({ width: SIZE, height: SIZE, data }));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  images = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((closed) => server.close(() => closed())),
  };
  await cli(
    'site',
    '--results',
    join(work, 'results.json'),
    '--out',
    join(work, 'site'),
    '--image-base',
    images.url,
  );
  browser = await launchBrowser(ARTIFACTS);
  page = browser.page;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await images?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the imported clip-search site with --image-base', () => {
  it('shows the real images on a neuron page, each linked to its original', async () => {
    await page.goto(url(`#/neuron/layer4/${UNIT}`));
    await expect.poll(() => page.locator('h1').textContent()).toBe(`layer4 · unit ${UNIT}`);
    const view = results.layers.find((l) => l.name === 'layer4')!.neurons.find((n) => n.unit === UNIT)!;
    const thumbs = page.locator('.tiles .tile img');
    await expect.poll(() => thumbs.count()).toBe(view.topImages.length);
    expect(await page.locator('.tiles .placeholder').count()).toBe(0);
    const expected = view.topImages.map((t) => `${images.url}${results.probe.images[t.image].uri}`);
    expect(await thumbs.evaluateAll((all) => all.map((img) => (img as HTMLImageElement).src))).toEqual(
      expected,
    );
    // Every one loaded from the image server: the served image's own size.
    const sizes = () =>
      thumbs.evaluateAll(async (all) => {
        for (const img of all as HTMLImageElement[]) {
          img.scrollIntoView({ block: 'nearest' });
          if (!img.complete) await new Promise((done) => img.addEventListener('load', done, { once: true }));
        }
        return (all as HTMLImageElement[]).map((img) => img.naturalWidth);
      });
    await expect.poll(sizes).toEqual(expected.map(() => SIZE));
    expect(
      await page.locator('.tiles .tile-frame a').evaluateAll((all) => all.map((a) => a.getAttribute('href'))),
    ).toEqual(expected);
    expect(await page.locator('.image-source code').textContent()).toBe(images.url);
    await page.locator('#images-heading').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await browser.screenshot('clip-search-image-base');
  });

  it('lists "stripes" in the order of the report’s Figure 16, and offers a closest label for a typo', async () => {
    await page.goto(url('#/search?q=stripes&layer=layer4'));
    const units = page.locator('section.layer-hits[data-layer="layer4"] tbody tr td:first-child');
    await expect
      .poll(async () => (await units.allTextContents()).slice(0, 11))
      .toEqual([1330, 761, 769, 610, 1069, 779, 1173, 853, 1989, 1872, 582].map((u) => `unit ${u}`));
    await page.goto(url('#/search?q=zebar'));
    const closest = page.locator('p.closest a').first();
    await expect.poll(() => closest.textContent()).toBe('zebra');
    await closest.click();
    await expect.poll(() => page.locator('p.summary').textContent()).toMatch(/^\d+ neurons in 4 of 4 layers/);
  });

  it('has no page wider than a 420 px screen, and the concept set without a made-up size', async () => {
    await page.setViewportSize({ width: 420, height: 900 });
    try {
      for (const hash of ['#/', '#/layer/layer4', `#/neuron/layer4/${UNIT}`, '#/search?q=dog&match=stem']) {
        await page.goto(url(hash));
        await page.locator('main h1').waitFor();
        await expect.poll(() => page.locator('main').getAttribute('aria-busy')).toBe(null);
        expect(await page.evaluate(() => document.documentElement.scrollWidth), hash).toBeLessThanOrEqual(
          420,
        );
        if (hash === '#/') await browser.screenshot('clip-search-overview-420px');
      }
      await page.goto(url('#/'));
      await expect.poll(() => page.locator('dl.facts').textContent()).toContain('20k (size not recorded)');
    } finally {
      await page.setViewportSize({ width: 1200, height: 900 });
    }
  });

  it('printed nothing to the browser console', () => {
    expect(browser.consoleProblems).toEqual([]);
  });
});
