import { matrixFromRows } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { clipAvg } from '../src/index';

describe('clipAvg', () => {
  // 3 images, 3 concepts, embeddings chosen so each image's cosines are easy to read:
  // image 0 = [1,0] → cos with concepts (1,0), (0,1), (0.6,0.8): 1, 0, 0.6
  // image 1 = [0,1] → 0, 1, 0.8
  // image 2 = [0.6,0.8] → 0.6, 0.8, 1
  const images = matrixFromRows([
    [1, 0],
    [0, 1],
    [3, 4],
  ]);
  const texts = matrixFromRows([
    [2, 0],
    [0, 5],
    [0.6, 0.8],
  ]);
  const concepts = ['red', 'green', 'olive'];
  // Neuron 0 fires on images 0 and 2; neuron 1 on image 1 and 2.
  const activations = matrixFromRows([
    [5, 0],
    [0, 5],
    [4, 4],
  ]);

  it('sums the cosines of each top image’s best concepts, with votes', async () => {
    const labels = await clipAvg({ topImages: 2, perImage: 2 }).label({
      layer: 'l',
      activations,
      concepts,
      imageEmbeddings: images,
      textEmbeddings: texts,
    });
    // Neuron 0: image 0 votes red 1, olive 0.6; image 2 votes olive 1, green 0.8.
    expect(labels[0].map((l) => [l.label, Number(l.score.toFixed(6)), l.votes])).toEqual([
      ['olive', 1.6, 2],
      ['red', 1, 1],
      ['green', 0.8, 1],
    ]);
    // Neuron 1: image 1 votes green 1, olive 0.8; image 2 votes olive 1, green 0.8.
    expect(labels[1].map((l) => [l.label, Number(l.score.toFixed(6)), l.votes])).toEqual([
      ['green', 1.8, 2],
      ['olive', 1.8, 2],
    ]);
  });

  it('needs CLIP embeddings', async () => {
    await expect(clipAvg().label({ layer: 'l', activations, concepts })).rejects.toThrow(
      /needs image and text embeddings/,
    );
  });
});
