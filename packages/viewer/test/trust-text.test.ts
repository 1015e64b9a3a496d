import { describe, expect, it } from 'vitest';
import {
  formatProbability,
  hasLabelTrust,
  hasSignificance,
  heldOutText,
  layerHeldOutText,
  layerSignificanceText,
  significanceText,
  significanceVerdict,
  stabilityText,
} from '../src/app/trust-text';

// Expected sentences are written out by hand from the figures given (docs/trust.md's definitions:
// p = (1 + #{null ≥ s}) / (1 + R); top1 and top5 as shares of the resamples).

describe('the trust figures in words', () => {
  it('counts the random image sets a best label beats, from p and the layer’s R', () => {
    // 1 pseudo-neuron of 1,000 scored at least as high: p = 2/1001.
    expect(significanceText({ p: 2 / 1001, q: 0.01 }, 1000)).toBe(
      'better than 999 of 1,000 random image sets (p = 0.002, q = 0.01)',
    );
    // None did: the smallest p, 1/1001.
    expect(significanceText({ p: 1 / 1001, q: 0.0042 }, 1000)).toBe(
      'better than 1,000 of 1,000 random image sets (p = 0.001, q = 0.0042)',
    );
    // Every one did: p = 1.
    expect(significanceText({ p: 1, q: 1 }, 1000)).toBe(
      'better than 0 of 1,000 random image sets (p = 1, q = 1)',
    );
    // 37 of 200 did: p = 38/201.
    expect(significanceText({ p: 38 / 201, q: 0.45 }, 200)).toBe(
      'better than 163 of 200 random image sets (p = 0.19, q = 0.45)',
    );
  });

  it('gives p and q alone when the layer’s null is not known', () => {
    expect(significanceText({ p: 0.0123, q: 0.0456 })).toBe('p = 0.012, q = 0.046');
  });

  it('calls a label significant when q < 0.05, strictly', () => {
    expect(significanceVerdict({ p: 0.001, q: 0.049 })).toBe('significant (q < 0.05)');
    expect(significanceVerdict({ p: 0.01, q: 0.05 })).toBe('not significant (q ≥ 0.05)');
  });

  it('counts resamples from the shares', () => {
    expect(stabilityText({ top1: 0.9, top5: 1, resamples: 20 })).toBe(
      'same best label in 18 of 20 resamples; in the top 5 in 20',
    );
    expect(stabilityText({ top1: 0.3, top5: 0.7, resamples: 10 })).toBe(
      'same best label in 3 of 10 resamples; in the top 5 in 7',
    );
  });

  it('puts the held-out correlation beside the random-label baseline', () => {
    expect(heldOutText({ correlation: 0.4149 }, 0.0471)).toBe(
      'held-out correlation 0.41 (random labels: 0.05)',
    );
    expect(heldOutText({ correlation: -0.126 })).toBe('held-out correlation -0.13');
    expect(heldOutText({ correlation: 0.3, maskCorrelation: 0.518, auprc: 0.6149 }, 0.01)).toBe(
      'held-out correlation 0.30 (random labels: 0.01); against the annotations: correlation 0.52, average precision 0.61',
    );
    expect(heldOutText({ correlation: 0.3, auprc: 0.5 })).toBe(
      'held-out correlation 0.30; against the annotations: average precision 0.50',
    );
  });

  it('counts a layer’s significant neurons and its held-out mean', () => {
    expect(layerSignificanceText({ significant: 12, tested: 64 })).toBe('12 of 64 significant (q < 0.05)');
    expect(layerSignificanceText({ significant: 1500, tested: 2048 })).toBe(
      '1,500 of 2,048 significant (q < 0.05)',
    );
    expect(layerSignificanceText({ significant: 3 })).toBe('3 significant (q < 0.05)');
    expect(layerSignificanceText({})).toBeUndefined();
    expect(layerSignificanceText(undefined)).toBeUndefined();
    expect(
      layerHeldOutText({ heldOut: { correlation: 0.413, baseline: 0.052, folds: 2, neurons: 64 } }),
    ).toBe('mean held-out correlation 0.41 (random labels: 0.05)');
    expect(layerHeldOutText({ significant: 1 })).toBeUndefined();
  });

  it('formats probabilities to two significant digits', () => {
    expect([0.001998, 0.01, 0.35, 0.123456, 1, 0.0000123].map(formatProbability)).toEqual([
      '0.002',
      '0.01',
      '0.35',
      '0.12',
      '1',
      '0.000012',
    ]);
  });

  it('knows when there is nothing to show', () => {
    expect(hasLabelTrust(undefined)).toBe(false);
    expect(hasLabelTrust({})).toBe(false);
    expect(hasLabelTrust({ heldOut: { correlation: 0.1 } })).toBe(true);
    const layer = (trust?: Record<string, { significant?: number }>) => ({
      name: 'l',
      units: 1,
      neurons: 1,
      key: 'layer-0',
      unitList: [0],
      summaries: {},
      ...(trust === undefined ? {} : { trust }),
    });
    expect(hasSignificance([layer(), layer({ a: {} })])).toBe(false);
    expect(hasSignificance([layer(), layer({ a: { significant: 0 } })])).toBe(true);
    expect(hasSignificance([layer({ a: { significant: 0 } })], 'b')).toBe(false);
  });
});
