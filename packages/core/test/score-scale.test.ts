import { describe, expect, it } from 'vitest';
import { scoreQuantiles, scoreScaleOf } from '../src/index';

describe('score scales', () => {
  it('gives soft-WPMI the report’s thresholds and no other similarity function any', () => {
    expect(scoreScaleOf({ id: 'clip-dissect', options: { similarity: 'soft_wpmi' } }).thresholds).toEqual([
      0.3, 0.2, 0.1,
    ]);
    // An import of descriptions.csv records no similarity: CLIP-Dissect's default, soft-WPMI.
    expect(scoreScaleOf({ id: 'clip-dissect', options: {} }).thresholds).toEqual([0.3, 0.2, 0.1]);
    for (const similarity of ['wpmi', 'cos', 'cos_cubed', 'rank_reorder']) {
      const scale = scoreScaleOf({ id: 'clip-dissect', options: { similarity } });
      expect(scale.thresholds, similarity).toBeUndefined();
      expect(scale.source).toBeUndefined();
    }
    expect(scoreScaleOf({ id: 'clip-avg', options: {} }).thresholds).toBeUndefined();
    expect(scoreScaleOf({ id: 'my-labeler', options: {} })).toEqual({ name: 'my-labeler score' });
  });

  it('gives NetDissect its detector threshold, as the run recorded it', () => {
    expect(scoreScaleOf({ id: 'netdissect', options: {} })).toMatchObject({
      name: 'IoU',
      thresholds: [0.04],
      levels: ['detector'],
    });
    expect(scoreScaleOf({ id: 'netdissect', options: { threshold: 0.05 } }).thresholds).toEqual([0.05]);
  });

  it('takes percentiles as NumPy does (linear interpolation)', () => {
    // numpy.percentile([3, 1, 4, 1, 5, 9, 2, 6], [10, 25, 50, 75, 90]) = 1, 1.75, 3.5, 5.25, 6.9
    const q = scoreQuantiles([3, 1, 4, 1, 5, 9, 2, 6])!;
    expect([q.p10, q.p25, q.p50, q.p75, q.p90].map((v) => Number(v.toFixed(9)))).toEqual([
      1, 1.75, 3.5, 5.25, 6.9,
    ]);
    expect(scoreQuantiles([])).toBeNull();
    expect(scoreQuantiles([2])).toEqual({ p10: 2, p25: 2, p50: 2, p75: 2, p90: 2 });
  });
});
