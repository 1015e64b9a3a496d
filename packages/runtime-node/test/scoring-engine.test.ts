import {
  createMatrix,
  createRandom,
  type Matrix,
  matmulTransposed,
  scoreNeuronsSync,
  similarityFromEmbeddings,
  similarityFromMatrix,
} from '@neurodissect/core';
import { scorePmiLayers } from '@neurodissect/core/internal';
import { compareScores } from '@neurodissect/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { GOLDEN_CASES, loadGolden } from '../../../scripts/test-setup/golden';
import { createOrtMatmulKernel, createThreadedPmiProcessor } from '../src/index';

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const random = createRandom(seed);
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = random() * 2 - 1;
  return m;
}

const kernel = createOrtMatmulKernel({ threads: 1 });
afterAll(() => kernel.dispose());

describe('onnxruntime matrix product', () => {
  it('equals the portable kernel', async () => {
    const a = randomMatrix(37, 24, 1);
    const b = randomMatrix(19, 24, 2);
    const expected = matmulTransposed(a, b);
    const actual = await kernel(a, b);
    expect([actual.rows, actual.cols]).toEqual([37, 19]);
    for (let i = 0; i < expected.data.length; i++) expect(actual.data[i]).toBeCloseTo(expected.data[i], 5);
    // A second block reuses the session built for b.
    const again = await kernel(a, b);
    expect(Array.from(again.data)).toEqual(Array.from(actual.data));
  });
});

describe.each(GOLDEN_CASES)('threaded soft-WPMI engine on golden %s', (name) => {
  const golden = loadGolden(name);
  it.each([
    ['soft_wpmi', 'soft_wpmi', {}],
    ['soft_wpmi_k20_a5_lam05', 'soft_wpmi', { topK: 20, a: 5, lambda: 0.5 }],
    ['wpmi', 'wpmi', {}],
  ] as const)('%s matches the reference', async (key, fn, options) => {
    const scores: Matrix[] = [];
    await scorePmiLayers(
      similarityFromMatrix(golden.clip),
      [{ name: 'l', activations: golden.activations }],
      {
        fn,
        options,
        blockRows: 64,
        processor: createThreadedPmiProcessor({ threads: 2 }),
        onLayer: (_, s) => {
          scores.push(s);
        },
      },
    );
    const { worstExcess, argmaxMismatches } = compareScores(scores[0], golden.outputs[key]);
    expect(worstExcess).toBeLessThanOrEqual(0);
    expect(argmaxMismatches).toEqual([]);
  });
});

describe('sharding', () => {
  const images = randomMatrix(300, 16, 3);
  const texts = randomMatrix(41, 16, 4);
  const layer1 = randomMatrix(300, 7, 5);
  const layer2 = randomMatrix(300, 12, 6);
  const source = similarityFromEmbeddings(images, texts, { kernel });

  it('one pass over several layers equals scoring each layer alone, threaded or not', async () => {
    const together = new Map<string, Matrix>();
    await scorePmiLayers(
      source,
      [
        { name: 'a', activations: layer1 },
        { name: 'b', activations: layer2 },
      ],
      {
        options: { topK: 25 },
        blockRows: 40,
        processor: createThreadedPmiProcessor({ threads: 3 }),
        onLayer: (layer, s) => {
          together.set(layer, s);
        },
      },
    );
    for (const [layer, activations] of [
      ['a', layer1],
      ['b', layer2],
    ] as const) {
      const alone: Matrix[] = [];
      await scorePmiLayers(source, [{ name: layer, activations }], {
        options: { topK: 25 },
        onLayer: (_, s) => {
          alone.push(s);
        },
      });
      // Each neuron's terms are added in the same order, so the results are bit-identical.
      expect(Array.from(together.get(layer)!.data)).toEqual(Array.from(alone[0].data));
      // And they agree with the portable float64 implementation to float rounding.
      const reference = scoreNeuronsSync(
        'soft_wpmi',
        matmulTransposed(normalize(images), normalize(texts)),
        activations,
        { topK: 25 },
      );
      const { worstExcess, argmaxMismatches } = compareScores(together.get(layer)!, reference);
      expect(worstExcess).toBeLessThanOrEqual(0);
      expect(argmaxMismatches).toEqual([]);
    }
  });
});

function normalize(m: Matrix): Matrix {
  const out = createMatrix(m.rows, m.cols, m.data.slice());
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let c = 0; c < m.cols; c++) s += out.data[r * m.cols + c] ** 2;
    for (let c = 0; c < m.cols; c++) out.data[r * m.cols + c] /= Math.sqrt(s);
  }
  return out;
}
