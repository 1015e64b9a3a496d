import { createRandom } from '../math/random';
import type { ColumnTopK } from '../math/top-k';
import { createMatrix, type Matrix } from '../tensor';

/** Options of {@link createPermutationNull}. */
export interface PermutationNullOptions {
  /** Pseudo-neurons R. @defaultValue 1000 */
  permutations?: number;
  /** Seeds the orderings. @defaultValue 0 */
  seed?: number;
}

/**
 * The permutation null of a layer: R pseudo-neurons, each a random ordering of the probe images
 * (seeded). Under the null hypothesis a neuron's activations carry no information about the
 * images, so its summaries are exchangeable across images: a pseudo-neuron is what such a neuron
 * looks like to a labeler.
 */
export interface PermutationNull {
  readonly permutations: number;
  readonly seed: number;
  /** N, the images ordered. */
  readonly images: number;
  /**
   * The first `count` images of pseudo-neuron `r`'s ordering (all N by default): the same images
   * in the same order on every call and platform.
   */
  ordering(r: number, count?: number): Int32Array;
}

/** Mixes the null's seed with a pseudo-neuron's index into the seed of its own stream. */
function streamSeed(seed: number, r: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(r + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d);
  return (z ^ (z >>> 12)) >>> 0;
}

/** Creates the permutation null of `images` probe images (see {@link PermutationNull}). */
export function createPermutationNull(images: number, options: PermutationNullOptions = {}): PermutationNull {
  const permutations = options.permutations ?? 1000;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(images) || images < 1) throw new RangeError(`images must be ≥ 1, got ${images}.`);
  if (!Number.isInteger(permutations) || permutations < 1)
    throw new RangeError(`The null needs at least one permutation, got ${permutations}.`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1)
    throw new RangeError(`seed must be an integer in [0, 2^32 − 1], got ${seed}.`);
  // One scratch permutation, restored after each partial shuffle: O(count) per ordering.
  const scratch = Int32Array.from({ length: images }, (_, i) => i);
  return {
    permutations,
    seed,
    images,
    ordering(r, count = images) {
      if (!Number.isInteger(r) || r < 0 || r >= permutations)
        throw new RangeError(`Pseudo-neuron ${r} is outside 0..${permutations - 1}.`);
      const n = Math.min(Math.max(0, count), images);
      const random = createRandom(streamSeed(seed, r));
      const swaps = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const j = i + Math.floor(random() * (images - i));
        swaps[i] = j;
        const t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
      }
      const out = scratch.slice(0, n);
      for (let i = n - 1; i >= 0; i--) {
        const j = swaps[i];
        const t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
      }
      return out;
    },
  };
}

/** The null's pseudo-neurons as top-k image lists (the first k images of each ordering), for top-k scoring. */
export function nullTopK(nullSet: PermutationNull, k: number): ColumnTopK {
  const R = nullSet.permutations;
  const indices = new Int32Array(R * k);
  for (let r = 0; r < R; r++) indices.set(nullSet.ordering(r, k), r * k);
  // Values only order the list, which the orderings already do.
  const values = new Float32Array(R * k);
  for (let r = 0; r < R; r++) for (let j = 0; j < k; j++) values[r * k + j] = k - j;
  return { k, columns: R, indices, values };
}

/**
 * Pseudo-neurons `from .. to` as summaries (N × (to − from)): pseudo-neuron r takes the summaries
 * of the layer's neuron `r mod K`, permuted by its ordering, so the null sees the layer's own
 * distributions of values.
 */
export function pseudoActivations(
  nullSet: PermutationNull,
  activations: Matrix,
  from: number,
  to: number,
): Matrix {
  const N = activations.rows;
  const K = activations.cols;
  if (N !== nullSet.images)
    throw new RangeError(`The null orders ${nullSet.images} images; the activations cover ${N}.`);
  const C = to - from;
  const out = createMatrix(N, C);
  for (let c = 0; c < C; c++) {
    const r = from + c;
    const source = r % K;
    const order = nullSet.ordering(r);
    for (let i = 0; i < N; i++) out.data[i * C + c] = activations.data[order[i] * K + source];
  }
  return out;
}

/**
 * Empirical p-values of best scores against the null's best scores:
 * `p = (1 + #{null ≥ s}) / (1 + R)`. A non-finite score gets p = 1.
 */
export function permutationPValues(best: ArrayLike<number>, nullBest: ArrayLike<number>): Float64Array {
  const sorted = Float64Array.from(nullBest).sort();
  const R = sorted.length;
  const out = new Float64Array(best.length);
  for (let k = 0; k < best.length; k++) {
    const s = best[k];
    if (!Number.isFinite(s)) {
      out[k] = 1;
      continue;
    }
    // First position whose null value is ≥ s.
    let lo = 0;
    let hi = R;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < s) lo = mid + 1;
      else hi = mid;
    }
    out[k] = (1 + (R - lo)) / (1 + R);
  }
  return out;
}

/**
 * Benjamini–Hochberg q-values: with `p_(1) ≤ … ≤ p_(K)`, `q_(i) = min_{j ≥ i} K·p_(j)/j`, capped at 1.
 * Returned in the order of `p`.
 */
export function benjaminiHochberg(p: ArrayLike<number>): Float64Array {
  const K = p.length;
  const order = Array.from({ length: K }, (_, i) => i).sort((a, b) => p[a] - p[b] || a - b);
  const q = new Float64Array(K);
  let running = 1;
  for (let rank = K; rank >= 1; rank--) {
    const i = order[rank - 1];
    running = Math.min(running, (K * p[i]) / rank);
    q[i] = Math.min(1, running);
  }
  return q;
}

/** Quantile `f` of values (linear interpolation between order statistics). */
export function quantile(values: ArrayLike<number>, f: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const pos = f * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Each pseudo-neuron's best score, for scorers whose score of a neuron depends on that neuron
 * alone: the pseudo-neurons' summaries ({@link pseudoActivations}) are made and handed to `best` in
 * chunks of at most `chunkBytes`, which returns one best score per column of its chunk.
 */
export async function nullBestByChunks(
  pseudo: PermutationNull,
  activations: Matrix,
  best: (chunk: Matrix) => Promise<ArrayLike<number>>,
  chunkBytes = 32 * 2 ** 20,
): Promise<Float64Array> {
  const chunk = Math.max(1, Math.min(pseudo.permutations, Math.floor(chunkBytes / (4 * activations.rows))));
  const out = new Float64Array(pseudo.permutations);
  for (let from = 0; from < pseudo.permutations; from += chunk) {
    const to = Math.min(pseudo.permutations, from + chunk);
    out.set(await best(pseudoActivations(pseudo, activations, from, to)), from);
  }
  return out;
}
