import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseResults, type Results, type ResultsLayer } from '@neurodissect/core';
import { EvalReportSchema, parseGroundTruth } from '@neurodissect/eval';
import { toyWorldModelPaths } from '@neurodissect/toyworld/node';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBundle } from '../../../scripts/test-setup/app-bundle';
import { launchBrowser, type TestBrowser } from '../../../scripts/test-setup/browser';
import { startStaticServer } from '../../cli/src/commands/serve';
import { runCli } from '../../cli/src/program';
import { ARTIFACTS } from './browser';

// Label mode on the toy-world demo's site, opened from file:// in headless Chromium: an annotator
// labels neurons of layer4 by keyboard only, reloads midway, exports, and `neurodissect eval
// --ground-truth` on the exported file counts exactly the decisions made. Every expectation comes
// from the demo's results.json and from the keys pressed, never hard-coded.

const LABELERS = ['clip-dissect', 'broden-label'];
const LAYER = 'layer4';

let work: string;
let results: Results;
let layer: ResultsLayer;
let browser: TestBrowser;
let page: Page;

function url(hash: string): string {
  return `${pathToFileURL(join(work, 'site', 'index.html')).href}${hash}`;
}

function capture() {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    out: () => out,
    err: () => err,
  };
}

/** clip-dissect's labels of a unit of layer4, best first. */
function labelsOf(unit: number): string[] {
  return layer.neurons.find((n) => n.unit === unit)!.labels['clip-dissect'].map((l) => l.label);
}

beforeAll(async () => {
  await ensureAppBundle();
  work = mkdtempSync(join(tmpdir(), 'neurodissect-e2e-label-'));
  const io = capture();
  const code = await runCli(['demo', '--out', work, '--count', '150', '--labelers', LABELERS.join(',')], io);
  if (code !== 0 || io.err() !== '')
    throw new Error(`neurodissect demo failed (${code}):\n${io.err()}\n${io.out()}`);
  results = parseResults(readFileSync(join(work, 'results.json'), 'utf8'));
  layer = results.layers.find((l) => l.name === LAYER)!;
  browser = await launchBrowser(ARTIFACTS);
  page = browser.page;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const heading = () => page.locator('.label-neuron h2');
const progress = () => page.locator('p.label-progress').textContent();
const saved = () => page.locator('p.label-saved').textContent();

/** Waits until label mode shows `unit`, its images loaded into tiles. */
async function expectUnit(unit: number): Promise<void> {
  await expect.poll(() => heading().textContent()).toBe(`Unit ${unit}`);
  const n = layer.neurons.find((x) => x.unit === unit)!;
  // The top 10, as the report's annotators saw them.
  await expect
    .poll(() => page.locator('.label-neuron .tiles .tile').count())
    .toBe(Math.min(10, n.topImages.length));
}

/** The decision line of the neuron shown. */
const decisionText = () => page.locator('p.label-decision').textContent();

describe('label mode on the demo site, by keyboard', () => {
  const units = () => layer.neurons.map((n) => n.unit).sort((a, b) => a - b);
  /** What was decided per unit: an offered rank, an own label, or non-interpretable (null). */
  const decisions = new Map<number, { label: string | null }>();

  it('asks for the annotator, then shows the first neuron with its top 3 labels, scores and images', async () => {
    await page.goto(url(`#/label/${LAYER}`));
    await expect.poll(() => page.locator('h1').textContent()).toBe('Label neurons');
    await page.keyboard.type('alice');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('h1').textContent()).toBe(`Label ${LAYER}`);
    const [first] = units();
    await expectUnit(first);
    expect(await progress()).toBe(`${LAYER}: 0 of ${layer.neurons.length} labelled`);
    const offered = page.locator('ol.offered button');
    const top3 = layer.neurons.find((n) => n.unit === first)!.labels['clip-dissect'].slice(0, 3);
    expect(await offered.allTextContents()).toEqual(
      top3.map((l, i) => `${i + 1} ${l.label} ${l.score.toFixed(3)}`),
    );
    // The same images (with heatmaps) as the neuron page shows.
    expect(layer.neurons.find((n) => n.unit === first)!.topImages.length).toBeGreaterThan(10);
    expect(await page.locator('.label-neuron .tiles .tile-frame:has(.heatmap)').count()).toBe(10);
    expect(await page.locator('dl.keys dt').allTextContents()).toEqual([
      '1 2 3',
      'o',
      'n',
      'j or →',
      'k or ←',
      'u',
    ]);
    await browser.screenshot('label-mode');
  });

  it('accepts top-3 labels, writes own labels (one outside the set, confirmed), reloads and finds them kept', async () => {
    const [u0, u1, u2, u3] = units();
    await page.keyboard.press('1');
    await expect.poll(saved).toBe(`Saved ${LAYER} unit ${u0}: ${labelsOf(u0)[0]}.`);
    decisions.set(u0, { label: labelsOf(u0)[0] });
    await expectUnit(u1);
    await page.keyboard.press('3');
    decisions.set(u1, { label: labelsOf(u1)[2] });
    await expectUnit(u2);

    // An own word outside the concept set: saved only after the confirmation.
    await page.keyboard.press('o');
    await page.keyboard.type('zigzagoid');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.locator('.own-confirm').textContent())
      .toMatch(/^"zigzagoid" is not in the concept set \(.+\)\. Press Enter again to save it as typed/);
    expect(await heading().textContent()).toBe(`Unit ${u2}`);
    await page.keyboard.press('Enter');
    decisions.set(u2, { label: 'zigzagoid' });
    await expectUnit(u3);

    // An own word from the suggestions, taken with ↓.
    await page.keyboard.press('o');
    await page.keyboard.type('str');
    await expect.poll(() => page.locator('#own-suggestions li').count()).toBeGreaterThan(0);
    const firstSuggestion = await page.locator('#own-suggestions li').first().textContent();
    await page.keyboard.press('ArrowDown');
    expect(await page.inputValue('#own-label')).toBe(firstSuggestion);
    expect(results.concepts.items).toContain(firstSuggestion);
    await page.keyboard.press('Enter');
    decisions.set(u3, { label: firstSuggestion });
    await expect.poll(saved).toBe(`Saved ${LAYER} unit ${u3}: ${firstSuggestion}.`);

    // A reload (a closed tab) loses nothing: the same annotator, the same progress, the next neuron.
    await page.reload();
    await expectUnit(units()[4]);
    expect(await progress()).toBe(`${LAYER}: 4 of ${layer.neurons.length} labelled`);
    for (const [unit, { label }] of [...decisions].reverse()) {
      await page.keyboard.press('k');
      await expectUnit(unit);
      expect(await decisionText()).toBe(`Your label: ${label}.`);
    }
    // Opening the layer again continues where the annotator stopped: the next unlabelled neuron.
    await page.goto(url('#/'));
    await page.goto(url(`#/label/${LAYER}`));
    await page.reload();
    await expectUnit(units()[0]);
  });

  it('marks a neuron non-interpretable, undoes a decision and goes back to that neuron', async () => {
    // Stepping with j from unit 0 to the first unlabelled neuron.
    for (let i = 1; i <= 4; i++) {
      await page.keyboard.press('j');
      await expectUnit(units()[i]);
    }
    const [, , , , u4, u5] = units();
    await page.keyboard.press('n');
    decisions.set(u4, { label: null });
    await expectUnit(u5);
    await page.keyboard.press('n');
    await expect.poll(saved).toBe(`Saved ${LAYER} unit ${u5}: non-interpretable.`);
    await page.keyboard.press('u');
    await expect.poll(saved).toBe(`Undid the decision on ${LAYER} unit ${u5}.`);
    await expectUnit(u5);
    expect(await decisionText()).toBe('Not labelled yet.');
    await page.keyboard.press('2');
    decisions.set(u5, { label: labelsOf(u5)[1] });
    await expect.poll(progress).toBe(`${LAYER}: ${decisions.size} of ${layer.neurons.length} labelled`);
    await page.keyboard.press('k');
    await expectUnit(u5);
    expect(await decisionText()).toBe(`Your label: ${labelsOf(u5)[1]}.`);
  });

  it('exports ground-truth.csv, and eval --ground-truth counts exactly the decisions made', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export ground truth', exact: true }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('ground-truth.csv');
    const file = join(work, 'ground-truth.csv');
    await download.saveAs(file);
    const text = readFileSync(file, 'utf8');
    // The toy world's format: the same header, one row per labelled neuron, empty = non-interpretable.
    const toyWorld = readFileSync(toyWorldModelPaths().groundTruth, 'utf8').split('\n');
    const rows = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(rows[0]).toBe(toyWorld[0]);
    // Non-interpretable as the toy world writes it: an empty label.
    expect(toyWorld.some((line) => /^layer\d,\d+,$/.test(line))).toBe(true);
    expect(rows.filter((line) => line.endsWith(','))).toHaveLength(1);
    expect(rows).toHaveLength(decisions.size + 1);
    const truth = parseGroundTruth(text, { source: 'ground-truth.csv' });
    expect(new Map(truth.entries.map((e) => [e.unit, e.label]))).toEqual(
      new Map([...decisions].map(([unit, d]) => [unit, d.label])),
    );
    expect(truth.annotation).toMatchObject({
      annotator: 'alice',
      blindNeurons: 0,
      shownLabeler: 'clip-dissect',
    });

    const out = join(work, 'eval');
    const io = capture();
    expect(
      await runCli(
        [
          'eval',
          '--results',
          join(work, 'results.json'),
          '--ground-truth',
          file,
          '--no-figures',
          '--out',
          out,
        ],
        io,
      ),
    ).toBe(0);
    expect(io.err()).toBe('');
    const report = EvalReportSchema.parse(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
    // Expected from the keys pressed: rank k for the k-th offered label; an own label by where it
    // stands among clip-dissect's top 5 (case-insensitive), else incorrect.
    const expected = { top1: 0, top3: 0, top5: 0, incorrect: 0, nonInterpretable: 0 };
    for (const [unit, { label }] of decisions) {
      if (label === null) {
        expected.nonInterpretable++;
        continue;
      }
      const rank = labelsOf(unit)
        .slice(0, 5)
        .findIndex((l) => l.toLowerCase() === label.toLowerCase());
      if (rank === -1) expected.incorrect++;
      if (rank === 0) expected.top1++;
      if (rank >= 0 && rank < 3) expected.top3++;
      if (rank >= 0) expected.top5++;
    }
    expect(expected.top1).toBeGreaterThanOrEqual(1);
    expect(expected.nonInterpretable).toBe(1);
    const clip = report.labelers.find((l) => l.id === 'clip-dissect')!;
    const accuracy = clip.layers.find((l) => l.layer === LAYER)!.accuracy;
    expect(accuracy).toMatchObject({ ...expected, total: decisions.size, missing: 0 });
    // Only the labelled layer is judged.
    expect(clip.layers.filter((l) => l.accuracy).map((l) => l.layer)).toEqual([LAYER]);
  });

  it('imports the file for another annotator and continues from it', async () => {
    await page.goto(url('#/label'));
    await expect.poll(() => page.locator('h1').textContent()).toBe('Label neurons');
    await page.fill('#annotator', 'bob');
    await page.keyboard.press('Enter');
    const row = page.locator(`table.label-layers tr[data-layer="${LAYER}"] td`);
    await expect.poll(() => row.textContent()).toBe(`0 of ${layer.neurons.length} labelled`);
    await page.setInputFiles('#import-file', join(work, 'ground-truth.csv'));
    await expect
      .poll(() => page.locator('.transfer-status').textContent())
      .toBe(`Imported ${decisions.size} decisions from ground-truth.csv.`);
    await expect.poll(() => row.textContent()).toBe(`${decisions.size} of ${layer.neurons.length} labelled`);
  });
});

describe('sampled labelling', () => {
  it('labels a seeded random sample per layer, recorded in the export, reported by eval as a sample', async () => {
    await page.goto(url('#/label'));
    await page.fill('#annotator', 'carol');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#annotator').inputValue()).toBe('carol');
    // The page draws itself again for carol (the form was the previous annotator's): fill it after that.
    await expect
      .poll(() => page.locator('table.label-layers caption').textContent())
      .toBe('Progress of carol');
    await page.fill('#sample-size', '3');
    await page.fill('#sample-seed', '5');
    await expect.poll(() => page.locator('#sample-size').inputValue()).toBe('3');
    await page.click('#draw-sample');
    await expect
      .poll(() => page.locator('p.sample-status').textContent())
      .toBe('Labelling a random sample of 3 neurons per layer (seed 5).');
    const rows = page.locator('table.label-layers tbody tr td');
    expect(await rows.allTextContents()).toEqual(results.layers.map(() => '0 of 3 labelled'));
    const layer1 = results.layers[0];
    await page.click(`table.label-layers a >> text=${layer1.name}`);
    await expect
      .poll(progress)
      .toBe(
        `${layer1.name}: 0 of 3 labelled (a random sample of 3 of ${layer1.neurons.length} neurons, seed 5)`,
      );
    expect(await page.locator('p.label-position').textContent()).toBe("Neuron 1 of 3 in the sample's order.");
    await page.keyboard.press('n');
    await expect.poll(progress).toMatch(new RegExp(`^${layer1.name}: 1 of 3 labelled`));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export ground truth', exact: true }).click(),
    ]);
    const file = join(work, 'sample.csv');
    await download.saveAs(file);
    const truth = parseGroundTruth(readFileSync(file, 'utf8'));
    expect(truth.entries).toHaveLength(1);
    expect(truth.annotation?.sample).toEqual({
      seed: 5,
      perLayer: 3,
      layers: results.layers.map((l) => ({ layer: l.name, drawn: 3, of: l.neurons.length })),
    });
    const io = capture();
    const out = join(work, 'eval-sample');
    expect(
      await runCli(
        [
          'eval',
          '--results',
          join(work, 'results.json'),
          '--ground-truth',
          file,
          '--no-figures',
          '--out',
          out,
        ],
        io,
      ),
    ).toBe(0);
    expect(io.out()).toContain(
      `clip-dissect ${layer1.name}: top-1 0, top-3 0, top-5 0 of 0 interpretable (1 judged, 0 missing); a sample of 1 of ${layer1.neurons.length}`,
    );
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(
      'carol labelled a random sample of 3 neurons per layer (seed 5;',
    );
  });
});

describe('blind mode', () => {
  /** Every label and score any labeler gave the neuron shown, checked against the whole page. */
  async function labelsAndScoresShown(unit: number): Promise<string[]> {
    const text = `${await page.evaluate(() => document.body.textContent)}\n${await page.title()}`;
    const neuron = layer.neurons.find((n) => n.unit === unit)!;
    const found: string[] = [];
    for (const [labeler, labels] of Object.entries(neuron.labels)) {
      for (const l of labels) {
        const word = new RegExp(
          `(^|[^\\p{L}])${l.label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\p{L}])`,
          'iu',
        );
        if (word.test(text)) found.push(`${labeler}: ${l.label}`);
        for (const digits of [2, 3, 4])
          if (text.includes(l.score.toFixed(digits)))
            found.push(`${labeler}: score ${l.score.toFixed(digits)}`);
      }
    }
    return found;
  }

  it("shows no labeler's label or score anywhere on the page", async () => {
    // A fresh annotator, labelling every neuron.
    await page.goto(url('#/label?blind=1'));
    await page.fill('#annotator', 'dave');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#annotator').inputValue()).toBe('dave');
    expect(await page.isChecked('#blind-mode')).toBe(true);
    await page.click('table.label-layers a >> text=layer3');
    await page.waitForURL((u) => u.hash === '#/label/layer3?blind=1');
    const layer3 = results.layers.find((l) => l.name === 'layer3')!;
    const unit = layer3.neurons.map((n) => n.unit).sort((a, b) => a - b)[0];
    layer = layer3;
    await expectUnit(unit);
    expect(await page.isChecked('#blind-mode')).toBe(true);
    expect(await labelsAndScoresShown(unit)).toEqual([]);
    expect(await page.locator('[data-labeler], .offered, .activation').count()).toBe(0);
    // The offered-label keys do nothing; the images are there.
    await page.keyboard.press('1');
    expect(await progress()).toBe(`layer3: 0 of ${layer3.neurons.length} labelled`);
    await browser.screenshot('label-mode-blind');

    // The same neuron with blind mode off shows clip-dissect's labels and scores: the check above can fail.
    await page.uncheck('#blind-mode');
    await page.locator('.page.label-mode[data-blind="no"]').waitFor();
    await expectUnit(unit);
    expect((await labelsAndScoresShown(unit)).length).toBeGreaterThan(0);
    await page.check('#blind-mode');
    await page.waitForURL((u) => u.hash === '#/label/layer3?blind=1');
    await page.locator('.page.label-mode[data-blind="yes"]').waitFor();
    await expectUnit(unit);

    // A blind decision is recorded as blind.
    await page.keyboard.press('n');
    await expect.poll(progress).toBe(`layer3: 1 of ${layer3.neurons.length} labelled`);
  });

  it('keeps decisions on the site served over http, as neurodissect serve serves it', async () => {
    const server = await startStaticServer({ root: join(work, 'site'), port: 0 });
    try {
      await page.goto(`${server.url}#/label/layer2`);
      await expect.poll(() => page.locator('h1').textContent()).toBe('Label neurons');
      await page.keyboard.type('erin');
      await page.keyboard.press('Enter');
      const layer2 = results.layers.find((l) => l.name === 'layer2')!;
      await expect.poll(progress).toBe(`layer2: 0 of ${layer2.neurons.length} labelled`);
      await page.keyboard.press('n');
      await expect.poll(progress).toBe(`layer2: 1 of ${layer2.neurons.length} labelled`);
      await page.reload();
      await expect.poll(progress).toBe(`layer2: 1 of ${layer2.neurons.length} labelled`);
    } finally {
      await server.close();
    }
  });

  it('printed nothing to the browser console', () => {
    expect(browser.consoleProblems).toEqual([]);
    expect(browser.dialogs).toEqual([]);
  });
});
