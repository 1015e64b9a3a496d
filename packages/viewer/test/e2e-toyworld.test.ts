import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseResults, type Results, type ResultsLayer, type ResultsNeuron } from '@neurodissect/core';
import { createSearchIndex, type SearchIndex } from '@neurodissect/search';
import { toyWorldModelPaths } from '@neurodissect/toyworld/node';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBundle } from '../../../scripts/test-setup/app-bundle';
import { launchBrowser, type TestBrowser } from '../../../scripts/test-setup/browser';
import { type StaticServer, startStaticServer } from '../../cli/src/commands/serve';
import { runCli } from '../../cli/src/program';
import { REGION_THRESHOLD } from '../src/app/heatmap-render';
import { ARTIFACTS, brightnessRatios, downloadResults, regionMask } from './browser';

// End-to-end on the toy-world demo: `neurodissect demo` run in-process (small: 150 images, two
// labelers), then its site opened from file:// in headless Chromium. Every expectation is read
// from the demo's results.json, never hard-coded. Screenshots: test-artifacts/toyworld-*.png.

const LABELERS = ['clip-dissect', 'broden-label'];

let work: string;
let results: Results;
let index: SearchIndex;
let browser: TestBrowser;
let page: Page;
/** The concept searched for, the layer whose first hit is opened, and that neuron. */
let concept: string;
let layer: ResultsLayer;
let neuron: ResultsNeuron;

function url(hash: string): string {
  return `${pathToFileURL(join(work, 'site', 'index.html')).href}${hash}`;
}

/** A concept that is some neuron's top clip-dissect label, in the deepest layer that has one. */
function pickConcept(r: Results): { concept: string; layer: ResultsLayer } {
  for (const l of [...r.layers].reverse()) {
    const top = l.neurons.find((n) => (n.labels['clip-dissect']?.length ?? 0) > 0);
    if (top) return { concept: top.labels['clip-dissect'][0].label, layer: l };
  }
  throw new Error('the demo labelled no neuron');
}

beforeAll(async () => {
  // The demo's site takes the viewer's app from dist/site: bring it up to date with the sources.
  await ensureAppBundle();
  work = mkdtempSync(join(tmpdir(), 'neurodissect-e2e-toyworld-'));
  let stdout = '';
  let stderr = '';
  const code = await runCli(['demo', '--out', work, '--count', '150', '--labelers', LABELERS.join(',')], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  if (code !== 0 || stderr !== '')
    throw new Error(`neurodissect demo failed (${code}):\n${stderr}\n${stdout}`);
  results = parseResults(readFileSync(join(work, 'results.json'), 'utf8'));
  index = createSearchIndex(results);
  ({ concept, layer } = pickConcept(results));
  browser = await launchBrowser(ARTIFACTS);
  page = browser.page;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * Every image of `images` loads and decodes (none is broken). The thumbnails load lazily, so the
 * page scrolls each into view and waits for it, then scrolls back to the top.
 */
async function expectAllLoaded(images: Locator): Promise<void> {
  expect(await images.count()).toBeGreaterThan(0);
  const broken = () =>
    images.evaluateAll(async (all: HTMLImageElement[]) => {
      for (const img of all) {
        img.scrollIntoView({ block: 'nearest' });
        if (!img.complete)
          await new Promise((done) => {
            img.addEventListener('load', done, { once: true });
            img.addEventListener('error', done, { once: true });
            setTimeout(done, 2000);
          });
      }
      window.scrollTo(0, 0);
      return all.filter((img) => !(img.complete && img.naturalWidth > 0)).map((img) => img.src.slice(0, 80));
    });
  await expect.poll(broken).toEqual([]);
}

/** A PNG screenshot's pixels, decoded by the browser (the viewer's tests have no image library). */
async function pixelsOf(
  png: Buffer,
): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }> {
  const { width, height, data } = await page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    return { width: canvas.width, height: canvas.height, data: Array.from(pixels) };
  }, png.toString('base64'));
  return { data: Buffer.from(data), info: { width, height, channels: 4 } };
}

/** Checks the neuron page now shown: both labelers' labels and scores, thumbnails, heatmaps. */
async function checkNeuronPage(n: ResultsNeuron): Promise<void> {
  await expect.poll(() => page.locator('h1').textContent()).toBe(`${layer.name} · unit ${n.unit}`);
  for (const labeler of LABELERS) {
    const expected = n.labels[labeler].slice(0, 10);
    expect(expected.length).toBeGreaterThan(0);
    const rows = page.locator(`table.labels[data-labeler="${labeler}"] tbody tr`);
    await expect.poll(() => rows.count(), { message: labeler }).toBe(expected.length);
    expect(await rows.locator('td:nth-child(2)').allTextContents()).toEqual(expected.map((l) => l.label));
    expect(await rows.locator('td:nth-child(3)').allTextContents()).toEqual(
      expected.map((l) => l.score.toFixed(4)),
    );
  }
  // Real thumbnails, every one loaded, each with its heatmap drawn over it (the region and the
  // colour overlay, once the images are in).
  const tiles = page.locator('.tiles .tile');
  await expect.poll(() => tiles.count()).toBe(n.topImages.length);
  expect(await page.locator('.tiles .placeholder').count()).toBe(0);
  const thumbs = page.locator('.tiles .tile img:not(.heatmap)');
  expect(await thumbs.count()).toBe(n.topImages.length);
  expect(n.topImages.filter((t) => t.heatmap !== undefined).length).toBe(n.topImages.length);
  await expectAllLoaded(thumbs);
  await expect.poll(() => page.locator('.tiles canvas.heatmap-region').count()).toBe(n.topImages.length);
  expect(await page.locator('.tiles canvas.heatmap-colour').count()).toBe(n.topImages.length);
  expect(await page.locator('.tiles img.heatmap').count()).toBe(0);
  expect(await thumbs.first().getAttribute('src')).not.toMatch(/^data:/);
  expect(await page.locator('.tiles .activation').allTextContents()).toEqual(
    n.topImages.map((t) => `act ${t.activation!.toFixed(3)}`),
  );
}

describe('the toy-world demo site in headless Chromium', () => {
  it('shows the overview with layer1-layer4 and their neuron counts', async () => {
    await page.goto(url('#/'));
    await expect.poll(() => page.locator('h1').textContent()).toBe('neurodissect demo: the toy world');
    const rows = page.locator('table.layers tbody tr');
    expect(await rows.locator('th').allTextContents()).toEqual(['layer1', 'layer2', 'layer3', 'layer4']);
    expect(results.layers.map((l) => l.name)).toEqual(['layer1', 'layer2', 'layer3', 'layer4']);
    expect(await rows.locator('td:nth-child(3)').allTextContents()).toEqual(
      results.layers.map((l) => String(l.neurons.length)),
    );
    await browser.screenshot('toyworld-overview');
    // The demo's eval report is in the site, linked, with its ground-truth counts beside the scores'.
    const report = JSON.parse(readFileSync(join(work, 'report', 'report.json'), 'utf8')) as {
      labelers: {
        id: string;
        layers: { layer: string; accuracy?: { interpretable: number; total: number } }[];
      }[];
    };
    expect(await page.locator('a.report-link').getAttribute('href')).toBe('report/index.html');
    expect(await page.locator('table.layers thead th').allTextContents()).toContain(
      'By ground truth (report)',
    );
    const first = report.labelers[0];
    const a = first.layers[0].accuracy!;
    expect(
      await page
        .locator(
          `table.layers tbody tr[data-layer="${first.layers[0].layer}"] td.ground-truth li[data-labeler="${first.id}"]`,
        )
        .textContent(),
    ).toContain(`${a.interpretable} of ${a.total} interpretable`);
    await page.click('a.report-link');
    await page.waitForURL((u) => u.pathname.endsWith('/report/index.html'));
    const neuronLink = page.locator('p.units a').first();
    await neuronLink.click();
    await expect.poll(() => page.locator('h1').textContent()).toMatch(/^layer1 · unit \d+$/);
    await page.goto(url('#/'));
    await expect.poll(() => page.locator('h1').textContent()).toBe('neurodissect demo: the toy world');
  });

  it('fits a 420 px screen on every page, a neuron page showing its primary labels, then its images', async () => {
    await page.setViewportSize({ width: 420, height: 900 });
    try {
      const unit = results.layers[3].neurons[0].unit;
      for (const hash of [
        '#/',
        '#/layer/layer4',
        `#/neuron/layer4/${unit}`,
        `#/search?q=${encodeURIComponent(concept)}`,
        '#/label',
      ]) {
        await page.goto(url(hash));
        await page.locator('main h1').waitFor();
        await expect.poll(() => page.locator('main').getAttribute('aria-busy')).toBe(null);
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(width, hash).toBeLessThanOrEqual(420);
        if (hash.startsWith('#/neuron')) {
          await browser.screenshot('toyworld-neuron-420px');
          const top = (selector: string) =>
            page
              .locator(selector)
              .first()
              .evaluate((e) => e.getBoundingClientRect().top);
          const primary = await top('.labeler-block.primary');
          const images = await top('.tiles');
          const other = await top('.labeler-block.other');
          expect(primary).toBeLessThan(images);
          expect(images).toBeLessThan(other);
        }
      }
    } finally {
      await page.setViewportSize({ width: 1200, height: 900 });
    }
    await page.goto(url('#/'));
    await expect.poll(() => page.locator('h1').textContent()).toBe('neurodissect demo: the toy world');
  });

  it('searches a top label and lists its neurons per layer', async () => {
    await page.fill('#concept-query', concept);
    await page.click('form[role=search] button[type=submit]');
    await page.waitForURL((u) => u.hash === `#/search?q=${encodeURIComponent(concept)}`);
    const expected = index.search(concept, { match: 'exact' });
    expect(expected.total).toBeGreaterThan(0);
    await expect.poll(() => page.locator('p.summary').textContent()).toContain(`${expected.total} neuron`);
    for (const group of expected.layers) {
      const section = page.locator(`section.layer-hits[data-layer="${group.layer}"]`);
      expect(await section.locator('h2').textContent()).toBe(
        `${group.layer} — ${group.count} neuron${group.count === 1 ? '' : 's'}`,
      );
      expect(await section.locator('tbody tr td:first-child').allTextContents()).toEqual(
        group.hits.slice(0, 50).map((h) => `unit ${h.unit}`),
      );
    }
    // The example images are real thumbnails.
    const examples = page.locator('.examples img');
    expect(await examples.count()).toBeGreaterThan(0);
    expect(await page.locator('.examples .placeholder').count()).toBe(0);
    await expectAllLoaded(examples);
    await browser.screenshot('toyworld-search');
    // Hits belong to one labeler at a time; the others are a click away, with their counts.
    const other = expected.byLabeler.find((b) => !expected.labelers.includes(b.labeler));
    if (other) {
      const link = page.locator(`p.labelers a[data-labeler="${other.labeler}"]`);
      expect(await link.textContent()).toBe(`${other.labeler} (${other.count})`);
      await link.click();
      await page.waitForURL((u) => u.hash.includes(`labeler=${other.labeler}`));
      await expect.poll(() => page.locator('p.summary').textContent()).toContain(`${other.count} neuron`);
      await page.goBack();
    }
  });

  it("opens a result: both labelers' labels with their scores, thumbnails with heatmaps", async () => {
    const first = index.search(concept, { match: 'exact', layers: [layer.name] }).layers[0].hits[0];
    neuron = layer.neurons.find((n) => n.unit === first.unit)!;
    await page
      .locator(`section.layer-hits[data-layer="${layer.name}"] tbody tr`)
      .first()
      .locator('a')
      .click();
    await page.waitForURL((u) => u.hash === `#/neuron/${layer.name}/${neuron.unit}`);
    await checkNeuronPage(neuron);
    // The searched concept is among this neuron's labels.
    expect(
      LABELERS.some((id) => neuron.labels[id].some((l) => l.label.toLowerCase() === concept.toLowerCase())),
    ).toBe(true);
    await browser.screenshot('toyworld-neuron');

    // The toggle hides the heatmaps and shows them again; the other one switches to colours.
    const region = page.locator('.tiles .tile canvas.heatmap-region').first();
    const colour = page.locator('.tiles .tile canvas.heatmap-colour').first();
    expect([await region.isVisible(), await colour.isVisible()]).toEqual([true, false]);
    const showImages = () =>
      page.locator('#images-heading').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await showImages();
    await browser.screenshot('toyworld-neuron-heatmaps');
    await page.getByLabel('As a colour overlay').check();
    await expect.poll(() => colour.isVisible()).toBe(true);
    expect(await region.isVisible()).toBe(false);
    await showImages();
    await browser.screenshot('toyworld-neuron-colour-heatmaps');
    await page.getByLabel('As a colour overlay').uncheck();
    await page.getByLabel('Show activation heatmaps').uncheck();
    await expect.poll(() => region.isVisible()).toBe(false);
    expect(await page.locator('.tiles .tile img:not(.heatmap)').first().isVisible()).toBe(true);
    await showImages();
    await browser.screenshot('toyworld-neuron-no-heatmaps');
    await page.getByLabel('Show activation heatmaps').check();
    await expect.poll(() => region.isVisible()).toBe(true);
  });

  it('keeps the region above the unit’s threshold as it is and darkens the rest by at least half', async () => {
    // The neuron page of the unit opened above; the first tile whose map has both sides.
    await page.goto(url(`#/neuron/${layer.name}/${neuron.unit}`));
    await expect
      .poll(() => page.locator('.tiles canvas.heatmap-region').count())
      .toBe(neuron.topImages.length);
    const frames = page.locator('.tiles .tile-frame');
    let measured = 0;
    for (let i = 0; i < neuron.topImages.length && measured < 3; i++) {
      const mask = regionMask(neuron.topImages[i].heatmap!, 112, REGION_THRESHOLD);
      const inside = mask.reduce((n, v) => n + v, 0);
      if (inside < 200 || inside > 112 * 112 - 200) continue;
      const frame = frames.nth(i);
      await frame.scrollIntoViewIfNeeded();
      const on = await pixelsOf(await frame.screenshot());
      await page.getByLabel('Show activation heatmaps').uncheck();
      const off = await pixelsOf(await frame.screenshot());
      await page.getByLabel('Show activation heatmaps').check();
      const { inRegion, outside } = brightnessRatios(on, off, mask);
      // Outside the region (away from its outline) at most half the brightness; inside, all of it.
      expect(outside, `tile ${i}`).toBeLessThanOrEqual(0.5);
      expect(inRegion, `tile ${i}`).toBeGreaterThan(0.97);
      expect(inRegion, `tile ${i}`).toBeLessThan(1.03);
      measured++;
    }
    expect(measured).toBeGreaterThan(0);
  });

  it('follows a deep link to the neuron after a reload, and moves with the keyboard', async () => {
    await page.goto(url('#/'));
    await page.goto(url(`#/neuron/${layer.name}/${neuron.unit}`));
    await page.reload();
    await checkNeuronPage(neuron);

    const units = layer.neurons.map((n) => n.unit).sort((a, b) => a - b);
    const i = units.indexOf(neuron.unit);
    // Step towards the side that has a neighbour, then back.
    const [away, back, other] =
      i < units.length - 1
        ? ['ArrowRight', 'ArrowLeft', units[i + 1]]
        : ['ArrowLeft', 'ArrowRight', units[i - 1]];
    await page.keyboard.press(away);
    await page.waitForURL((u) => u.hash === `#/neuron/${layer.name}/${other}`);
    await checkNeuronPage(layer.neurons.find((n) => n.unit === other)!);
    await page.keyboard.press(back);
    await page.waitForURL((u) => u.hash === `#/neuron/${layer.name}/${neuron.unit}`);
    await checkNeuronPage(neuron);
  });

  it('shows the layer page with its charts and neuron table', async () => {
    await page.goto(url(`#/layer/${layer.name}`));
    await expect.poll(() => page.locator('h1').textContent()).toBe(`Layer ${layer.name}`);
    expect(await page.locator('svg.chart rect.bar').count()).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('p.summary[role=status]').textContent())
      .toMatch(new RegExp(`^${layer.neurons.length} neurons`));
    await browser.screenshot('toyworld-layer');
  });

  it('printed nothing to the browser console', () => {
    expect(browser.consoleProblems).toEqual([]);
    expect(browser.dialogs).toEqual([]);
  });
});

/** Every neuron's top label per labeler, `layer/unit/labeler → label`. */
function topLabels(r: Results): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of r.layers)
    for (const n of l.neurons)
      for (const [labeler, labels] of Object.entries(n.labels))
        if (labels[0]) out.set(`${l.name}/${n.unit}/${labeler}`, labels[0].label);
  return out;
}

// The same dissection as the demo's (seed 0, 150 images, the demo's concepts, layers and
// preprocessing), run by the site's "Dissect in your browser" page in a Web Worker on
// onnxruntime-web's WebAssembly backend, served over http as `neurodissect serve` serves it.
describe('"Dissect in your browser" on the demo site', () => {
  let server: StaticServer;
  let inPage: Results;

  beforeAll(async () => {
    server = await startStaticServer({ root: join(work, 'site'), port: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('runs the toy-world dissection in a worker, with the same top labels as the Node run', async () => {
    await page.goto(`${server.url}#/dissect`);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Dissect in your browser');
    // `neurodissect serve` makes the page cross-origin isolated: WebAssembly threads are allowed.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.fill('#probe-count', '150');
    await page.selectOption('#providers', 'wasm');
    for (const id of LABELERS) await page.check(`#labeler-${id}`);
    await page.click('#run-dissection');
    // While it runs, the page reports progress and stays responsive.
    await page.locator('#cancel-dissection:enabled').waitFor();
    await expect
      .poll(() => page.locator('#dissect-detail').textContent(), { timeout: 60_000 })
      .toMatch(/of \d+/);
    expect(await page.evaluate(() => 1 + 1)).toBe(2);
    await page.locator('#open-results').waitFor({ timeout: 240_000 });
    expect(await page.locator('#dissect-status').textContent()).toBe('Done.');
    await browser.screenshot('in-browser-done');

    inPage = await downloadResults(page);
    expect(inPage.run.runtime).toEqual({ name: 'onnxruntime-web', executionProvider: 'wasm' });
    expect(inPage.probe.images.map((i) => i.uri)).toEqual(results.probe.images.map((i) => i.uri));
    expect(inPage.labelers.map((l) => l.id)).toEqual(LABELERS);
    const mine = topLabels(inPage);
    const node = topLabels(results);
    expect(mine.size).toBe(node.size);
    expect(mine.size).toBe(LABELERS.length * results.layers.reduce((n, l) => n + l.neurons.length, 0));
    const differ = [...node].filter(([key, label]) => mine.get(key) !== label);
    expect(differ).toEqual([]);
  }, 300_000);

  it('opens the results in the viewer at an address of their own, which a reload keeps', async () => {
    await page.click('#open-results');
    await expect
      .poll(() => page.evaluate(() => location.hash), { timeout: 30_000 })
      .toMatch(/^#\/run\/[\w-]+$/);
    const runHash = await page.evaluate(() => location.hash);
    expect(await page.locator('#dissect-outcome [role=alert]').count()).toBe(0);
    await expect
      .poll(() => page.locator('h1').textContent(), { timeout: 10_000 })
      .toBe(`${inPage.model.name}, dissected in this browser`);
    const rows = page.locator('table.layers tbody tr');
    expect(await rows.locator('th').allTextContents()).toEqual(inPage.layers.map((l) => l.name));
    const last = inPage.layers[inPage.layers.length - 1];
    const n = last.neurons[0];
    // Links inside the run stay inside it.
    const layerLink = page.locator('table.layers tbody tr th a').last();
    expect(await layerLink.getAttribute('href')).toBe(`${runHash}/layer/${last.name}`);
    const neuronHash = `${runHash}/neuron/${last.name}/${n.unit}`;
    await page.evaluate((hash) => {
      location.hash = hash;
    }, neuronHash);
    const checkRunNeuron = async () => {
      await expect
        .poll(() => page.locator('h1').textContent(), { timeout: 10_000 })
        .toBe(`${last.name} · unit ${n.unit}`);
      // The run's own labelers and title, not the prebuilt site's.
      expect(
        await page.locator('table.labels').evaluateAll((t) => t.map((e) => e.getAttribute('data-labeler'))),
      ).toEqual(inPage.labelers.map((l) => l.id).filter((id) => n.labels[id] !== undefined));
      expect(await page.title()).toBe(
        `${last.name} unit ${n.unit} — ${inPage.model.name}, dissected in this browser`,
      );
      expect(await page.locator('.site-title').textContent()).toBe(
        `${inPage.model.name}, dissected in this browser`,
      );
      const thumbs = page.locator('.tiles .tile img:not(.heatmap)');
      await expect.poll(() => thumbs.count()).toBe(n.topImages.length);
      expect(await thumbs.first().getAttribute('src')).toMatch(/^blob:/);
      await expectAllLoaded(thumbs);
    };
    await checkRunNeuron();
    expect(await page.locator('.run-banner').textContent()).toContain('kept here until removed');
    await browser.screenshot('in-browser-neuron');
    // A reload shows the same run (kept in IndexedDB), not the prebuilt site's data.
    await page.reload();
    expect(await page.evaluate(() => location.hash)).toBe(neuronHash);
    await checkRunNeuron();
    // The site's own address still shows the site's own neuron.
    await page.evaluate((hash) => {
      location.hash = hash;
    }, `#/neuron/${last.name}/${n.unit}`);
    await expect
      .poll(() => page.locator('.site-title').textContent())
      .toBe('neurodissect demo: the toy world');
    const own = results.layers.find((l) => l.name === last.name)!.neurons.find((x) => x.unit === n.unit)!;
    await expect.poll(() => page.locator('table.labels').count()).toBe(Object.keys(own.labels).length);
  });

  it('dissects a picked ONNX file, CLIP folder and image folder', async () => {
    const models = toyWorldModelPaths();
    const images = join(work, 'picked-images');
    mkdirSync(images, { recursive: true });
    const names = readdirSync(join(work, 'probe', 'images', 'toyworld'))
      .filter((n) => /^\d+\.png$/.test(n))
      .slice(0, 40);
    for (const n of names) copyFileSync(join(work, 'probe', 'images', 'toyworld', n), join(images, n));
    await page.goto(`${server.url}#/dissect`);
    await page.reload();
    await page.check('#target-file');
    await page.setInputFiles('#target-model-file', models.targetModel);
    await page.check('#clip-files');
    await page.setInputFiles('#clip-folder', models.clipDir);
    await page.check('#probe-files');
    await page.setInputFiles('#probe-folder', images);
    await page.fill('#layers', 'layer4');
    // Soft-WPMI's default top 100 images exceed the 40 picked: it uses them all.
    await page.selectOption('#similarity', 'soft_wpmi');
    await page.selectOption('#providers', 'wasm');
    await page.click('#run-dissection');
    await page.locator('#open-results').waitFor({ timeout: 120_000 });
    const picked = await downloadResults(page);
    expect(picked.model.name).toBe('toy-resnet.onnx');
    expect(picked.probe.images.map((i) => i.uri)).toEqual(names);
    expect(picked.layers.map((l) => [l.name, l.neurons.length])).toEqual([['layer4', 128]]);
    expect(picked.failures).toEqual([]);
    for (const n of picked.layers[0].neurons) expect(n.labels['clip-dissect'].length).toBeGreaterThan(0);
  }, 180_000);

  it('cancels a run, keeping the page usable', async () => {
    await page.goto(`${server.url}#/dissect`);
    await page.reload();
    await page.fill('#probe-count', '3000');
    await page.selectOption('#providers', 'wasm');
    await page.click('#run-dissection');
    await expect
      .poll(() => page.locator('#dissect-detail').textContent(), { timeout: 60_000 })
      .toMatch(/of \d+/);
    await page.click('#cancel-dissection');
    await expect
      .poll(() => page.locator('#dissect-status').textContent(), { timeout: 30_000 })
      .toBe('Cancelled.');
    expect(await page.locator('#run-dissection').isEnabled()).toBe(true);
  }, 120_000);

  it("lists the model's layers, each a button that adds it to the layers field", async () => {
    await page.click('#list-layers');
    const chips = page.locator('#layer-list .layer-chip');
    await expect
      .poll(() => chips.allTextContents(), { timeout: 30_000 })
      .toEqual(expect.arrayContaining(['layer1', 'layer2', 'layer3', 'layer4']));
    await page.fill('#layers', 'layer1');
    await chips.filter({ hasText: /^layer4$/ }).click();
    expect(await page.inputValue('#layers')).toBe('layer1,layer4');
  });

  it('loads a concept list from a file', async () => {
    await page.setInputFiles('#concepts-file', {
      name: 'concepts.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('red\nstar\nstriped\n'),
    });
    await expect.poll(() => page.inputValue('#concepts')).toBe('red\nstar\nstriped\n');
  });

  it('says what is missing instead of starting', async () => {
    await page.check('#probe-files');
    await page.click('#run-dissection');
    await expect
      .poll(() => page.locator('#dissect-outcome [role=alert]').textContent())
      .toBe('Pick a folder of probe images.');
    expect(browser.consoleProblems).toEqual([]);
  });
});
