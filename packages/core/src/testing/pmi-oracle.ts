import { logSumExp } from '../math/log-sum-exp';
import { topKPerColumn } from '../math/top-k';
import type { SoftWpmiOptions, WpmiOptions } from '../similarity/options';
import { resolvePmiParameters } from '../similarity/pmi-engine';
import { createMatrix, type Matrix } from '../tensor';

/**
 * Soft-WPMI or WPMI written out plainly in float64, as the reference defines it: `p = softmax(a·P)`
 * per image, `L[k,m] = Σ_j ln(1 + π_j·(p[B_k[j], m] − 1) + minProb)` over each neuron's top-k
 * images, `sim = L − λ·(logsumexp_k L − ln K)`.
 *
 * The tests' oracle, and nothing else: it holds the softmax of every needed row and is slow. Users
 * get these functions from the streaming engine ({@link @neurodissect/core!scoreNeurons | scoreNeurons},
 * {@link @neurodissect/core/internal!scorePmiLayers | scorePmiLayers}).
 *
 * @param clip N×M raw image×concept cosines.
 * @param activations N×K summarised activations.
 */
export function pmiOracle(
  fn: 'soft_wpmi' | 'wpmi',
  clip: Matrix,
  activations: Matrix,
  options?: SoftWpmiOptions | WpmiOptions,
): Matrix {
  const { topK, a, lambda, minProb, weights } = resolvePmiParameters(fn, options, clip.rows);
  const K = activations.cols;
  const M = clip.cols;
  const top = topKPerColumn(activations, topK);
  const probs = new Map<number, Float64Array>();
  const softmaxOf = (image: number): Float64Array => {
    let row = probs.get(image);
    if (row) return row;
    row = new Float64Array(M);
    let max = Number.NEGATIVE_INFINITY;
    for (let m = 0; m < M; m++) max = Math.max(max, a * clip.data[image * M + m]);
    let sum = 0;
    for (let m = 0; m < M; m++) {
      row[m] = Math.exp(a * clip.data[image * M + m] - max);
      sum += row[m];
    }
    for (let m = 0; m < M; m++) row[m] /= sum;
    probs.set(image, row);
    return row;
  };
  const L = new Float64Array(K * M);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < topK; j++) {
      const p = softmaxOf(top.indices[k * topK + j]);
      for (let m = 0; m < M; m++) L[k * M + m] += Math.log(1 + weights[j] * (p[m] - 1) + minProb);
    }
  }
  // The reference works in float32: rounding L and the prior as it does keeps its exact ties tied
  // (argmax: lower index).
  for (let i = 0; i < L.length; i++) L[i] = Math.fround(L[i]);
  const out = createMatrix(K, M);
  for (let m = 0; m < M; m++) {
    const prior = Math.fround(lambda * Math.fround(logSumExp(L, m, K, M) - Math.log(K)));
    for (let k = 0; k < K; k++) out.data[k * M + m] = L[k * M + m] - prior;
  }
  return out;
}
