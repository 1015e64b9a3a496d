import { topKPerColumn } from '../math/top-k';
import type { Matrix } from '../tensor';
import type { ScoreAccumulator } from './accumulator';
import { pmiScoresFromStrided } from './pmi-engine';

/** Parameters shared by soft-WPMI and WPMI (WPMI is soft-WPMI with every membership weight 1). */
export interface PmiParameters {
  topK: number;
  a: number;
  lambda: number;
  minProb: number;
  /** Membership weight π_j of the image at position j of a neuron's top-k (length topK). */
  weights: Float64Array;
}

/** π_j = pStart − (j/topK)·(pStart − pEnd), j = 0..topK-1. */
export function softMembershipWeights(topK: number, pStart: number, pEnd: number): Float64Array {
  const weights = new Float64Array(topK);
  for (let j = 0; j < topK; j++) weights[j] = pStart - (j / topK) * (pStart - pEnd);
  return weights;
}

/**
 * For each image that is among some neuron's top-k: the (neuron, position) slots it fills, as a
 * compressed row list. Lets one streamed row serve every neuron that holds that image.
 */
export interface SlotIndex {
  /** Images that fill at least one slot, ascending. */
  images: Int32Array;
  /** Slots of `images[r]` are `slots[offsets[r] .. offsets[r+1])`. */
  offsets: Int32Array;
  /** Each slot as `neuron * topK + position`. */
  slots: Int32Array;
}

/** Builds the {@link SlotIndex} of the per-neuron top-k image lists (`K × topK`, flat). */
export function buildSlotIndex(
  topIndices: Int32Array,
  neurons: number,
  topK: number,
  images: number,
): SlotIndex {
  const counts = new Int32Array(images);
  for (let s = 0; s < neurons * topK; s++) counts[topIndices[s]]++;
  let used = 0;
  for (let i = 0; i < images; i++) if (counts[i] > 0) used++;
  const imageList = new Int32Array(used);
  const offsets = new Int32Array(used + 1);
  const rowOf = new Int32Array(images).fill(-1);
  let r = 0;
  for (let i = 0; i < images; i++) {
    if (counts[i] > 0) {
      imageList[r] = i;
      rowOf[i] = r;
      offsets[r + 1] = offsets[r] + counts[i];
      r++;
    }
  }
  const fill = offsets.slice(0, used);
  const slots = new Int32Array(neurons * topK);
  for (let s = 0; s < neurons * topK; s++) slots[fill[rowOf[topIndices[s]]]++] = s;
  return { images: imageList, offsets, slots };
}

/**
 * The per-neuron log-likelihoods `L[k,m] = Σ_j log(1 + π_j·(p(t_m|x_{B_k[j]}) − 1) + minProb)`,
 * accumulated in float64, then `sim = L − λ·(logsumexp_k L − log K)`.
 */
export function createPmiAccumulator(
  activations: Matrix,
  concepts: number,
  params: PmiParameters,
): ScoreAccumulator {
  const neurons = activations.cols;
  const { topK, minProb, weights, lambda } = params;
  const top = topKPerColumn(activations, topK);
  const index = buildSlotIndex(top.indices, neurons, topK, activations.rows);
  const sums = new Float64Array(neurons * concepts);
  let cursor = 0; // position in index.images of the next expected image

  return {
    needed: index.images,
    softmaxScale: params.a,
    add(images, probs) {
      const M = concepts;
      for (let r = 0; r < images.length; r++) {
        while (index.images[cursor] !== images[r]) {
          if (cursor >= index.images.length) throw new RangeError(`Image ${images[r]} was not requested.`);
          cursor++;
        }
        const row = probs.data.subarray(r * M, (r + 1) * M);
        for (let s = index.offsets[cursor]; s < index.offsets[cursor + 1]; s++) {
          const slot = index.slots[s];
          const neuron = (slot / topK) | 0;
          const w = weights[slot - neuron * topK];
          const base = neuron * M;
          for (let m = 0; m < M; m++) sums[base + m] += Math.log(1 + w * (row[m] - 1) + minProb);
        }
        cursor++;
      }
    },
    finish() {
      return pmiScores(sums, neurons, concepts, lambda);
    },
  };
}

/** `sim[k,m] = L[k,m] − λ·(logsumexp_k L[k,m] − log K)` for dense float64 sums (see {@link pmiScoresFromStrided}). */
export function pmiScores(sums: Float64Array, neurons: number, concepts: number, lambda: number): Matrix {
  return pmiScoresFromStrided({ data: sums, stride: concepts }, 0, neurons, concepts, lambda);
}
