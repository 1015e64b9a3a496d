import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers';

// A version 2 document written out here: layer conv has three neurons labelled "dog" by
// clip-dissect with q 0.01, 0.2 and none; expected lines follow from those figures by hand.

let dir: string;
let trusted: string;
let untrusted: string;

function dogs(withTrust: boolean): Results {
  const dog = (score: number) => ({ 'clip-dissect': [{ label: 'dog', score }] });
  return resultsFixture({
    layers: [
      {
        name: 'conv',
        neurons: [
          {
            unit: 0,
            labels: dog(0.3),
            ...(withTrust ? { trust: { 'clip-dissect': { significance: { p: 0.002, q: 0.01 } } } } : {}),
          },
          {
            unit: 1,
            labels: dog(0.2),
            ...(withTrust ? { trust: { 'clip-dissect': { significance: { p: 0.1, q: 0.2 } } } } : {}),
          },
          { unit: 2, labels: dog(0.1) },
        ],
      },
    ],
  });
}

beforeAll(() => {
  dir = tempDir();
  trusted = join(dir, 'trusted.json');
  writeFileSync(trusted, JSON.stringify(dogs(true)));
  untrusted = join(dir, 'untrusted.json');
  writeFileSync(untrusted, JSON.stringify(dogs(false)));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('neurodissect search --significant', () => {
  it('prints every match with the q of its best label, and keeps only q < 0.05 with --significant', async () => {
    const all = await cli('search', '--results', trusted, '--concept', 'dog');
    expect(all.stderr).toBe('');
    expect(all.stdout).toBe(
      [
        '"dog" (exact match, clip-dissect): 3 neuron(s) in 1 of 1 layer(s)',
        'conv: 3 neuron(s)',
        '  unit 0  dog  rank 1  score 0.3000  q 0.01',
        '  unit 1  dog  rank 1  score 0.2000  q 0.2',
        '  unit 2  dog  rank 1  score 0.1000',
        '',
      ].join('\n'),
    );
    const kept = await cli('search', '--results', trusted, '--concept', 'dog', '--significant');
    expect(kept.code).toBe(0);
    expect(kept.stdout).toBe(
      [
        '"dog" (exact match, clip-dissect, significant only (q < 0.05)): 1 neuron(s) in 1 of 1 layer(s)',
        'conv: 1 neuron(s)',
        '  unit 0  dog  rank 1  score 0.3000  q 0.01',
        '',
      ].join('\n'),
    );
  });

  it('carries p and q in --json', async () => {
    const { code, stdout } = await cli(
      'search',
      '--results',
      trusted,
      '--concept',
      'dog',
      '--significant',
      '--json',
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      query: 'dog',
      match: 'exact',
      order: 'score',
      significant: true,
      layers: [
        {
          layer: 'conv',
          count: 1,
          hits: [{ unit: 0, label: 'dog', rank: 1, score: 0.3, p: 0.002, q: 0.01 }],
        },
      ],
    });
  });

  it('says why when the Results have no significance figures', async () => {
    const { code, stdout, stderr } = await cli(
      'search',
      '--results',
      untrusted,
      '--concept',
      'dog',
      '--significant',
    );
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^neurodissect: --significant: the Results have no significance figures for clip-dissect's labels/,
    );
    expect(stderr).toContain('run dissect again with --null');
  });

  it('is listed in --help', async () => {
    const { stdout } = await cli('search', '--help');
    expect(stdout.replace(/\s+/g, ' ')).toContain(
      "--significant keep only neurons whose best label is significant (q < 0.05 against the layer's permutation null; see docs/trust.md)",
    );
  });
});
