import { describe, expect, it } from 'vitest';
import { createRandom, matrixFromRows, randomPermutation, rankReorder } from '../src/index';

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

  it('matches a hand computation, every element', () => {
    // Four images, two neurons, two concepts; p = 3, scaleP = 0.5 (the defaults), topFraction 0.75
    // (n = floor(0.75·4) = 3 top images per neuron), two baseline permutations drawn with seed 0.
    //
    //            neuron 0  neuron 1   concept 0  concept 1
    //   image 0      3         0         0.10       0.12
    //   image 1      2         1         0.40       0.30
    //   image 2      1         2         0.25       0.06
    //   image 3      0         4         0.43       0.12
    //
    // Neuron 0: top images 0, 1, 2 with a = [3, 2, 1]. Neuron 1: top images 3, 2, 1 with a = [4, 2, 1].
    //
    // Baseline: the permutations are [2, 0, 1] and [1, 2, 0] (checked below). Each is a 3-cycle, so
    // the mean over j of |a_j − a_perm(j)|³ is (|a0−a1|³ + |a1−a2|³ + |a0−a2|³) / 3 for both:
    //   neuron 0: (1 + 1 + 8) / 3 = 10/3;   neuron 1: (8 + 1 + 27) / 3 = 12.
    //
    // Per concept, rank the top images by P (descending); the image at rank r receives a_r, and the
    // error is the mean of |own − received|³; score = −(error / baseline) / avg^0.5, avg = mean of P.
    //
    // Neuron 0, concept 0: P = [0.10, 0.40, 0.25] → ranks: image 1, image 2, image 0.
    //   image 1 (a=2) receives 3, image 2 (a=1) receives 2, image 0 (a=3) receives 1:
    //   errors 1, 1, 8 → mean 10/3; / (10/3) = 1. avg = 0.75/3 = 0.25, √ = 0.5 → score −2.
    // Neuron 0, concept 1: P = [0.12, 0.30, 0.06] → ranks: image 1, image 0, image 2.
    //   image 1 (2) receives 3, image 0 (3) receives 2, image 2 keeps 1: errors 1, 1, 0 → mean 2/3;
    //   / (10/3) = 0.2. avg = 0.48/3 = 0.16, √ = 0.4 → score −0.5.
    // Neuron 1, concept 0: P on images 3, 2, 1 = [0.43, 0.25, 0.40] → ranks: image 3, image 1, image 2.
    //   image 3 keeps 4, image 1 (1) receives 2, image 2 (2) receives 1: errors 0, 1, 1 → mean 2/3;
    //   / 12 = 1/18. avg = 1.08/3 = 0.36, √ = 0.6 → score −(1/18)/0.6 = −5/54 ≈ −0.0926.
    // Neuron 1, concept 1: P on images 3, 2, 1 = [0.12, 0.06, 0.30] → ranks: image 1, image 3, image 2.
    //   image 1 (1) receives 4, image 3 (4) receives 2, image 2 (2) receives 1: errors 27, 8, 1 →
    //   mean 12; / 12 = 1. avg = 0.48/3 = 0.16, √ = 0.4 → score −2.5.
    const random = createRandom(0);
    expect([Array.from(randomPermutation(3, random)), Array.from(randomPermutation(3, random))]).toEqual([
      [2, 0, 1],
      [1, 2, 0],
    ]);
    const sim = rankReorder(
      matrixFromRows([
        [0.1, 0.12],
        [0.4, 0.3],
        [0.25, 0.06],
        [0.43, 0.12],
      ]),
      matrixFromRows([
        [3, 0],
        [2, 1],
        [1, 2],
        [0, 4],
      ]),
      { topFraction: 0.75, seed: 0, baselinePermutations: 2 },
    );
    expect([sim.rows, sim.cols]).toEqual([2, 2]);
    const expected = [-2, -0.5, -5 / 54, -2.5];
    expected.forEach((value, i) => {
      expect(sim.data[i]).toBeCloseTo(value, 5);
    });
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
