import { describe, expect, it } from 'vitest';
import { createSearchIndex, isSignificant, SIGNIFICANCE_LEVEL } from '../src/index';
import { trustedResults } from './trusted-results';

// The expected units come from reading trusted-results.ts by hand: which neurons carry "stripes"
// and which of them have q < 0.05 for the labeler searched.

describe('search keeps only significant neurons', () => {
  const index = createSearchIndex(trustedResults());

  it('keeps the neurons whose best label has q < 0.05 for the searched labeler', () => {
    const all = index.search('stripes');
    // Best rank first: unit 3 carries "stripes" at rank 2, so it comes last.
    expect(all.layers[0].hits.map((h) => h.unit)).toEqual([0, 1, 2, 4, 3]);
    const kept = index.search('stripes', { significant: true });
    expect(kept.layers.map((l) => [l.layer, l.count])).toEqual([
      ['conv', 2],
      ['fc', 0],
    ]);
    // Unit 3 matches at rank 2: its best label ("zebra") is the one tested, and it is significant.
    expect(kept.layers[0].hits.map((h) => [h.unit, h.rank])).toEqual([
      [0, 1],
      [3, 2],
    ]);
    expect(kept.total).toBe(2);
  });

  it('carries each hit’s significance when the Results have it', () => {
    const hits = index.search('stripes').layers[0].hits;
    expect(hits.map((h) => h.significance)).toEqual([
      { p: 0.001998001998001998, q: 0.01 },
      { p: 0.04, q: 0.05 },
      { p: 0.3, q: 0.6 },
      undefined,
      { p: 0.002997002997002997, q: 0.02 },
    ]);
  });

  it('tests each labeler against its own figures, in byLabeler too', () => {
    const kept = index.search('stripes', { significant: true, labelers: ['b'] });
    expect(kept.layers[0].hits.map((h) => h.unit)).toEqual([2]);
    expect(kept.byLabeler).toEqual([
      { labeler: 'a', count: 2 },
      { labeler: 'b', count: 1 },
    ]);
  });

  it('keeps nothing when the labeler has no significance figures', () => {
    const index = createSearchIndex(trustedResults());
    expect(index.search('dog').total).toBe(1);
    expect(index.search('dog', { significant: true }).total).toBe(0);
  });

  it('answers as before when significant is false', () => {
    expect(index.search('stripes', { significant: false })).toEqual(index.search('stripes'));
  });
});

describe('isSignificant', () => {
  const conv = trustedResults().layers[0];

  it('is q < 0.05, strictly', () => {
    expect(SIGNIFICANCE_LEVEL).toBe(0.05);
    expect(conv.neurons.map((n) => isSignificant(n, 'a'))).toEqual([true, false, false, true, false]);
    expect(conv.neurons.map((n) => isSignificant(n, 'b'))).toEqual([false, false, true, false, false]);
  });

  it('is false for a labeler the neuron has no figures for', () => {
    expect(isSignificant(conv.neurons[0], 'netdissect')).toBe(false);
  });
});
