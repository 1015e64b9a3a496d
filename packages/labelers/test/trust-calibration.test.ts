import { createMatrix, createRandom, labelWithTrust, type Matrix } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { clipDissect } from '../src/index';

function gaussian(rows: number, cols: number, seed: number): Matrix {
  const random = createRandom(seed);
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const t = 2 * Math.PI * random();
    m.data[i] = r * Math.cos(t);
    if (i + 1 < m.data.length) m.data[i + 1] = r * Math.sin(t);
  }
  return m;
}

// Pure noise: random embeddings and random activations (N = 5,000 images, M = 2,000 concepts,
// K = 512 neurons). No label means anything, so p must be uniform: about 5% below 0.05, and the
// Benjamini–Hochberg q keeps almost every neuron at or above 0.05.
describe('the permutation null on pure noise', () => {
  const N = 5000;
  const M = 2000;
  const K = 512;
  const D = 32;
  const context = {
    layer: 'noise',
    activations: gaussian(N, K, 1),
    concepts: Array.from({ length: M }, (_, m) => `concept ${m}`),
    imageEmbeddings: gaussian(N, D, 2),
    textEmbeddings: gaussian(M, D, 3),
  };
  for (const similarity of ['soft_wpmi', 'wpmi', 'cos'] as const) {
    it(`is calibrated for ${similarity}`, async () => {
      const { trust } = await labelWithTrust(clipDissect({ similarity, topLabels: 1 }), [context], {
        permutations: 1000,
        folds: 0,
        seed: 11,
      });
      const neurons = trust![0].neurons;
      const p = neurons.map((n) => n!.significance!.p);
      const q = neurons.map((n) => n!.significance!.q);
      const belowP = p.filter((v) => v < 0.05).length / K;
      const belowQ = q.filter((v) => v < 0.05).length / K;
      expect(belowP).toBeGreaterThanOrEqual(0.02);
      expect(belowP).toBeLessThanOrEqual(0.08);
      expect(belowQ).toBeLessThanOrEqual(0.01);
      expect(trust![0].layer.null?.permutations).toBe(1000);
      expect(trust![0].layer.tested).toBe(K);
    }, 120_000);
  }
});
