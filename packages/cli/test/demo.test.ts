import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { parseResults } from '@neurodissect/core';
import { toyWorldVocabulary } from '@neurodissect/toyworld';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers';

const require = createRequire(import.meta.url);

describe('neurodissect demo', () => {
  it('generates, dissects, evaluates and builds the site (small run)', { timeout: 180_000 }, async () => {
    const out = join(tempDir(), 'demo');
    const result = await cli(
      'demo',
      '--out',
      out,
      '--count',
      '120',
      '--labelers',
      'clip-dissect,broden-label',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/1\/4 generating the toy world: 120 images/);
    expect(result.stdout).toMatch(/4\/4 building the site/);
    expect(result.stdout).toMatch(/demo finished in \d+ s/);
    expect(result.stdout).toMatch(
      /summary: clip-dissect against the toy world's ground truth\n {2}layer1: 16 neurons, /,
    );
    // The full vocabulary: the world's words, their near-words and common English words.
    expect(readFileSync(join(out, 'concepts.txt'), 'utf8').trim().split('\n')).toEqual(toyWorldVocabulary());
    // soft-WPMI, with the reference's defaults, and each layer's mean best score on its scale.
    expect(result.stdout).toMatch(
      / {2}layer4: 128 neurons, .*, mean top-label score 0\.\d\d, \d+ significant \(q < 0\.05\)/,
    );

    const results = parseResults(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.layers.map((l) => l.name)).toEqual(['layer1', 'layer2', 'layer3', 'layer4']);
    // Heatmaps over the top images, for the site.
    for (const layer of results.layers) {
      expect(layer.neurons[0].topImages[0].heatmap).toMatch(/^data:image\/bmp;base64,/);
    }
    // The published JSON Schema accepts the demo's Results, read by a validator that is not zod.
    const schema = JSON.parse(
      readFileSync(require.resolve('@neurodissect/core/schema/results-v2.json'), 'utf8'),
    );
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    expect(
      validate(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))),
      JSON.stringify(validate.errors),
    ).toBe(true);
    expect(validate({ ...results, version: 'one' })).toBe(false);
    expect(validate({ ...results, run: { ...results.run, createdAt: 'yesterday' } })).toBe(false);
    const report = JSON.parse(readFileSync(join(out, 'report', 'report.json'), 'utf8'));
    expect(report.labelers.map((l: { id: string }) => l.id)).toEqual(['clip-dissect', 'broden-label']);
    // Every labeler on its own scale: the demo's soft-WPMI on the report's Table 3 levels (its
    // scores fall on that scale: some neuron of every layer reaches a level); Broden-label's vote
    // share has no published thresholds, so its layers show their max score's quantiles.
    const [clipDissect, brodenLabel] = report.labelers;
    expect(clipDissect.scale.name).toBe('soft-WPMI similarity');
    expect(clipDissect.scale.levels.map((l: { threshold: number }) => l.threshold)).toEqual([0.3, 0.2, 0.1]);
    for (const layer of clipDissect.layers) {
      const { levels, none } = layer.interpretability;
      expect(levels.reduce((a: number, b: number) => a + b, 0) + none).toBe(layer.neurons);
      expect(levels.reduce((a: number, b: number) => a + b, 0)).toBeGreaterThan(0);
    }
    expect(brodenLabel.scale.levels).toEqual([]);
    for (const layer of brodenLabel.layers) {
      expect(layer.interpretability).toBeNull();
      expect(layer.quantiles.p90).toBeGreaterThanOrEqual(layer.quantiles.p10);
    }
    expect(readFileSync(join(out, 'report', 'report.md'), 'utf8')).toMatch(
      /clip-dissect: soft-WPMI similarity; high ≥ 0\.3, medium ≥ 0\.2, low ≥ 0\.1/,
    );
    for (const file of [
      'report/report.html',
      'report/report.md',
      'site/index.html',
      'concepts.txt',
      'probe/index.csv',
    ]) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    // No file under the output names a path of this machine: the output folder, the repository
    // (where the models are) or the home folder.
    const root = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
    const machinePaths = [
      out,
      root,
      ...(process.env.HOME && process.env.HOME !== '/' ? [process.env.HOME] : []),
    ];
    const textFiles = (readdirSync(out, { recursive: true }) as string[]).filter((f) =>
      /\.(json|js|html|md|csv|txt|svg)$/.test(f),
    );
    expect(textFiles.length).toBeGreaterThan(10);
    for (const file of textFiles) {
      const text = readFileSync(join(out, file), 'utf8');
      for (const path of machinePaths)
        expect(text.includes(path), `${relative(out, join(out, file))} names ${path}`).toBe(false);
    }
    // A second run reuses the probe set it generated.
    const again = await cli('demo', '--out', out, '--count', '120', '--labelers', 'clip-dissect');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/1\/4 reusing the toy world in .* \(120 images, seed 0\)/);
  });
});
