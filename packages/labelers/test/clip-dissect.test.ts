import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMatrix, createRandom, type Matrix, parseNpy, tensorToMatrix } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { cli, tempDir, writeMatrix } from '../../cli/test/helpers';
import { clipDissect } from '../src/index';

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const random = createRandom(seed);
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = random() * 2 - 1;
  return m;
}

describe('clipDissect', () => {
  const images = randomMatrix(150, 8, 1);
  const texts = randomMatrix(12, 8, 2);
  const activations = randomMatrix(150, 6, 3);
  const concepts = Array.from({ length: 12 }, (_, i) => `concept-${i}`);

  it.each([
    ['soft_wpmi', { topK: 30 }, ['--top-k', '30']],
    ['wpmi', {}, []],
    ['cos_cubed', {}, []],
  ] as const)(
    '%s scores equal `neurodissect score` on the same features',
    async (similarity, similarityOptions, flags) => {
      const dir = tempDir();
      const out = join(dir, 'S.npy');
      const result = await cli(
        'score',
        '--fn',
        similarity,
        ...flags,
        '--activations',
        writeMatrix(dir, 'A.npy', activations),
        '--image-emb',
        writeMatrix(dir, 'I.npy', images),
        '--text-emb',
        writeMatrix(dir, 'T.npy', texts),
        '--out',
        out,
      );
      expect(result.code).toBe(0);
      const scores = tensorToMatrix(parseNpy(readFileSync(out)));
      const labels = await clipDissect({ similarity, similarityOptions, topLabels: 12 }).label({
        layer: 'l',
        activations,
        concepts,
        imageEmbeddings: images,
        textEmbeddings: texts,
      });
      labels.forEach((ranked, k) => {
        expect(ranked).toHaveLength(12);
        for (const { concept, score } of ranked) expect(score).toBe(scores.data[k * 12 + concept!]);
        const best = Array.from(scores.data.subarray(k * 12, (k + 1) * 12)).reduce(
          (b, v, m, row) => (v > row[b] ? m : b),
          0,
        );
        expect(ranked[0].concept).toBe(best);
      });
    },
  );
});
