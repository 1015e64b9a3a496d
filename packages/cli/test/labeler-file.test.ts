import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseResults } from '@neurodissect/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBundle } from '../../../scripts/test-setup/app-bundle';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { cli, tempDir } from './helpers';

// The plain-JavaScript example labeler, as a user runs it: `dissect --labeler ./file.mjs`.
const example = resolve(__dirname, '../../../examples/custom-labeler/src/top-image-centroid.mjs');
const fixtures = fixturePath('runtime-node');
const model = join(fixtures, 'resnet/narrow-resnet.onnx');
const clip = join(fixtures, 'clip/clip-openclip');

describe('dissect --labeler FILE', () => {
  const work = tempDir();
  const probe = join(work, 'probe');
  const concepts = join(work, 'concepts.txt');
  const out = join(work, 'results.json');
  const dissect = (...more: string[]) =>
    cli(
      'dissect',
      '--model',
      model,
      '--layers',
      'layer1,layer4',
      '--clip',
      clip,
      '--probe',
      probe,
      '--concepts',
      concepts,
      '--no-cache',
      '--null',
      '0',
      ...more,
    );
  let run: Awaited<ReturnType<typeof cli>>;

  beforeAll(async () => {
    mkdirSync(probe);
    for (const name of ['brick.png', 'chessboard_RGB.png', 'coffee.png', 'hubble_deep_field.jpg'])
      copyFileSync(join(fixtures, 'preprocess', name), join(probe, name));
    writeFileSync(concepts, 'brick\nchessboard\ncoffee\nstars\n');
    await ensureAppBundle();
    run = await dissect('--labelers', 'clip-avg', '--labeler', example, '--out', out);
  }, 120_000);

  it('runs the file’s labeler beside the built-ins and records it in the Results', () => {
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 0,
      stderr: expect.not.stringContaining('error'),
    });
    expect(run.stdout).toMatch(
      /layer4 \(64 units, mean summary\): clip-avg: 64\/64 labelled.*; top-image-centroid: 64\/64 labelled/,
    );
    const results = parseResults(readFileSync(out, 'utf8'));
    expect(results.labelers).toEqual([
      expect.objectContaining({ id: 'clip-avg' }),
      // The factory got the run's shared options (topLabels 10) and recorded its own.
      { id: 'top-image-centroid', version: '1', options: { topLabels: 10, topImages: 10 } },
    ]);
    for (const layer of results.layers) {
      for (const neuron of layer.neurons) {
        const labels = neuron.labels['top-image-centroid'];
        expect(labels.map((l) => l.label).sort()).toEqual(['brick', 'chessboard', 'coffee', 'stars']);
        expect(labels.every((l, i) => i === 0 || l.score <= labels[i - 1].score)).toBe(true);
      }
    }
  });

  it('is found by search --labeler and shown by the site', async () => {
    const results = parseResults(readFileSync(out, 'utf8'));
    const label = results.layers[1].neurons[0].labels['top-image-centroid'][0].label;
    const found = await cli(
      'search',
      '--results',
      out,
      '--concept',
      label,
      '--labeler',
      'top-image-centroid',
    );
    expect(found.code).toBe(0);
    expect(found.stdout).toMatch(
      new RegExp(`"${label}" \\(exact match, top-image-centroid\\): [1-9]\\d* neuron\\(s\\)`),
    );
    expect(found.stdout).toMatch(/\nlayer4: [1-9]\d* neuron\(s\)\n/);
    const site = join(work, 'site');
    expect((await cli('site', '--results', out, '--out', site)).code).toBe(0);
    const data = readdirSync(join(site, 'data')).map((file) =>
      readFileSync(join(site, 'data', file), 'utf8'),
    );
    expect(data.some((text) => text.includes('"top-image-centroid"'))).toBe(true);
  });

  it('alone, runs only the file’s labeler (no CLIP-Dissect by default)', async () => {
    const only = join(work, 'only.json');
    const result = await dissect('--labeler', example, '--out', only);
    expect(result.code).toBe(0);
    expect(parseResults(readFileSync(only, 'utf8')).labelers.map((l) => l.id)).toEqual([
      'top-image-centroid',
    ]);
  });

  it('refuses a file that is not a labeler factory, naming it and saying what to write', async () => {
    const bad = join(work, 'not-a-factory.mjs');
    writeFileSync(bad, 'export const labeler = {};\n');
    const result = await dissect('--labeler', bad, '--out', join(work, 'bad.json'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--labeler ${bad}: its default export is not a factory`);
    const shapeless = join(work, 'shapeless.mjs');
    writeFileSync(
      shapeless,
      'export default () => ({ id: "x", version: "1", requires: ["pixels"], label() {} });\n',
    );
    const wrong = await dissect('--labeler', shapeless, '--out', join(work, 'bad.json'));
    expect(wrong.stderr).toMatch(/--labeler .*shapeless.mjs: labeler x: requires must list what it needs/);
    const missing = await dissect('--labeler', join(work, 'nowhere.mjs'), '--out', join(work, 'bad.json'));
    expect(missing.stderr).toMatch(/--labeler: file not found: .*nowhere.mjs/);
  });
});
