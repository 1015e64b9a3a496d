import { isNeurodissectError } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { createSearchIndex } from '../src/index';
import { handMadeResults } from './hand-made-results';

// 2-D concept embeddings; cosines worked out by hand:
//   stripes [1, 0]; zebra [0.8, 0.6] (cos with stripes 0.8); dog [0, 1]; cat [0.6, 0.8].
const vectors = new Map<string, number[]>([
  ['stripes', [1, 0]],
  ['Zebra', [0.8, 0.6]],
  ['dog', [0, 1]],
  ['cat', [0.6, 0.8]],
]);

describe('semantic search', () => {
  const index = createSearchIndex(handMadeResults(), { embeddings: { vectors } });

  it('matches the labels nearest to an embedded query', () => {
    const result = index.search('stripes', { match: 'semantic', neighbours: 2, layers: ['conv'] });
    expect(result.matchedLabels.map((m) => [m.label, m.similarity])).toEqual([
      ['stripes', 1],
      ['zebra', expect.closeTo(0.8, 6)],
    ]);
    // conv units 0 and 5 carry stripes at .4 (rank 1); unit 1 stripes and zebra at .2 (stripes ranks better).
    expect(result.layers[0].hits.map((h) => [h.unit, h.label, h.rank, h.score])).toEqual([
      [0, 'stripes', 1, 0.4],
      [5, 'stripes', 1, 0.4],
      [1, 'stripes', 1, 0.2],
    ]);
    expect(result.layers[0].hits[0].similarity).toBe(1);
  });

  it('uses minSimilarity and a given queryEmbedding', () => {
    // [0, 1] is dog (cos 1), cat (0.8), zebra (0.6), stripes (0).
    const result = index.search('anything', {
      match: 'semantic',
      queryEmbedding: [0, 2],
      minSimilarity: 0.7,
    });
    expect(result.matchedLabels.map((m) => m.label)).toEqual(['dog', 'cat']);
    expect(result.layers.map((l) => l.hits.map((h) => h.unit))).toEqual([[2, 3], []]);
  });

  it('awaits an asynchronous embedText in searchAsync, and says so in search', async () => {
    const withText = createSearchIndex(handMadeResults(), {
      embeddings: { vectors, embedText: async (text) => (text === 'striped' ? [0.9, 0.1] : [0, 1]) },
    });
    // [0.9, 0.1] normalised: cos with stripes 0.994, zebra 0.861, cat 0.685, dog 0.110.
    const result = await withText.searchAsync('striped', { match: 'semantic', minSimilarity: 0.9 });
    expect(result.matchedLabels.map((m) => m.label)).toEqual(['stripes']);
    expect(() => withText.search('striped', { match: 'semantic' })).toThrowError(/call searchAsync/);
  });

  it('explains what is missing', () => {
    try {
      index.search('striped', { match: 'semantic' });
      expect.unreachable();
    } catch (error) {
      expect(isNeurodissectError(error, 'ND_INVALID_OPTION')).toBe(true);
      expect((error as Error).message).toMatch(
        /"striped" is not among the embedded concepts and no embedText was given/,
      );
    }
    expect(() => index.search('dog', { match: 'semantic', queryEmbedding: [1, 0, 0] })).toThrowError(
      /dimension 3 .* have 2/,
    );
    expect(() =>
      createSearchIndex(handMadeResults(), { embeddings: { vectors: { a: [1, 0], b: [1] } } }),
    ).toThrowError(/"b" has dimension 1 but others have 2/);
  });
});
