import { describe, expect, it } from 'vitest';
import { matrixFromRows, rankReorder } from '../src/index';

// Four images, one neuron with activations 4 > 3 > 2 > 1 (all four are its top images with
// topFraction 1). Concept 0 orders the images exactly as the neuron does; concept 1 reverses them.
const activations = matrixFromRows([[4], [3], [2], [1]]);
const clip = matrixFromRows([
  [0.4, 0.1],
  [0.3, 0.2],
  [0.2, 0.3],
  [0.1, 0.4],
]);

describe('rankReorder', () => {
  it('scores a concept that orders the top images like the neuron at 0 (no error)', () => {
    const sim = rankReorder(clip, activations, { topFraction: 1 });
    expect(sim.data[0]).toBeCloseTo(0, 12);
  });

  it('matches a hand computation for the reversed concept', () => {
    // Reversed: image i receives a[3-i]; errors |a_i − a_{3−i}|³ = 27, 1, 1, 27 → mean 14.
    const sim = rankReorder(clip, activations, { topFraction: 1, p: 1 });
    // With p = 1: reversed errors |4−1|,|3−2|,|2−3|,|1−4| → mean 2; baseline > 0; avg = 0.25 → /0.5.
    const baselineTimesAvg = -2 / sim.data[1];
    expect(baselineTimesAvg).toBeGreaterThan(0);
    // A concept with one swapped pair (images 2 and 3): errors 0,0,1,1 → mean 0.5, a quarter of 2.
    const swapped = matrixFromRows([
      [0.4, 0.4],
      [0.3, 0.3],
      [0.2, 0.1],
      [0.1, 0.2],
    ]);
    const s2 = rankReorder(swapped, activations, { topFraction: 1, p: 1 });
    expect(s2.data[0]).toBeCloseTo(0, 12);
    expect(s2.data[1] / sim.data[1]).toBeCloseTo(0.25, 10);
  });

  it('is deterministic for a seed', () => {
    const a = rankReorder(clip, activations, { topFraction: 1, seed: 3 });
    const b = rankReorder(clip, activations, { topFraction: 1, seed: 3 });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it('needs at least two top images', () => {
    expect(() => rankReorder(clip, activations, { topFraction: 0.25 })).toThrow(/at least 2 top images/);
  });
});
