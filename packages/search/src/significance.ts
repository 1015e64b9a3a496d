import type { ResultsNeuron } from '@neurodissect/core';

/**
 * The q-value below which a neuron's best label counts as significant: a Benjamini–Hochberg false
 * discovery rate of 5% within its layer and labeler (see docs/trust.md).
 */
export const SIGNIFICANCE_LEVEL = 0.05;

/**
 * Whether `labeler`'s best label of `neuron` is significant: its q-value against the layer's
 * permutation null is below {@link SIGNIFICANCE_LEVEL}. False when the neuron has no significance
 * figures for that labeler (a version 1 document, a run without a null, or a labeler that is not
 * tested, such as NetDissect).
 */
export function isSignificant(neuron: ResultsNeuron, labeler: string): boolean {
  const q = neuron.trust?.[labeler]?.significance?.q;
  return q !== undefined && q < SIGNIFICANCE_LEVEL;
}
