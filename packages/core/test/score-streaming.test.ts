import { describe, expect, it } from 'vitest';
import {
  createMatrix,
  createRandom,
  createWasmPmiProcessor,
  ErrorCode,
  type Matrix,
  matmulTransposed,
  matrixFromRows,
  normalizeRows,
  type PmiProcessorFactory,
  SIMILARITY_NAMES,
  scoreNeurons,
  scoreNeuronsSync,
  similarityFromEmbeddings,
  similarityFromMatrix,
} from '../src/index';
import { resolvePmiParameters } from '../src/internal';
import { pmiOracle } from '../src/testing/pmi-oracle';

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const random = createRandom(seed);
  const m = createMatrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = random() * 2 - 1;
  return m;
}

describe('scoring from embeddings', () => {
  const images = randomMatrix(120, 16, 1);
  const texts = randomMatrix(30, 16, 2);
  const activations = randomMatrix(120, 5, 3);
  const clip = matmulTransposed(
    normalizeRows(createMatrix(120, 16, images.data.slice())),
    normalizeRows(createMatrix(30, 16, texts.data.slice())),
  );
  const options = {
    soft_wpmi: { topK: 20 },
    wpmi: { topK: 10 },
    cos: {},
    cos_cubed: {},
    rank_reorder: { topFraction: 0.1 },
  };

  it.each(SIMILARITY_NAMES)('%s streamed from embeddings equals the dense form on P = Î·T̂ᵀ', async (fn) => {
    const dense = scoreNeuronsSync(fn, clip, activations, options[fn]);
    const streamed = await scoreNeurons(fn, similarityFromEmbeddings(images, texts), activations, {
      options: options[fn],
      blockSize: 13,
    });
    for (let i = 0; i < dense.data.length; i++) {
      expect(Math.abs(streamed.data[i] - dense.data[i])).toBeLessThanOrEqual(
        1e-4 + 1e-5 * Math.abs(dense.data[i]),
      );
    }
  });

  it('does not change the caller’s embeddings', () => {
    const before = Array.from(images.data);
    similarityFromEmbeddings(images, texts);
    expect(Array.from(images.data)).toEqual(before);
  });

  it('reports progress and can be cancelled', async () => {
    const events: number[] = [];
    await scoreNeurons('cos', similarityFromMatrix(clip), activations, {
      blockSize: 50,
      onProgress: (e) => events.push(e.done),
    });
    expect(events).toEqual([50, 100, 120]);
    const controller = new AbortController();
    controller.abort();
    await expect(
      scoreNeurons('cos', similarityFromMatrix(clip), activations, { signal: controller.signal }),
    ).rejects.toMatchObject({ code: ErrorCode.Aborted });
  });
});

describe('bad input', () => {
  const clip = matrixFromRows([
    [0.1, 0.2],
    [0.3, 0.4],
  ]);
  it('rejects mismatched image counts with a coded error', () => {
    expect(() => scoreNeuronsSync('soft_wpmi', clip, matrixFromRows([[1], [2], [3]]))).toThrow(
      expect.objectContaining({
        code: ErrorCode.ShapeMismatch,
        message: expect.stringMatching(/3 images but the CLIP similarities cover 2/),
      }),
    );
  });
  it('rejects an explicit topK larger than N with the fix', () => {
    expect(() => scoreNeuronsSync('soft_wpmi', clip, matrixFromRows([[1], [2]]), { topK: 100 })).toThrow(
      'topK is 100 but there are only 2 images; choose topK ≤ 2.',
    );
  });
  it('caps the default topK at N: a small probe set uses all its images', () => {
    const activations = matrixFromRows([[1], [2]]);
    for (const fn of ['soft_wpmi', 'wpmi'] as const) {
      const byDefault = scoreNeuronsSync(fn, clip, activations);
      const allImages = scoreNeuronsSync(fn, clip, activations, { topK: 2 });
      expect(Array.from(byDefault.data)).toEqual(Array.from(allImages.data));
    }
  });
  it('rejects embeddings of different dimensions', () => {
    expect(() => similarityFromEmbeddings(createMatrix(2, 3), createMatrix(2, 4))).toThrow(/same CLIP model/);
  });
  it('rejects out-of-range options', () => {
    expect(() =>
      scoreNeuronsSync('soft_wpmi', clip, matrixFromRows([[1], [2]]), { topK: 1, pStart: 2 }),
    ).toThrow(/pStart must be a finite number in \[0, 1\]/);
  });
});

describe('one engine, one parameter resolution', () => {
  const random = createRandom(7);
  const fill = (m: Matrix) => {
    for (let i = 0; i < m.data.length; i++) m.data[i] = random() * 2 - 1;
    return m;
  };
  const clip = fill(createMatrix(90, 23));
  const activations = fill(createMatrix(90, 6));

  it.each([
    ['soft_wpmi', { topK: 15 }],
    ['wpmi', { topK: 9 }],
    ['soft_wpmi', { topK: 30, a: 5, lambda: 0.5, minProb: 1e-5 }],
  ] as const)('%s on the kernel (%o) equals the plain float64 oracle', async (fn, options) => {
    const expected = pmiOracle(fn, clip, activations, options);
    const sync = scoreNeuronsSync(fn, clip, activations, options);
    const streamed = await scoreNeurons(fn, similarityFromMatrix(clip), activations, {
      options,
      blockSize: 11,
    });
    for (const actual of [sync, streamed]) {
      for (let i = 0; i < expected.data.length; i++) {
        expect(Math.abs(actual.data[i] - expected.data[i])).toBeLessThanOrEqual(
          1e-4 + 1e-5 * Math.abs(expected.data[i]),
        );
      }
    }
  });

  it('checks minProb the same way in the sync and the streaming form (it must be > 0)', async () => {
    for (const fn of ['soft_wpmi', 'wpmi'] as const) {
      expect(() => scoreNeuronsSync(fn, clip, activations, { minProb: 0 })).toThrow(/minProb must be/);
      await expect(
        scoreNeurons(fn, similarityFromMatrix(clip), activations, { options: { minProb: 0 } }),
      ).rejects.toThrow(/minProb must be/);
      expect(() => resolvePmiParameters(fn, { minProb: -1 }, 10)).toThrow(/minProb must be/);
    }
  });

  it('runs soft-WPMI through the processor it is given', async () => {
    let planned = 0;
    const processor: PmiProcessorFactory = async (plan) => {
      planned = plan.neurons;
      return createWasmPmiProcessor(plan);
    };
    const withProcessor = await scoreNeurons('soft_wpmi', similarityFromMatrix(clip), activations, {
      options: { topK: 10 },
      processor,
    });
    expect(planned).toBe(6);
    const plain = scoreNeuronsSync('soft_wpmi', clip, activations, { topK: 10 });
    expect(Array.from(withProcessor.data)).toEqual(Array.from(plain.data));
  });
});
