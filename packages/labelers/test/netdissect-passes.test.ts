import {
  type AnnotationMask,
  conceptSetFromList,
  createDissection,
  createRandom,
  type FeatureStore,
  type ProbeDataset,
  type ProgressEvent,
  type StoredFeature,
  type TargetModel,
  type Tensor,
} from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { brodenLabel, netDissect } from '../src/index';

// 45 images; image i's maps [3, 4, 4] are seeded by i and rounded to sixteenths (so values tie), its
// 8×8 object mask holds label 1 + (i mod 3) on a quadrant and its texture label 4 + (i mod 2).
const N = 45;
const [K, h, w] = [3, 4, 4];
function mapsOf(i: number): Float32Array {
  const random = createRandom(100 + i);
  return Float32Array.from({ length: K * h * w }, () => Math.round(random() * 64) / 16);
}
const allMaps = new Float32Array(N * K * h * w);
for (let i = 0; i < N; i++) allMaps.set(mapsOf(i), i * K * h * w);

function maskOf(i: number): AnnotationMask {
  const labels = new Uint16Array(64);
  const [oy, ox] = [(i % 2) * 4, (Math.floor(i / 2) % 2) * 4];
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) labels[(oy + y) * 8 + ox + x] = 1 + (i % 3);
  return { category: 'object', width: 8, height: 8, labels };
}
const annotations = {
  labels: new Map([
    [1, { name: 'circle', category: 'object' }],
    [2, { name: 'square', category: 'object' }],
    [3, { name: 'star', category: 'object' }],
    [4, { name: 'striped', category: 'texture' }],
    [5, { name: 'dotted', category: 'texture' }],
  ]),
  imageLabels: (i: number): Record<string, number[]> => ({ texture: [4 + (i % 2)] }),
  masks: async (i: number) => [maskOf(i)],
};
const probe: ProbeDataset = {
  name: 'quadrants',
  size: N,
  item: (i) => ({ id: `img-${i}`, uri: `img-${i}.png` }),
  // The image's one pixel carries its index to the model.
  read: async (i) => ({ width: 1, height: 1, data: Uint8Array.from([i, 0, 0]) }),
  conceptAnnotations: annotations,
};

function createModel(): TargetModel & { runs: number } {
  return {
    runs: 0,
    layers: [{ name: 'maps', tensor: 'maps' }],
    async run(batch) {
      this.runs++;
      const n = batch.dims[0];
      const data = new Float32Array(n * K * h * w);
      for (let b = 0; b < n; b++) data.set(mapsOf(batch.data[b]), b * K * h * w);
      return new Map<string, Tensor<'float32'>>([['maps', { dtype: 'float32', dims: [n, K, h, w], data }]]);
    },
    async dispose() {},
  };
}

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

const BATCH = 8;
const batches = Math.ceil(N / BATCH);

async function dissect(
  options: { store?: FeatureStore; thresholdMemory?: number; labelers?: 'broden' } = {},
) {
  const model = createModel();
  const events: ProgressEvent[] = [];
  const results = await createDissection({
    target: {
      model,
      name: 'seeded-maps',
      hash: 'sha256:00',
      preprocessing: 'index',
      prepare: (images) => ({
        dtype: 'float32',
        dims: [images.length, 1, 1, 1],
        data: Float32Array.from(images, (image) => image.data[0]),
      }),
    },
    layers: ['maps'],
    probe,
    concepts: { ...conceptSetFromList(['circle']), name: 'unused' },
    labelers: options.labelers === 'broden' ? [brodenLabel()] : [netDissect({ quantile: 0.03 })],
    batchSize: BATCH,
    mapMemory: 0, // the maps are never held: every pass over them runs the model
    trust: false,
    ...(options.store ? { store: options.store } : {}),
    ...(options.thresholdMemory === undefined ? {} : { thresholdMemory: options.thresholdMemory }),
    onProgress: (event) => events.push(event),
  }).run();
  const labels = results.layers[0].neurons.map((neuron) => neuron.labels.netdissect);
  const last = events.filter((event) => event.stage.startsWith('netdissect')).at(-1);
  return { runs: model.runs, labels, last };
}

describe('NetDissect in the pipeline', () => {
  it('makes one pass over maps it cannot hold, with the thresholds of the features pass, and gives the exact labels', async () => {
    // The exact result: every map in memory, thresholds by the labeler's own radix selection.
    const exact = await netDissect({ quantile: 0.03 }).label({
      layer: 'maps',
      activations: { rows: N, cols: K, data: new Float32Array(N * K) },
      activationMaps: { dtype: 'float32', dims: [N, K, h, w], data: allMaps },
      concepts: [],
      annotations,
    });
    expect(exact.some((ranked) => ranked.length > 0)).toBe(true);
    const run = await dissect();
    expect(run.runs).toBe(2 * batches); // the features pass, then the tally
    expect(run.last).toMatchObject({ done: N, total: N });
    expect(run.labels).toEqual(exact);

    // Without the budget for the buffers: the labeler's three threshold passes come back.
    const radix = await dissect({ thresholdMemory: 0 });
    expect(radix.runs).toBe(5 * batches);
    expect(radix.last).toMatchObject({ done: 4 * N, total: 4 * N });
    expect(radix.labels).toEqual(exact);
  });

  it('takes the thresholds from the feature store, or finds them in one pass when features were cached without them', async () => {
    const store = memoryStore();
    const first = await dissect({ store });
    const again = await dissect({ store });
    expect(again.runs).toBe(batches); // features and thresholds cached: the tally alone
    expect(again.labels).toEqual(first.labels);

    const other = memoryStore();
    await dissect({ store: other, labelers: 'broden' }); // caches the features, no thresholds
    const later = await dissect({ store: other });
    expect(later.runs).toBe(2 * batches); // one pass for the thresholds, one to tally
    expect(later.last).toMatchObject({ done: 2 * N, total: 2 * N });
    expect(later.labels).toEqual(first.labels);
  });
});
