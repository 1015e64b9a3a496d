import { describe, expect, it } from 'vitest';
import {
  benjaminiHochberg,
  bootstrapRows,
  createMatrix,
  createPermutationNull,
  createRandom,
  derangement,
  foldAssignment,
  type Matrix,
  nullTopK,
  pearson,
  permutationPValues,
  similarityFromMatrix,
  softWpmi,
} from '../src/index';
import { scorePmiLayers } from '../src/internal';
import { annotationPresence, averagePrecision } from '../src/trust/held-out';

function uniform(rows: number, cols: number, seed: number): Matrix {
  const random = createRandom(seed);
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = random();
  return m;
}

describe('significance figures', () => {
  it('p-values count null best scores at or above each score', () => {
    // (1 + #{null ≥ s}) / (1 + R) by hand: 3/5, 2/5, 1/5, 5/5; a NaN score is never significant.
    expect([...permutationPValues([0.25, 0.4, 0.5, 0.05, Number.NaN], [0.3, 0.1, 0.4, 0.2])]).toEqual([
      0.6, 0.4, 0.2, 1, 1,
    ]);
  });

  it('Benjamini–Hochberg q-values equal a hand computation', () => {
    // Sorted 0.005, 0.01, 0.03, 0.04, 0.2 → K·p/rank 0.025, 0.025, 0.05, 0.05, 0.2, then running minima.
    const q = benjaminiHochberg([0.01, 0.04, 0.03, 0.005, 0.2]);
    expect([...q].map((v) => Number(v.toFixed(12)))).toEqual([0.025, 0.05, 0.05, 0.025, 0.2]);
    expect([...benjaminiHochberg([0.9, 0.8])]).toEqual([0.9, 0.9]);
  });
});

describe('the permutation null', () => {
  it('gives each pseudo-neuron a seeded random ordering whose prefixes agree', () => {
    const a = createPermutationNull(50, { permutations: 4, seed: 3 });
    const b = createPermutationNull(50, { permutations: 4, seed: 3 });
    const full = a.ordering(2);
    expect([...full].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...a.ordering(2, 7)]).toEqual([...full.subarray(0, 7)]);
    expect([...b.ordering(2)]).toEqual([...full]);
    expect([...a.ordering(1)]).not.toEqual([...full]);
    expect([...createPermutationNull(50, { permutations: 4, seed: 4 }).ordering(2)]).not.toEqual([...full]);
    expect(() => a.ordering(4)).toThrow(RangeError);
  });

  it("scores pseudo-neurons in the labelling pass exactly as an extra neuron of the layer's prior", async () => {
    // Reference: each pseudo-neuron appended as neuron K+1 of the layer and the whole layer scored
    // by the dense soft-WPMI path; its best score is the max of its row.
    const N = 60;
    const M = 9;
    const K = 5;
    const clip = uniform(N, M, 1);
    const activations = uniform(N, K, 2);
    const pseudo = createPermutationNull(N, { permutations: 6, seed: 9 });
    const topK = 12;
    let best: Float64Array | undefined;
    await scorePmiLayers(similarityFromMatrix(clip), [{ name: 'l', activations }], {
      options: { topK },
      nullTop: nullTopK(pseudo, topK),
      onNull: (_, b) => {
        best = b;
      },
    });
    for (let r = 0; r < pseudo.permutations; r++) {
      const order = pseudo.ordering(r);
      const joined = createMatrix(N, K + 1);
      for (let i = 0; i < N; i++) {
        for (let k = 0; k < K; k++) joined.data[i * (K + 1) + k] = activations.data[i * K + k];
      }
      // Descending activations along the ordering: its first topK images are the pseudo-neuron's top-k.
      order.forEach((image, position) => {
        joined.data[image * (K + 1) + K] = N - position;
      });
      const scores = softWpmi(clip, joined, { topK });
      const row = Array.from(scores.data.subarray(K * M, (K + 1) * M));
      expect(best![r]).toBeCloseTo(Math.max(...row), 4);
    }
  });
});

describe('resamples, folds and baselines', () => {
  it('draws bootstrap resamples with replacement, seeded', () => {
    const rows = bootstrapRows(1000, 5, 0);
    expect(rows.length).toBe(1000);
    expect([...rows]).toEqual([...bootstrapRows(1000, 5, 0)]);
    expect([...rows]).not.toEqual([...bootstrapRows(1000, 5, 1)]);
    // About 1 − 1/e of the images appear at least once.
    const distinct = new Set(rows).size / 1000;
    expect(distinct).toBeGreaterThan(0.58);
    expect(distinct).toBeLessThan(0.68);
  });

  it('splits images into folds of near-equal size and deranges neurons', () => {
    const folds = foldAssignment(11, 3, 0);
    const sizes = [0, 1, 2].map((f) => folds.filter((x) => x === f).length);
    expect(sizes.sort()).toEqual([3, 4, 4]);
    const swap = derangement(10, 2);
    expect([...swap].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    swap.forEach((to, from) => {
      expect(to).not.toBe(from);
    });
  });

  it('computes Pearson correlation', () => {
    // By hand: x = 1..4, y = 2, 4, 5, 9: Σdxdy = 11, Σdx² = 5, Σdy² = 26 → 11 / sqrt(130) = 0.9648…
    expect(pearson([1, 2, 3, 4], [2, 4, 5, 9])).toBeCloseTo(0.964763821238, 11);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
  });
});

describe('held-out quality from annotations', () => {
  it('average precision equals a hand computation', () => {
    // Ranked by score: +, −, +, − → precisions at the hits 1/1 and 2/3 → AP = (1 + 2/3) / 2.
    expect(averagePrecision([0.9, 0.8, 0.7, 0.1], [true, false, true, false])).toBeCloseTo(5 / 6, 12);
    expect(averagePrecision([1, 2], [true, true])).toBeNaN();
  });

  it('reads the share of each image a label covers, image-level labels as 1', async () => {
    const presence = annotationPresence({
      labels: new Map([
        [1, { name: 'red', category: 'color' }],
        [2, { name: 'dots', category: 'texture' }],
      ]),
      imageLabels: (index) => (index === 0 ? { texture: [2] } : {}),
      masks: async () => [{ category: 'color', width: 2, height: 2, labels: Uint16Array.from([1, 0, 1, 1]) }],
    });
    expect(presence.has('red')).toBe(true);
    expect(presence.has('blue')).toBe(false);
    expect(await presence.of(0, 'red')).toBe(0.75);
    expect(await presence.of(0, 'dots')).toBe(1);
    expect(await presence.of(1, 'dots')).toBe(0);
  });
});
