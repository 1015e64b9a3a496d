import { parseResults } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { createSearchIndex } from '../src/index';
import { handMadeResults } from './hand-made-results';

// Worked out by hand from hand-made-results.ts with the documented formula:
// similarity = (0.5 · weightedJaccard(labels) + 0.5 · jaccard(topImages)) / (0.5 + 0.5), with the
// image term left out when either neuron has no top images.
//   conv/0 vs conv/5: labels identical → 1; conv/5 has no images → similarity 1.
//   conv/0 vs conv/1: labels min(.4,.2)+min(.2,.2) = .4 over max .4+.2 = .6 → 2/3;
//                     images {0,1,2} vs {0,1,3}: 2 shared of 4 → 1/2; similarity 7/12.
//   conv/0 vs conv/2: no shared label → 0; images {0,1,2} vs {2,4}: 1 of 4 → 1/4; similarity 1/8.
//   conv/0 vs conv/3: shares nothing, so it is not returned.
//   conv/0 vs fc/0:   same labels ("Stripes" normalises to "stripes") and images → 1.

const index = createSearchIndex(parseResults(handMadeResults()));

describe('similar neurons', () => {
  it('ranks the neurons of the same layer by the documented formula', () => {
    const similar = index.similarNeurons('conv', 0);
    expect(similar.map((s) => [s.layer, s.unit])).toEqual([
      ['conv', 5],
      ['conv', 1],
      ['conv', 2],
    ]);
    expect(similar[0]).toEqual({
      layer: 'conv',
      unit: 5,
      similarity: 1,
      labelSimilarity: 1,
      imageOverlap: 0,
      sharedLabels: ['stripes', 'zebra'],
      sharedImages: 0,
    });
    expect(similar[1].labelSimilarity).toBeCloseTo(2 / 3, 12);
    expect(similar[1].imageOverlap).toBe(0.5);
    expect(similar[1].similarity).toBeCloseTo(7 / 12, 12);
    expect(similar[1].sharedImages).toBe(2);
    expect(similar[2]).toMatchObject({
      unit: 2,
      labelSimilarity: 0,
      imageOverlap: 0.25,
      similarity: 0.125,
      sharedLabels: [],
    });
  });

  it('looks in other layers when asked, and limits', () => {
    const similar = index.similarNeurons('conv', 0, { layers: ['conv', 'fc'], limit: 2 });
    // fc/0 and conv/5 both score 1; ties go in layer order.
    expect(similar.map((s) => [s.layer, s.unit, s.similarity])).toEqual([
      ['conv', 5, 1],
      ['fc', 0, 1],
    ]);
  });

  it('weighs labels only when imageWeight is 0, dropping neurons that then score 0', () => {
    const similar = index.similarNeurons('conv', 0, { imageWeight: 0 });
    expect(similar.map((s) => s.unit)).toEqual([5, 1]);
    expect(similar[1].similarity).toBeCloseTo(2 / 3, 12);
  });

  it('rejects bad options and unknown neurons', () => {
    expect(() => index.similarNeurons('conv', 0, { limit: 0 })).toThrowError(RangeError);
    expect(() => index.similarNeurons('conv', 0, { labelWeight: 0, imageWeight: 0 })).toThrowError(
      RangeError,
    );
    expect(() => index.similarNeurons('conv', 4)).toThrowError(
      'Layer conv has no unit 4; its units are 0–3, 5.',
    );
  });
});

describe('layer summary', () => {
  // conv's top-label scores: .4, .2, .5, .3, .4 (units 0, 1, 2, 3, 5).
  it('counts interpretable neurons only at thresholds of their own scale, else gives quantiles', () => {
    // Labeler "a" publishes no thresholds: no neuron is called interpretable by another scale's.
    const summary = index.layerSummary('conv');
    expect(summary).toMatchObject({ layer: 'conv', units: 6, neurons: 5, labeler: 'a', labelled: 5 });
    expect(summary.scale).toEqual({ name: 'a score' });
    expect(summary.interpretable).toEqual([]);
    // Sorted .2 .3 .4 .4 .5, interpolated as NumPy's percentile does.
    const q = summary.quantiles!;
    expect([q.p10, q.p25, q.p50, q.p75, q.p90].map((v) => Number(v.toFixed(6)))).toEqual([
      0.24, 0.3, 0.4, 0.4, 0.46,
    ]);
    expect(index.layerSummary('conv', { thresholds: [0.3, 0.2, 0.1] }).interpretable).toEqual([
      { threshold: 0.3, count: 4, fraction: 0.8 },
      { threshold: 0.2, count: 5, fraction: 1 },
      { threshold: 0.1, count: 5, fraction: 1 },
    ]);
    expect(index.layerSummary('conv', { thresholds: [0.45] }).interpretable).toEqual([
      { threshold: 0.45, count: 1, fraction: 0.2 },
    ]);
  });

  it('bins the top-label scores between their smallest and largest', () => {
    // 4 bins over [.2, .5], width .075: .2 → 0, .3 → 1, .4 and .4 → 2, .5 → 3 (last bin closed).
    const { histogram } = index.layerSummary('conv', { bins: 4 });
    expect(histogram.counts).toEqual([1, 1, 2, 1]);
    expect(histogram.edges[0]).toBe(0.2);
    expect(histogram.edges[4]).toBe(0.5);
    expect(index.layerSummary('conv', { bins: 2, range: [0, 1] }).histogram).toEqual({
      edges: [0, 0.5, 1],
      counts: [4, 1],
    });
  });

  it('counts label frequencies among the top labels', () => {
    expect(index.layerSummary('conv').labelFrequencies).toEqual([
      { label: 'stripes', count: 3 },
      { label: 'cat', count: 1 },
      { label: 'dog', count: 1 },
    ]);
    expect(index.layerSummary('conv', { ranks: 2, topLabels: 2 }).labelFrequencies).toEqual([
      { label: 'stripes', count: 3 },
      { label: 'zebra', count: 3 },
    ]);
  });

  it('names the labelers for an unknown one', () => {
    expect(() => index.layerSummary('conv', { labeler: 'b' })).toThrowError(
      'Unknown labeler "b"; use one of a (closest: a).',
    );
  });
});
