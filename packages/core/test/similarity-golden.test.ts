import { describe, expect, it } from 'vitest';
import { GOLDEN_CASES, loadGolden } from '../../../scripts/test-setup/golden';
import {
  cosSimilarity,
  cosSimilarityCubed,
  scoreNeurons,
  similarityFromMatrix,
  softWpmi,
  wpmi,
} from '../src/index';
import { compareScores } from '../src/testing/compare-scores';
import { pmiOracle } from '../src/testing/pmi-oracle';

describe.each(GOLDEN_CASES)('parity with the reference on golden %s', (name) => {
  const golden = loadGolden(name);
  const cases = [
    ['soft_wpmi', () => softWpmi(golden.clip, golden.activations)],
    [
      'soft_wpmi_k20_a5_lam05',
      () => softWpmi(golden.clip, golden.activations, { topK: 20, a: 5, lambda: 0.5 }),
    ],
    ['wpmi', () => wpmi(golden.clip, golden.activations)],
    ['cos_similarity', () => cosSimilarity(golden.clip, golden.activations)],
    ['cos_similarity_cubed', () => cosSimilarityCubed(golden.clip, golden.activations)],
  ] as const;

  it.each(cases)('%s is within 1e-3 + 1e-4·|x| with the same argmax per neuron', (key, compute) => {
    const actual = compute();
    const expected = golden.outputs[key];
    expect([actual.rows, actual.cols]).toEqual([expected.rows, expected.cols]);
    const { worstExcess, argmaxMismatches } = compareScores(actual, expected);
    expect(worstExcess).toBeLessThanOrEqual(0);
    expect(argmaxMismatches).toEqual([]);
  });

  it.each([
    ['soft_wpmi', 'soft_wpmi', undefined],
    ['soft_wpmi_k20_a5_lam05', 'soft_wpmi', { topK: 20, a: 5, lambda: 0.5 }],
    ['wpmi', 'wpmi', undefined],
  ] as const)('the tests’ float64 oracle reproduces the reference’s %s', (key, fn, options) => {
    const { worstExcess, argmaxMismatches } = compareScores(
      pmiOracle(fn, golden.clip, golden.activations, options),
      golden.outputs[key],
    );
    expect(worstExcess).toBeLessThanOrEqual(0);
    expect(argmaxMismatches).toEqual([]);
  });

  it('streams in small blocks with the same result as the one-shot form', async () => {
    const streamed = await scoreNeurons('soft_wpmi', similarityFromMatrix(golden.clip), golden.activations, {
      blockSize: 7,
    });
    const { worstExcess } = compareScores(streamed, golden.outputs.soft_wpmi);
    expect(worstExcess).toBeLessThanOrEqual(0);
  });
});
