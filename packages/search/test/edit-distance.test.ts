import { describe, expect, it } from 'vitest';
import { boundedEditDistance, closestNames, defaultMaxDistance, stemLabel } from '../src/index';

describe('stemLabel', () => {
  it('gives inflections one key, word by word', () => {
    expect(['stripe', 'Stripes', 'striped', 'striping'].map(stemLabel)).toEqual([
      'stripe',
      'stripe',
      'stripe',
      'stripe',
    ]);
    expect(stemLabel('Striped_Shirts')).toBe('stripe shirt');
  });
});

describe('the typo allowance of fuzzy search', () => {
  it('allows more typos in longer queries', () => {
    expect([3, 4, 7, 8].map(defaultMaxDistance)).toEqual([0, 1, 1, 2]);
  });

  it('uses the edit distance and closest names of core, re-exported', () => {
    expect(boundedEditDistance('striped', 'stirped', 5)).toBe(1);
    expect(closestNames('layr4', ['layer1', 'layer4'], 1)).toEqual(['layer4']);
  });
});
