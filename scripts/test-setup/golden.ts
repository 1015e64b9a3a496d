import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type Matrix, matrixFromRows } from '../../packages/core/src/index';
import { fixturePath } from './fixtures';

/**
 * One golden case of the reference implementation: inputs and CLIP-Dissect's `similarity.py`
 * outputs on them (packages/core/test/fixtures/golden, see SOURCE.md there).
 */
export interface GoldenCase {
  name: string;
  seed: number;
  clip: Matrix;
  activations: Matrix;
  outputs: Record<string, Matrix>;
}

export const GOLDEN_CASES = ['case-3', 'case-11'] as const;

/** Reads a golden case; compare scores against its outputs with `compareScores` (core/testing). */
export function loadGolden(name: (typeof GOLDEN_CASES)[number]): GoldenCase {
  const raw = JSON.parse(
    gunzipSync(readFileSync(fixturePath('core', 'golden', `${name}.json.gz`))).toString('utf8'),
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
