import type { Matrix } from '../tensor';
import type { CosCubedOptions, RankReorderOptions, SoftWpmiOptions, WpmiOptions } from './options';
import { scoreNeuronsSync } from './score';

/**
 * Soft-WPMI, CLIP-Dissect's default similarity (docs/similarity-functions.md).
 * @param clip N×M raw image×concept cosines `P` (no logit scale).
 * @param activations N×K summarised activations.
 * @returns K×M scores.
 */
export function softWpmi(clip: Matrix, activations: Matrix, options?: SoftWpmiOptions): Matrix {
  return scoreNeuronsSync('soft_wpmi', clip, activations, options);
}

/** WPMI (docs/similarity-functions.md). Same arguments as {@link softWpmi}. */
export function wpmi(clip: Matrix, activations: Matrix, options?: WpmiOptions): Matrix {
  return scoreNeuronsSync('wpmi', clip, activations, options);
}

/** Cosine similarity between each neuron's activations and each concept's column of `P`. */
export function cosSimilarity(clip: Matrix, activations: Matrix): Matrix {
  return scoreNeuronsSync('cos', clip, activations);
}

/** Cos-cubed similarity (centred, cubed, normalised). */
export function cosSimilarityCubed(clip: Matrix, activations: Matrix, options?: CosCubedOptions): Matrix {
  return scoreNeuronsSync('cos_cubed', clip, activations, options);
}

/** Rank-reorder similarity, seeded and deterministic. */
export function rankReorder(clip: Matrix, activations: Matrix, options?: RankReorderOptions): Matrix {
  return scoreNeuronsSync('rank_reorder', clip, activations, options);
}
