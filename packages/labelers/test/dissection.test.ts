import {
  type ClipModel,
  conceptSetFromList,
  createDissection,
  createMatrix,
  type FeatureStore,
  type Labeler,
  type ProbeDataset,
  type RgbImage,
  type StoredFeature,
  type TargetModel,
  type Tensor,
} from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { clipAvg, clipDissect } from '../src/index';

// A small world whose answers are known: solid-colour images; the "model" exposes the channel
// means (layer rgb) and a layer with a broken neuron; the "CLIP" embeds an image as its mean colour
// and a colour word as its axis. Each rgb neuron must be labelled with its colour.
const colours: [number, number, number][] = [];
for (let i = 0; i < 24; i++) {
  const main = i % 3;
  const c: [number, number, number] = [20 + (i % 5), 30 + (i % 7), 25 + (i % 4)];
  c[main] = 200 + i;
  colours.push(c);
}
const probe: ProbeDataset = {
  name: 'solid-colours',
  size: colours.length,
  item: (i) => ({ id: `img-${i}`, uri: `img-${i}.png` }),
  read: async (i) => ({
    width: 2,
    height: 2,
    data: Uint8Array.from({ length: 12 }, (_, p) => colours[i][p % 3]),
  }),
};

function meanColour(image: RgbImage): number[] {
  const sums = [0, 0, 0];
  for (let p = 0; p < image.data.length; p++) sums[p % 3] += image.data[p] / (image.data.length / 3);
  return sums;
}

function createModel(): TargetModel & { runs: number } {
  return {
    runs: 0,
    layers: [
      { name: 'rgb', tensor: 'rgb' },
      { name: 'broken', tensor: 'broken' },
    ],
    async run(batch, layers) {
      this.runs++;
      const n = batch.dims[0];
      const out = new Map<string, Tensor<'float32'>>();
      if (layers.includes('rgb'))
        out.set('rgb', { dtype: 'float32', dims: [n, 3, 1, 1], data: batch.data.slice() });
      if (layers.includes('broken')) {
        const data = new Float32Array(n * 2);
        for (let i = 0; i < n; i++) {
          data[2 * i] = batch.data[3 * i];
          data[2 * i + 1] = i === 0 ? Number.NaN : batch.data[3 * i + 1]; // the first image of each batch
        }
        out.set('broken', { dtype: 'float32', dims: [n, 2], data });
      }
      return out;
    },
    async dispose() {},
  };
}

const axes: Record<string, number[]> = { red: [1, 0, 0], green: [0, 1, 0], blue: [0, 0, 1], grey: [1, 1, 1] };
const clip: ClipModel = {
  dim: 3,
  async embedImages(images) {
    const m = createMatrix(images.length, 3);
    images.forEach((image, i) => {
      m.data.set(meanColour(image), i * 3);
    });
    return m;
  },
  async embedTexts(texts) {
    const m = createMatrix(texts.length, 3);
    texts.forEach((t, i) => {
      m.data.set(axes[t], i * 3);
    });
    return m;
  },
  async dispose() {},
};

function memoryStore(): FeatureStore & { puts: number } {
  const entries = new Map<string, StoredFeature>();
  return {
    puts: 0,
    async get(key) {
      return entries.get(key);
    },
    async put(key, tensor, meta) {
      this.puts++;
      entries.set(key, { tensor, meta });
    },
  };
}

const failing: Labeler = {
  id: 'always-fails',
  version: '1',
  requires: ['activations'],
  options: {},
  async label() {
    throw new Error('out of ideas');
  },
};

function options(model: TargetModel, store: FeatureStore) {
  return {
    target: {
      model,
      name: 'channel-means',
      hash: 'sha256:00',
      preprocessing: 'mean-colour',
      prepare: (images: readonly RgbImage[]) => {
        const data = new Float32Array(images.length * 3);
        images.forEach((image, i) => {
          data.set(meanColour(image), i * 3);
        });
        return { dtype: 'float32' as const, dims: [images.length, 3, 1, 1], data };
      },
    },
    layers: ['rgb', 'broken'],
    clip: { model: clip, name: 'colour-clip', hash: 'sha256:01' },
    probe,
    concepts: { ...conceptSetFromList(['red', 'green', 'blue', 'grey']), name: 'colours' },
    labelers: [
      clipDissect({ similarityOptions: { topK: 8 } }),
      clipAvg({ topImages: 5, perImage: 2 }),
      failing,
    ],
    store,
    batchSize: 5,
    topImages: 4,
    runtime: { name: 'test', executionProvider: 'cpu' },
  };
}

describe('createDissection', () => {
  it('labels every neuron with every labeler into one valid Results document', async () => {
    const progress = new Set<string>();
    const results = await createDissection({
      ...options(createModel(), memoryStore()),
      onProgress: (e) => progress.add(e.stage),
    }).run();
    const rgb = results.layers.find((l) => l.name === 'rgb')!;
    expect(rgb.neurons.map((n) => n.labels['clip-dissect'][0].label)).toEqual(['red', 'green', 'blue']);
    expect(rgb.neurons.map((n) => n.labels['clip-avg'][0].label)).toEqual(['red', 'green', 'blue']);
    // Top images of the red neuron are the reddest images, with their activations.
    expect(rgb.neurons[0].topImages.map((t) => t.image)).toEqual([21, 18, 15, 12]);
    expect(rgb.neurons[0].topImages[0].activation).toBeCloseTo(221, 4);
    expect(results.probe.images[21]).toEqual({ id: 'img-21', uri: 'img-21.png' });
    expect(results.run.runtime).toEqual({ name: 'test', executionProvider: 'cpu' });
    expect([...progress]).toEqual(expect.arrayContaining(['features', 'clip-dissect:rgb+broken']));
  });

  it('keeps the other labelers when one fails, and records the failure', async () => {
    const results = await createDissection(options(createModel(), memoryStore())).run();
    expect(results.failures).toEqual([
      { stage: 'labeler:always-fails', layer: 'rgb', message: 'out of ideas' },
      { stage: 'labeler:always-fails', layer: 'broken', message: 'out of ideas' },
    ]);
  });

  it('never labels a neuron with non-finite activations, and says why', async () => {
    const results = await createDissection(options(createModel(), memoryStore())).run();
    const broken = results.layers.find((l) => l.name === 'broken')!;
    expect(broken.neurons[1]).toMatchObject({
      labels: {},
      issues: ['5 non-finite activation value(s); not labelled'],
    }); // one per batch of 5
    expect(Object.keys(broken.neurons[0].labels).sort()).toEqual(['clip-avg', 'clip-dissect']);
  });

  it('reuses cached features and resumes finished layers', async () => {
    const store = memoryStore();
    const first = createModel();
    const partials: number[] = [];
    const done = await createDissection({
      ...options(first, store),
      onLayer: (r) => void partials.push(r.layers.length),
    }).run();
    expect(partials).toEqual([1, 2]);
    expect(first.runs).toBe(5); // 24 images in batches of 5
    const second = createModel();
    const again = await createDissection(options(second, store)).run();
    expect(second.runs).toBe(0);
    expect(again.layers).toEqual(done.layers);
    // A resumed run recomputes only the layers the interrupted run had not finished.
    const third = createModel();
    const resumed = await createDissection({
      ...options(third, memoryStore()),
      resume: { ...done, layers: done.layers.slice(0, 1) },
    }).run();
    expect(resumed.layers).toEqual(done.layers);
    expect(third.runs).toBe(5);
  });

  it('decodes each probe image once for the target model and CLIP together', async () => {
    const reads: number[] = [];
    let embedded = 0;
    const counting: ProbeDataset = {
      ...probe,
      read: async (i) => {
        reads.push(i);
        return probe.read(i);
      },
    };
    const countingClip: ClipModel = {
      ...clip,
      embedImages: async (images, opts) => {
        embedded += images.length;
        return clip.embedImages(images, opts);
      },
    };
    const model = createModel();
    await createDissection({
      ...options(model, memoryStore()),
      probe: counting,
      clip: { model: countingClip, name: 'colour-clip', hash: 'sha256:01' },
    }).run();
    expect(reads).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(embedded).toBe(24);
    expect(model.runs).toBe(5);
  });

  it('streams activation maps to labelers that need them, held in memory only within the budget', async () => {
    // A labeler that reads the maps twice and labels each unit with its largest value.
    const twoPasses: Labeler = {
      id: 'max-map',
      version: '1',
      requires: ['activation-maps'],
      options: {},
      async label(context) {
        const source = context.activationMapSource!;
        const max: number[] = [];
        for (let pass = 0; pass < 2; pass++) {
          for await (const { maps } of source.batches()) {
            const [n, k] = maps.dims;
            const per = maps.data.length / (n * k);
            for (let i = 0; i < n; i++)
              for (let u = 0; u < k; u++)
                for (let p = 0; p < per; p++)
                  max[u] = Math.max(max[u] ?? Number.NEGATIVE_INFINITY, maps.data[(i * k + u) * per + p]);
          }
        }
        return max.map((value) => [{ label: 'max', score: value }]);
      },
    };
    const run = async (mapMemory?: number) => {
      const model = createModel();
      const results = await createDissection({
        ...options(model, memoryStore()),
        layers: ['rgb'],
        labelers: [twoPasses],
        ...(mapMemory === undefined ? {} : { mapMemory }),
      }).run();
      return { runs: model.runs, labels: results.layers[0].neurons.map((n) => n.labels['max-map']) };
    };
    const held = await run();
    const streamed = await run(0);
    // 5 batches: the features pass, then one pass of maps kept in memory (default budget) or two
    // passes from the model (no budget).
    expect(held.runs).toBe(10);
    expect(streamed.runs).toBe(15);
    expect(streamed.labels).toEqual(held.labels);
    expect(held.labels[0][0].score).toBeCloseTo(Math.max(...colours.map((c) => c[0])), 4);
  });

  it('reports and leaves out an image that cannot be read, keeping the rest', async () => {
    const flaky: ProbeDataset = {
      ...probe,
      read: async (i) => {
        if (i === 3) throw new Error('corrupt PNG');
        return probe.read(i);
      },
    };
    const results = await createDissection({ ...options(createModel(), memoryStore()), probe: flaky }).run();
    expect(results.failures).toContainEqual({ stage: 'read-image', message: 'img-3.png: corrupt PNG' });
    expect(results.probe.images).toHaveLength(23);
    expect(results.probe.images.map((i) => i.id)).not.toContain('img-3');
    const rgb = results.layers.find((l) => l.name === 'rgb')!;
    expect(rgb.neurons.map((n) => n.labels['clip-dissect'][0].label)).toEqual(['red', 'green', 'blue']);
    // Top images index the readable images: the reddest (img-21) is now at position 20.
    expect(results.probe.images[rgb.neurons[0].topImages[0].image].id).toBe('img-21');
  });

  it('attaches a heatmap to each top image when asked', async () => {
    const results = await createDissection({
      ...options(createModel(), memoryStore()),
      heatmaps: true,
    }).run();
    const red = results.layers.find((l) => l.name === 'rgb')!.neurons[0];
    expect(red.topImages.every((t) => t.heatmap?.startsWith('data:image/bmp;base64,'))).toBe(true);
    // Maps are 1×1 here: the most activating image is drawn at full strength (B 0, G 64, R 255).
    const strongest = Buffer.from(red.topImages[0].heatmap!.split(',')[1], 'base64');
    expect(Array.from(strongest.subarray(54, 57))).toEqual([0, 64, 255]);
    const plain = await createDissection(options(createModel(), memoryStore())).run();
    expect(plain.layers[0].neurons[0].topImages[0].heatmap).toBeUndefined();
  });

  it('rejects an empty probe set and missing CLIP with a message', async () => {
    await expect(
      createDissection({ ...options(createModel(), memoryStore()), probe: { ...probe, size: 0 } }).run(),
    ).rejects.toThrow(/has no images/);
    await expect(
      createDissection({ ...options(createModel(), memoryStore()), clip: undefined }).run(),
    ).rejects.toThrow(/clip-dissect, clip-avg need a CLIP model/);
  });
});
