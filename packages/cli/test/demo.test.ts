import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResults } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers';

describe('neurodissect demo', () => {
  it('generates, dissects, evaluates and builds the site (small run)', { timeout: 120_000 }, async () => {
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
    const results = parseResults(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.layers.map((l) => l.name)).toEqual(['layer1', 'layer2', 'layer3', 'layer4']);
    // Heatmaps over the top images, for the site.
    for (const layer of results.layers) {
      expect(layer.neurons[0].topImages[0].heatmap).toMatch(/^data:image\/bmp;base64,/);
    }
    const report = JSON.parse(readFileSync(join(out, 'report', 'report.json'), 'utf8'));
    expect(report.labelers.map((l: { id: string }) => l.id)).toEqual(['clip-dissect', 'broden-label']);
    for (const file of [
      'report/report.html',
      'report/report.md',
      'site/index.html',
      'concepts.txt',
      'probe/index.csv',
    ]) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
  });
});
