import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ClipModel,
  conceptSetFromList,
  createDissection,
  createMatrix,
  createRandom,
  type DissectionOptions,
  type FeatureStore,
  type Matrix,
  parseNpy,
  type Results,
  type StoredFeature,
  type TargetModel,
  type Tensor,
  tensorToMatrix,
} from '@neurodissect/core';
import { compareScores, pmiOracle } from '@neurodissect/core/testing';
import { clipDissect } from '@neurodissect/labelers';
import { createNodeRuntime } from '@neurodissect/runtime-node';
import { describe, expect, it } from 'vitest';
import { cli, tempDir, writeMatrix } from './helpers';

// One rule for tied activations on every path: a neuron's top images in descending order of
// activation, ties broken by the lower image index first. Planted ties: neuron 0 is constant (its
// top-k is the first k images), neuron 1 takes three values, neuron 2 is a ReLU with mostly zeros
// and a tie straddling the top-k boundary, neuron 3 has no ties (a control).
const [N, K, M, D, TOP_K] = [40, 4, 6, 6, 10];
const random = createRandom(11);
const activations = createMatrix(N, K);
for (let i = 0; i < N; i++) {
  activations.data[i * K] = 0.5;
  activations.data[i * K + 1] = [0, 1, 2][Math.floor(random() * 3)];
  activations.data[i * K + 2] = i % 5 === 0 ? 0 : i < 12 ? 3 : random() < 0.4 ? 1 : 0;
  activations.data[i * K + 3] = random();
}
// Unit-norm image and concept embeddings: P = Î·T̂ᵀ.
function unitRows(rows: number, seed: number): Matrix {
  const r = createRandom(seed);
  const m = createMatrix(rows, D);
  for (let i = 0; i < rows; i++) {
    let norm = 0;
    for (let d = 0; d < D; d++) {
      const v = r() * 2 - 1;
      m.data[i * D + d] = v;
      norm += v * v;
    }
    for (let d = 0; d < D; d++) m.data[i * D + d] /= Math.sqrt(norm);
  }
  return m;
}
const images = unitRows(N, 1);
const texts = unitRows(M, 2);
const clipSim = createMatrix(N, M);
for (let i = 0; i < N; i++)
  for (let m = 0; m < M; m++) {
    let dot = 0;
    for (let d = 0; d < D; d++) dot += images.data[i * D + d] * texts.data[m * D + d];
    clipSim.data[i * M + m] = dot;
  }

/** Each column's values replaced by their rank under `order` (larger first): a tie-free copy. */
function tieFree(order: (a: number, b: number) => number): Matrix {
  const out = createMatrix(N, K);
  for (let k = 0; k < K; k++) {
    const rows = Array.from({ length: N }, (_, i) => i).sort(
      (a, b) => activations.data[b * K + k] - activations.data[a * K + k] || order(a, b),
    );
    rows.forEach((row, rank) => {
      out.data[row * K + k] = N - rank;
    });
  }
  return out;
}
const options = { topK: TOP_K };
const expected = pmiOracle(
  'soft_wpmi',
  clipSim,
  tieFree((a, b) => a - b),
  options,
);

function expectScores(actual: Matrix): void {
  const { worstExcess, argmaxMismatches } = compareScores(actual, expected);
  expect(worstExcess).toBeLessThanOrEqual(0);
  expect(argmaxMismatches).toEqual([]);
}

/** The clip-dissect scores of a Results document, K × M (every concept is kept). */
function resultsScores(results: Results): Matrix {
  const scores = createMatrix(K, M);
  for (const neuron of results.layers[0].neurons)
    for (const label of neuron.labels['clip-dissect'])
      scores.data[neuron.unit * M + label.concept!] = label.score;
  return scores;
}

// Row i of the probe set: image i, whose one pixel carries its index to the model and CLIP.
const model: TargetModel = {
  layers: [{ name: 'units', tensor: 'units', shape: ['N', K] }],
  async run(batch) {
    const n = batch.dims[0];
    const data = new Float32Array(n * K);
    for (let b = 0; b < n; b++)
      data.set(activations.data.subarray(batch.data[b] * K, (batch.data[b] + 1) * K), b * K);
    return new Map<string, Tensor<'float32'>>([['units', { dtype: 'float32', dims: [n, K], data }]]);
  },
  async dispose() {},
};
const clip: ClipModel = {
  dim: D,
  async embedImages(batch) {
    const m = createMatrix(batch.length, D);
    batch.forEach((image, b) => {
      m.data.set(images.data.subarray(image.data[0] * D, (image.data[0] + 1) * D), b * D);
    });
    return m;
  },
  async embedTexts(names) {
    const m = createMatrix(names.length, D);
    names.forEach((name, j) => {
      const m0 = Number(name.slice(1));
      m.data.set(texts.data.subarray(m0 * D, (m0 + 1) * D), j * D);
    });
    return m;
  },
  async dispose() {},
};
function memoryStore(): FeatureStore {
  const entries = new Map<string, StoredFeature>();
  return {
    async get(key) {
      return entries.get(key);
    },
    async put(key, tensor, meta) {
      entries.set(key, { tensor, meta });
    },
  };
}
function dissection(extra: Partial<DissectionOptions> = {}): DissectionOptions {
  return {
    target: {
      model,
      name: 'planted-ties',
      hash: 'sha256:00',
      preprocessing: 'index',
      prepare: (batch) => ({
        dtype: 'float32',
        dims: [batch.length, 1, 1, 1],
        data: Float32Array.from(batch, (image) => image.data[0]),
      }),
    },
    layers: ['units'],
    clip: { model: clip, name: 'planted-clip', hash: 'sha256:01' },
    probe: {
      name: 'indices',
      size: N,
      item: (i) => ({ id: `img-${i}`, uri: `img-${i}.png` }),
      read: async (i) => ({ width: 1, height: 1, data: Uint8Array.from([i, 0, 0]) }),
    },
    concepts: { ...conceptSetFromList(Array.from({ length: M }, (_, m) => `c${m}`)), name: 'planted' },
    labelers: [clipDissect({ similarityOptions: options, topLabels: M })],
    batchSize: 7,
    topImages: 12,
    trust: false,
    ...extra,
  };
}

describe('tied activations: the lower image index first, on every path', () => {
  it('the ties planted here change the scores when broken the other way', () => {
    const reversed = pmiOracle(
      'soft_wpmi',
      clipSim,
      tieFree((a, b) => b - a),
      options,
    );
    expect(compareScores(reversed, expected).worstExcess).toBeGreaterThan(0);
  });

  it('neurodissect score', async () => {
    const dir = tempDir();
    const out = join(dir, 'scores.npy');
    const result = await cli(
      'score',
      '--fn',
      'soft_wpmi',
      '--top-k',
      String(TOP_K),
      '--activations',
      writeMatrix(dir, 'A.npy', activations),
      '--clip-sim',
      writeMatrix(dir, 'P.npy', clipSim),
      '--out',
      out,
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expectScores(tensorToMatrix(parseNpy(readFileSync(out))));
  });

  it('dissect on the Node runtime’s kernels, and on the portable ones the browser page uses', async () => {
    const runtime = await createNodeRuntime();
    try {
      const node = await createDissection(dissection({ kernels: runtime })).run();
      const portable = await createDissection(dissection()).run();
      for (const results of [node, portable]) {
        expectScores(resultsScores(results));
        const [constant, , relu] = results.layers[0].neurons;
        // Every image ties on neuron 0: the first twelve, in order.
        expect(constant.topImages.map((top) => top.image)).toEqual(Array.from({ length: 12 }, (_, i) => i));
        // Neuron 2's value 3 is held by images 1–11 less the multiples of 5, then its 1s in order.
        const threes = [1, 2, 3, 4, 6, 7, 8, 9, 11];
        const ones = Array.from({ length: N }, (_, i) => i).filter((i) => activations.data[i * K + 2] === 1);
        expect(relu.topImages.map((top) => top.image)).toEqual([...threes, ...ones].slice(0, 12));
      }
    } finally {
      await runtime.dispose();
    }
  });

  it('a distributed run: image shards, then label shards of unit ranges, merged', async () => {
    const store = memoryStore();
    const run = createDissection(dissection({ store }));
    const images = [
      { start: 0, end: 13 },
      { start: 13, end: 29 },
      { start: 29, end: N },
    ];
    for (const range of images) await run.featureShard(range);
    await run.joinFeatureShards(images);
    await run.textShard();
    const units = [
      { start: 0, end: 1 },
      { start: 1, end: 3 },
      { start: 3, end: K },
    ];
    for (const range of units) await run.labelShard('units', range);
    const merged = await run.mergeLabelShards('units', units);
    const results = await createDissection(dissection({ store, labels: async () => merged })).run();
    expectScores(resultsScores(results));
  });
});
