import {
  cosSimilarityCubed,
  createMatrix,
  createRandom,
  createWasmPmiProcessor,
  type MatmulKernel,
  type Matrix,
  matmulTransposed,
  type PmiProcessorFactory,
} from '@neurodissect/core';
import { pmiOracle } from '@neurodissect/core/testing';
import { describe, expect, it } from 'vitest';
import { clipDissect } from '../src/index';

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const random = createRandom(seed);
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = random() * 2 - 1;
  return m;
}

/** P = Î·T̂ᵀ, written out in float64 (independent of the kernels under test). */
function cosines(images: Matrix, texts: Matrix): Matrix {
  const unit = (m: Matrix, r: number) => {
    const row = Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols));
    const norm = Math.hypot(...row);
    return row.map((v) => v / norm);
  };
  const out = createMatrix(images.rows, texts.rows);
  for (let i = 0; i < images.rows; i++) {
    const a = unit(images, i);
    for (let m = 0; m < texts.rows; m++) {
      const b = unit(texts, m);
      out.data[i * texts.rows + m] = a.reduce((s, v, d) => s + v * b[d], 0);
    }
  }
  return out;
}

describe('clipDissect', () => {
  const images = randomMatrix(150, 8, 1);
  const texts = randomMatrix(12, 8, 2);
  const activations = randomMatrix(150, 6, 3);
  const concepts = Array.from({ length: 12 }, (_, i) => `concept-${i}`);
  const P = cosines(images, texts);

  it.each([
    ['soft_wpmi', { topK: 30 }, () => pmiOracle('soft_wpmi', P, activations, { topK: 30 })],
    ['wpmi', {}, () => pmiOracle('wpmi', P, activations)],
    ['cos_cubed', {}, () => cosSimilarityCubed(P, activations)],
  ] as const)(
    '%s ranks every concept with the reference formulation’s scores',
    async (similarity, options, expected) => {
      const scores = expected();
      const labels = await clipDissect({ similarity, similarityOptions: options, topLabels: 12 }).label({
        layer: 'l',
        activations,
        concepts,
        imageEmbeddings: images,
        textEmbeddings: texts,
      });
      labels.forEach((ranked, k) => {
        expect(ranked).toHaveLength(12);
        for (const { concept, score } of ranked) {
          const reference = scores.data[k * 12 + concept!];
          expect(Math.abs(score - reference)).toBeLessThanOrEqual(1e-3 + 1e-4 * Math.abs(reference));
        }
        const best = Array.from(scores.data.subarray(k * 12, (k + 1) * 12)).reduce(
          (b, v, m, row) => (v > row[b] ? m : b),
          0,
        );
        expect(ranked[0].concept).toBe(best);
      });
    },
  );

  it('labels several layers in one pass, each as it would be alone, on the runtime’s kernels', async () => {
    const second = randomMatrix(150, 9, 4);
    let products = 0;
    let planned = 0;
    const matmul: MatmulKernel = (a, b) => {
      products++;
      return matmulTransposed(a, b);
    };
    const pmiProcessor: PmiProcessorFactory = (plan) => {
      planned = plan.neurons;
      return createWasmPmiProcessor(plan);
    };
    const labeler = clipDissect({ similarityOptions: { topK: 20 } });
    const context = (layer: string, acts: Matrix) => ({
      layer,
      activations: acts,
      concepts,
      imageEmbeddings: images,
      textEmbeddings: texts,
      kernels: { matmul, pmiProcessor },
    });
    const together = await labeler.labelLayers!([context('a', activations), context('b', second)]);
    expect(planned).toBe(15); // one plan for both layers' neurons
    expect(products).toBeGreaterThan(0);
    expect(together[0]).toEqual(await labeler.label(context('a', activations)));
    expect(together[1]).toEqual(await labeler.label(context('b', second)));
  });

  it.each(['soft_wpmi', 'wpmi'] as const)(
    '%s labels a layer in ranges of units that merge to the whole layer’s labels',
    async (similarity) => {
      const labeler = clipDissect({ similarity, similarityOptions: { topK: 25 }, topLabels: 12 });
      const layer = randomMatrix(150, 11, 5);
      const columns = (start: number, end: number): Matrix => {
        const out = createMatrix(layer.rows, end - start);
        for (let r = 0; r < layer.rows; r++)
          for (let c = start; c < end; c++)
            out.data[r * (end - start) + c - start] = layer.data[r * layer.cols + c];
        return out;
      };
      const context = (acts: Matrix) => ({
        layer: 'l',
        activations: acts,
        concepts,
        imageEmbeddings: images,
        textEmbeddings: texts,
      });
      const whole = await labeler.label(context(layer));
      const parts = [];
      for (const [start, end] of [
        [0, 4],
        [4, 5],
        [5, 11],
      ])
        parts.push(await labeler.labelPart!(context(columns(start, end))));
      // A part survives a feature store: a float32 matrix and JSON.
      const stored = parts.map((part) => ({
        matrix: part.matrix,
        meta: JSON.parse(JSON.stringify(part.meta)),
      }));
      const merged = labeler.mergeParts!(stored, concepts);
      expect(merged).toHaveLength(11);
      merged.forEach((ranked, k) => {
        expect(ranked.map((l) => l.concept)).toEqual(whole[k].map((l) => l.concept));
        ranked.forEach((l, i) => {
          expect(Math.abs(l.score - whole[k][i].score)).toBeLessThanOrEqual(1e-6);
        });
      });
      // Labelling a range alone (without the merged prior) would give other scores.
      const alone = await labeler.label(context(columns(0, 4)));
      expect(alone[0][0].score).not.toBeCloseTo(whole[0][0].score, 4);
    },
  );

  it('labels ranges alone when its similarity has no layer prior', () => {
    expect(clipDissect({ similarity: 'cos_cubed' }).labelPart).toBeUndefined();
  });
});
