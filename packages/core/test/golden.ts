import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type Matrix, matrixFromRows } from '../src/index';

/** One golden case of the reference implementation (see fixtures/golden/SOURCE.md). */
export interface GoldenCase {
  name: string;
  seed: number;
  clip: Matrix;
  activations: Matrix;
  outputs: Record<string, Matrix>;
}

export const GOLDEN_CASES = ['case-3', 'case-11'] as const;

export function loadGolden(name: (typeof GOLDEN_CASES)[number]): GoldenCase {
  const raw = JSON.parse(
    gunzipSync(readFileSync(new URL(`./fixtures/golden/${name}.json.gz`, import.meta.url))).toString('utf8'),
  ) as Record<string, number[][] | number>;
  const outputs: Record<string, Matrix> = {};
  for (const key of [
    'soft_wpmi',
    'soft_wpmi_k20_a5_lam05',
    'wpmi',
    'cos_similarity',
    'cos_similarity_cubed',
  ]) {
    outputs[key] = matrixFromRows(raw[key] as number[][]);
  }
  return {
    name,
    seed: raw.seed as number,
    clip: matrixFromRows(raw.clipFeats as number[][]),
    activations: matrixFromRows(raw.targetFeats as number[][]),
    outputs,
  };
}

/** Largest violation of |a − b| ≤ 1e-3 + 1e-4·|b| (≤ 0 means within tolerance), and argmax agreement. */
export function compareScores(
  actual: Matrix,
  expected: Matrix,
): { worstExcess: number; argmaxMismatches: number[] } {
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
