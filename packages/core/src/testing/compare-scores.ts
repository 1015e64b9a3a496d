import type { Matrix } from '../tensor';

/** What {@link compareScores} found. */
export interface ScoreComparison {
  /**
   * The largest violation of `|actual − expected| ≤ 1e-3 + 1e-4·|expected|` over all elements: at
   * most 0 when every element is within tolerance; `Infinity` when an element is NaN.
   */
  worstExcess: number;
  /** The rows (neurons) whose best column (concept) differs between the two, in order. */
  argmaxMismatches: number[];
}

/**
 * Compares K×M scores with expected ones (a reference implementation's, or {@link pmiOracle}'s) at
 * the tolerance the parity tests use: each element within `1e-3 + 1e-4·|expected|`, and the same
 * best concept for every neuron.
 *
 * @example
 * ```ts
 * const { worstExcess, argmaxMismatches } = compareScores(actual, pmiOracle('soft_wpmi', clip, activations));
 * expect(worstExcess).toBeLessThanOrEqual(0);
 * expect(argmaxMismatches).toEqual([]);
 * ```
 */
export function compareScores(actual: Matrix, expected: Matrix): ScoreComparison {
  if (actual.rows !== expected.rows || actual.cols !== expected.cols) {
    throw new RangeError(
      `compareScores: actual is ${actual.rows}×${actual.cols}, expected ${expected.rows}×${expected.cols}.`,
    );
  }
  let worstExcess = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < expected.data.length; i++) {
    const excess = Math.abs(actual.data[i] - expected.data[i]) - (1e-3 + 1e-4 * Math.abs(expected.data[i]));
    worstExcess = Math.max(worstExcess, Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess);
  }
  const argmaxMismatches: number[] = [];
  for (let k = 0; k < expected.rows; k++) {
    if (argmax(actual, k) !== argmax(expected, k)) argmaxMismatches.push(k);
  }
  return { worstExcess, argmaxMismatches };
}

function argmax(m: Matrix, row: number): number {
  let best = 0;
  for (let c = 1; c < m.cols; c++) if (m.data[row * m.cols + c] > m.data[row * m.cols + best]) best = c;
  return best;
}
