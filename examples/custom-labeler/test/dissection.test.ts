import {
  type ClipModel,
  conceptSetFromList,
  createDissection,
  createMatrix,
  type ProbeDataset,
  type RgbImage,
  type TargetModel,
  type Tensor,
} from '@neurodissect/core';
import { clipDissect } from '@neurodissect/labelers';
import { describe, expect, it } from 'vitest';
import { dominantColour, PALETTE } from '../src/dominant-colour';

// 12 solid 4×4 images: image i is red, green or blue (i % 3), a little brighter with i. The model's
// layer "rgb" has one neuron per colour channel (the channel's mean); the CLIP embeds an image as its
// mean colour and a colour word as its palette colour. Neuron 0 must be red, 1 green, 2 blue.
const names = ['red', 'green', 'blue'] as const;
const colourOf = (i: number) => PALETTE[names[i % 3]].map((v) => Math.min(255, v + i));
const probe: ProbeDataset = {
  name: 'solid-colours',
  size: 12,
  item: (i) => ({ id: `img-${i}`, uri: `img-${i}.png` }),
  read: async (i) => ({
    width: 4,
    height: 4,
    data: Uint8Array.from({ length: 48 }, (_, p) => colourOf(i)[p % 3]),
  }),
};

function meanColour(image: RgbImage): number[] {
  const sums = [0, 0, 0];
  for (let p = 0; p < image.data.length; p++) sums[p % 3] += image.data[p] / (image.data.length / 3);
  return sums;
}

const model: TargetModel = {
  layers: [{ name: 'rgb', tensor: 'rgb' }],
  async run(batch) {
    return new Map([['rgb', { ...batch, data: batch.data.slice() }]]);
  },
  async dispose() {},
};

const clip: ClipModel = {
  dim: 3,
  async embedImages(images) {
    const m = createMatrix(images.length, 3);
    for (const [i, image] of images.entries()) m.data.set(meanColour(image), i * 3);
    return m;
  },
  async embedTexts(texts) {
    const m = createMatrix(texts.length, 3);
    for (const [i, t] of texts.entries()) m.data.set(PALETTE[t], i * 3);
    return m;
  },
  async dispose() {},
};

describe('dominant-colour in a dissection', () => {
  it('puts its labels in the Results beside clip-dissect’s', async () => {
    const results = await createDissection({
      target: {
        model,
        name: 'channel-means',
        hash: 'sha256:00',
        preprocessing: 'mean-colour',
        prepare: (images): Tensor<'float32'> => ({
          dtype: 'float32',
          dims: [images.length, 3, 1, 1],
          data: Float32Array.from(images.flatMap(meanColour)),
        }),
      },
      layers: ['rgb'],
      clip: { model: clip, name: 'colour-clip', hash: 'sha256:01' },
      probe,
      concepts: { ...conceptSetFromList(['red', 'green', 'blue', 'yellow']), name: 'colours' },
      labelers: [
        clipDissect({ similarityOptions: { topK: 4 } }),
        dominantColour({ read: probe.read, topImages: 4 }),
      ],
      topImages: 4,
    }).run();
    expect(results.labelers.map((l) => [l.id, l.options])).toEqual([
      ['clip-dissect', { similarity: 'soft_wpmi', topK: 4, topLabels: 10 }],
      ['dominant-colour', { topImages: 4, radius: 80 }],
    ]);
    expect(results.failures).toEqual([]);
    const [layer] = results.layers;
    expect(layer.neurons.map((n) => n.labels['clip-dissect'][0].label)).toEqual(['red', 'green', 'blue']);
    // Each neuron's top 4 images are solid images of its colour, within 80 of the palette colour
    // (at most +11 per channel): coverage 1 in each, and no other palette colour is within 80.
    expect(layer.neurons.map((n) => n.labels['dominant-colour'])).toEqual([
      [{ label: 'red', concept: 0, score: 1, votes: 4 }],
      [{ label: 'green', concept: 1, score: 1, votes: 4 }],
      [{ label: 'blue', concept: 2, score: 1, votes: 4 }],
    ]);
  });
});
