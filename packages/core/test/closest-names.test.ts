import { describe, expect, it } from 'vitest';
import { boundedEditDistance, closestNames } from '../src/index';

describe('boundedEditDistance (optimal string alignment)', () => {
  it('counts insertions, deletions, substitutions and adjacent transpositions', () => {
    expect(boundedEditDistance('kitten', 'sitting', 5)).toBe(3);
    expect(boundedEditDistance('striped', 'stirped', 5)).toBe(1);
    expect(boundedEditDistance('zebra', 'zebar', 5)).toBe(1);
    expect(boundedEditDistance('abc', '', 5)).toBe(3);
    expect(boundedEditDistance('same', 'same', 0)).toBe(0);
    // OSA edits each substring once: "ca" → "abc" is 3 (unrestricted Damerau-Levenshtein says 2).
    expect(boundedEditDistance('ca', 'abc', 5)).toBe(3);
  });

  it('stops at max, returning max + 1', () => {
    expect(boundedEditDistance('kitten', 'sitting', 2)).toBe(3);
    expect(boundedEditDistance('a', 'abcdef', 1)).toBe(2);
    expect(() => boundedEditDistance('a', 'b', -1)).toThrowError(RangeError);
  });
});

describe('closestNames', () => {
  it('puts the nearest names first', () => {
    expect(closestNames('layr4', ['layer1', 'layer2', 'layer3', 'layer4'], 2)).toEqual(['layer4', 'layer1']);
    expect(closestNames('fc', ['features.10', 'fc', 'layer4'], 1)).toEqual(['fc']);
    // All at distance 1: the nearest digit wins.
    expect(closestNames('layer5', ['layer1', 'layer2', 'layer3', 'layer4'], 1)).toEqual(['layer4']);
  });
});
