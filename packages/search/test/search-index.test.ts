import { isNeurodissectError } from '@neurodissect/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClipSearch } from '../../../scripts/test-setup/clip-search';
import { createSearchIndex, type SearchIndex } from '../src/index';
import { handMadeResults } from './hand-made-results';

// Expected values below were obtained independently with Python's csv module over
// packages/core/test/fixtures/clip-search/layer{1..4}.csv (labels in columns 1-10, scores in
// 11-20): for each neuron, the matching labels (lower-cased), keeping the best rank (then the best
// score); sorted by score descending (or with order "rank": by rank, then score descending), then
// unit. None of this uses the code under test.

let index: SearchIndex;
beforeAll(() => {
  index = createSearchIndex(loadClipSearch());
});

describe('exact search on the clip-search layers', () => {
  it('orders by score across ranks, as Figures 16 and 18 of the CLIP-Dissect report list them', () => {
    const stripes = index.search('stripes', { layers: ['layer4'] });
    expect(stripes.order).toBe('score');
    expect(stripes.layers[0].hits.slice(0, 11).map((h) => h.unit)).toEqual([
      1330, 761, 769, 610, 1069, 779, 1173, 853, 1989, 1872, 582,
    ]);
    expect(stripes.layers[0].hits.slice(0, 3).map((h) => [h.rank, h.score])).toEqual([
      [2, 0.432708740234375],
      [2, 0.403717041015625],
      [2, 0.396942138671875],
    ]);
    const dog = index.search('dog', { layers: ['layer3', 'layer4'] });
    expect(dog.layers[0].hits.map((h) => h.unit)).toEqual([144, 120, 837, 427]);
    expect(dog.layers[1].hits.slice(0, 5).map((h) => h.unit)).toEqual([1802, 1702, 1709, 887, 302]);
    expect(dog.layers[1].count).toBe(95);
  });

  it('finds every layer4 neuron labelled "striped", best rank first with order "rank"', () => {
    const result = index.search('striped', { layers: ['layer4'], order: 'rank' });
    expect(result.order).toBe('rank');
    expect(result.match).toBe('exact');
    expect(result.labelers).toEqual(['clip-dissect']);
    expect(result.layers.map((l) => [l.layer, l.count])).toEqual([['layer4', 52]]);
    expect(result.layers[0].hits.slice(0, 3)).toEqual([
      {
        layer: 'layer4',
        unit: 853,
        labeler: 'clip-dissect',
        label: 'striped',
        rank: 1,
        score: 0.371368408203125,
      },
      {
        layer: 'layer4',
        unit: 72,
        labeler: 'clip-dissect',
        label: 'striped',
        rank: 1,
        score: 0.16387939453125,
      },
      {
        layer: 'layer4',
        unit: 779,
        labeler: 'clip-dissect',
        label: 'striped',
        rank: 2,
        score: 0.362518310546875,
      },
    ]);
    expect(result.byLabeler).toEqual([{ labeler: 'clip-dissect', count: 52 }]);
  });

  it('counts per layer across all layers, case-insensitively, with a total', () => {
    const result = index.search('  STRIPED ');
    expect(result.layers.map((l) => [l.layer, l.count])).toEqual([
      ['layer1', 59],
      ['layer2', 69],
      ['layer3', 70],
      ['layer4', 52],
    ]);
    expect(result.total).toBe(250);
    expect(index.search('striped', { order: 'rank' }).layers[2].hits[0]).toMatchObject({
      unit: 963,
      rank: 1,
      score: 0.223663330078125,
    });
  });

  it('orders hits by score by default, and by rank, then score with order "rank"', () => {
    for (const layer of index.search('zebra').layers) {
      for (let i = 1; i < layer.hits.length; i++)
        expect(layer.hits[i - 1].score).toBeGreaterThanOrEqual(layer.hits[i].score);
    }
    for (const layer of index.search('zebra', { order: 'rank' }).layers) {
      for (let i = 1; i < layer.hits.length; i++) {
        const [a, b] = [layer.hits[i - 1], layer.hits[i]];
        expect(a.rank < b.rank || (a.rank === b.rank && a.score >= b.score)).toBe(true);
      }
    }
  });

  it('limits hits per layer with top but keeps the counts', () => {
    const result = index.search('zebra', { top: 2, order: 'rank' });
    expect(result.layers.map((l) => [l.count, l.hits.length])).toEqual([
      [49, 2],
      [62, 2],
      [70, 2],
      [42, 2],
    ]);
    expect(result.layers[0].hits.map((h) => h.unit)).toEqual([147, 201]);
    expect(result.layers[3].hits[0]).toMatchObject({ unit: 1330, rank: 1, score: 0.725616455078125 });
  });

  it('returns empty groups for a concept nobody has', () => {
    const result = index.search('xylophonist');
    expect(result.total).toBe(0);
    expect(result.layers.every((l) => l.count === 0 && l.hits.length === 0)).toBe(true);
    expect(result.closest).toEqual([]);
  });

  it('offers the closest labels when an exact or stemmed search has no hit', () => {
    expect(index.search('zebar').closest).toEqual([{ label: 'zebra', occurrences: 223, distance: 1 }]);
    expect(index.search('stirped', { match: 'stem' }).closest?.[0]).toEqual({
      label: 'striped',
      occurrences: 250,
      distance: 1,
    });
    // A search with hits offers nothing.
    expect(index.search('zebra').closest).toBeUndefined();
    expect(index.search('zebar', { match: 'fuzzy' }).closest).toBeUndefined();
  });

  it('refuses an unknown order', () => {
    expect(() => index.search('zebra', { order: 'random' as 'rank' })).toThrowError(/Unknown order "random"/);
  });
});

describe('stemmed search', () => {
  it('matches stripe, stripes and striped but not strips or stripped', () => {
    const result = index.search('striped', { match: 'stem', layers: ['layer4'], order: 'rank' });
    expect(result.matchedLabels.map((m) => m.label).sort()).toEqual(['stripe', 'striped', 'stripes']);
    // Python: labels in {stripe, stripes, striped, striping}: 59 neurons in layer4.
    expect(result.layers[0].count).toBe(59);
    expect(result.layers[0].hits.slice(0, 2)).toEqual([
      {
        layer: 'layer4',
        unit: 779,
        labeler: 'clip-dissect',
        label: 'stripes',
        rank: 1,
        score: 0.383758544921875,
      },
      {
        layer: 'layer4',
        unit: 1173,
        labeler: 'clip-dissect',
        label: 'stripes',
        rank: 1,
        score: 0.371429443359375,
      },
    ]);
  });

  it('gives the same answer for any inflection of the query', () => {
    const counts = ['stripe', 'Stripes', 'striping'].map((q) => index.search(q, { match: 'stem' }).total);
    // Python: 61 + 83 + 84 + 59 neurons in layers 1-4.
    expect(counts).toEqual([287, 287, 287]);
  });
});

describe('fuzzy search', () => {
  it('forgives a transposition', () => {
    const result = index.search('stirped', { match: 'fuzzy', layers: ['layer4'], order: 'rank' });
    expect(result.matchedLabels).toEqual([{ label: 'striped', occurrences: 250, distance: 1 }]);
    expect(result.layers[0].count).toBe(52);
    expect(result.layers[0].hits[0]).toMatchObject({ unit: 853, label: 'striped', rank: 1, distance: 1 });
  });

  it('forgives a swapped ending and keeps exact matches at distance 0', () => {
    const result = index.search('zebar', { match: 'fuzzy' });
    expect(result.matchedLabels.map((m) => m.label)).toEqual(['zebra']);
    expect(result.layers[3].hits[0]).toMatchObject({ unit: 1330, label: 'zebra', score: 0.725616455078125 });
    const exact = index.search('dotted', { match: 'fuzzy' });
    expect(exact.matchedLabels[0]).toMatchObject({ label: 'dotted', distance: 0 });
  });

  it('widens with maxDistance, closest labels first', () => {
    // Python OSA distance ≤ 2 from "stirped": striped (1), stored, stripe, stripes, stripped (2).
    const result = index.search('stirped', { match: 'fuzzy', maxDistance: 2 });
    expect(result.matchedLabels.map((m) => [m.label, m.distance])).toEqual([
      ['striped', 1],
      ['stored', 2],
      ['stripe', 2],
      ['stripes', 2],
      ['stripped', 2],
    ]);
  });
});

describe('errors', () => {
  it('names the closest layer for an unknown one', () => {
    expect(() => index.search('zebra', { layers: ['layer5'] })).toThrowError(
      'Unknown layer "layer5"; use one of layer1, layer2, layer3, layer4 (closest: layer4).',
    );
  });

  it('names the labelers for an unknown one', () => {
    try {
      index.search('zebra', { labelers: ['clip-disect'] });
      expect.unreachable();
    } catch (error) {
      expect(isNeurodissectError(error, 'ND_INVALID_OPTION')).toBe(true);
      expect((error as Error).message).toBe(
        'Unknown labeler "clip-disect"; use one of clip-dissect (closest: clip-dissect).',
      );
    }
  });

  it('explains how to enable semantic search', () => {
    expect(() => index.search('zebra', { match: 'semantic' })).toThrowError(
      /needs concept embeddings; pass \{ embeddings/,
    );
  });

  it('rejects an empty query and a bad top', () => {
    expect(() => index.search('   ')).toThrowError(/query is empty/);
    expect(() => index.search('zebra', { top: 0 })).toThrowError(RangeError);
  });
});

describe('neuron lookup', () => {
  it('returns the labels and top images of layer4 unit 1802', () => {
    const neuron = index.neuron('layer4', 1802);
    // From layer4.csv, row 1802.
    expect(neuron.labels['clip-dissect'].slice(0, 3)).toEqual([
      { label: 'bloodhound', score: 0.324188232421875 },
      { label: 'retriever', score: 0.323944091796875 },
      { label: 'dog', score: 0.3106689453125 },
    ]);
    expect(neuron.labels['clip-dissect']).toHaveLength(10);
    expect(neuron.topImages).toHaveLength(20);
    expect(neuron.topImages[0].uri).toBe('data/broden1_224/images/pascal/2010_003186.jpg');
  });

  it('says which units exist', () => {
    expect(() => index.neuron('layer4', 2048)).toThrowError(
      'Layer layer4 has no unit 2048; its units are 0–2047.',
    );
  });
});

describe('one labeler at a time', () => {
  // Two labelers on different scales: "a" scores near 0.3, "iou" near 0.05.
  const results = handMadeResults();
  results.labelers.push({ id: 'iou', version: '1', options: {} });
  results.layers[0].neurons[2].labels.iou = [{ label: 'stripes', score: 0.06 }];
  results.layers[0].neurons[3].labels.iou = [{ label: 'stripes', score: 0.05 }];
  results.layers[0].neurons[0].labels.iou = [
    { label: 'zebra', score: 0.07 },
    { label: 'stripes', score: 0.01 },
  ];
  const multi = createSearchIndex(results);

  it('searches the primary labeler by default and counts the others', () => {
    const result = multi.search('stripes');
    expect(result.labelers).toEqual(['a']);
    // conv: units 0 and 5 (rank 1, 0.4), then 1 (rank 1, 0.2); fc: unit 0. "iou" has conv 0, 2, 3.
    expect(result.layers[0].hits.map((h) => [h.unit, h.labeler, h.rank])).toEqual([
      [0, 'a', 1],
      [5, 'a', 1],
      [1, 'a', 1],
    ]);
    expect(result.byLabeler).toEqual([
      { labeler: 'a', count: 4 },
      { labeler: 'iou', count: 3 },
    ]);
  });

  it('orders another labeler’s hits by its own score', () => {
    const result = multi.search('stripes', { labelers: ['iou'] });
    expect(result.layers[0].hits.map((h) => [h.unit, h.rank, h.score])).toEqual([
      [2, 1, 0.06],
      [3, 1, 0.05],
      [0, 2, 0.01],
    ]);
  });
});
