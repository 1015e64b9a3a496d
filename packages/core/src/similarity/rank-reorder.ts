import { createRandom, randomPermutation } from '../math/random';
import { topKPerColumn } from '../math/top-k';
import { createMatrix, type Matrix } from '../tensor';
import type { ScoreAccumulator } from './accumulator';
import type { RankReorderOptions } from './options';

/** avg_m is clipped below at this value before `avg^scaleP`, so negative means cannot give NaN. */
const MIN_AVERAGE = 1e-6;

/**
 * Rank-reorder (docs/similarity-functions.md): per neuron, its top `n = floor(topFraction·N)` images with
 * activations `a` (descending). For concept m, image i receives the activation whose rank equals
 * the rank of `P[i,m]` among those images; the mean `|a_i − a_{rank_m(i)}|^p`, divided by a
 * baseline (the same error under random permutations, seeded), scaled by `avg_m^scaleP`, negated.
 * Ties in `P` are ranked by the lower position first.
 */
export function createRankReorderAccumulator(
  activations: Matrix,
  concepts: number,
  options: Required<RankReorderOptions>,
): ScoreAccumulator {
  const { p, scaleP, seed, baselinePermutations } = options;
  const n = Math.floor(options.topFraction * activations.rows);
  if (n < 2) {
    throw new RangeError(
      `rank_reorder needs at least 2 top images per neuron; topFraction ${options.topFraction} of ${activations.rows} images gives ${n}.`,
    );
  }
  const neurons = activations.cols;
  const top = topKPerColumn(activations, n);
  const rowOf = new Map<number, Float32Array>();
  const neededSet = new Set<number>();
  for (const image of top.indices) neededSet.add(image);
  const needed = Int32Array.from([...neededSet].sort((x, y) => x - y));
  const random = createRandom(seed);
  const permutations = Array.from({ length: baselinePermutations }, () => randomPermutation(n, random));

  return {
    needed,
    add(images, rows) {
      images.forEach((image, r) => {
        rowOf.set(image, rows.data.slice(r * concepts, (r + 1) * concepts));
      });
    },
    finish() {
      const out = createMatrix(neurons, concepts);
      const a = new Float64Array(n);
      const column = new Float64Array(n);
      const order = new Int32Array(n);
      for (let k = 0; k < neurons; k++) {
        const topRows: Float32Array[] = [];
        for (let j = 0; j < n; j++) {
          a[j] = top.values[k * n + j];
          topRows.push(rowOf.get(top.indices[k * n + j])!);
        }
        let baseline = 0;
        for (const perm of permutations) {
          let e = 0;
          for (let j = 0; j < n; j++) e += Math.abs(a[j] - a[perm[j]]) ** p;
          baseline += e / n / permutations.length;
        }
        for (let m = 0; m < concepts; m++) {
          let sum = 0;
          for (let j = 0; j < n; j++) {
            column[j] = topRows[j][m];
            sum += column[j];
            order[j] = j;
          }
          order.sort((x, y) => column[y] - column[x] || x - y);
          // order[r] is the image holding rank r; it receives activation a[r].
          let err = 0;
          for (let r = 0; r < n; r++) err += Math.abs(a[order[r]] - a[r]) ** p;
          err = err / n / (baseline > 0 ? baseline : 1);
          const avg = Math.max(sum / n, MIN_AVERAGE);
          out.data[k * concepts + m] = -err / avg ** scaleP;
        }
      }
      return out;
    },
  };
}
