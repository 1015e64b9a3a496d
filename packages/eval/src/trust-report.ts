import type { ResultsLayer } from '@neurodissect/core';
import type { LabelMatcher } from './label-matcher';
import type { LabelerLayerReport } from './report-schema';
import { matchRank, mean } from './tables';

/**
 * A labeler's trust figures for one layer, from the Results' `trust` fields: neurons significant
 * against the permutation null (q < 0.05), the held-out correlation beside its random-label
 * baseline, the mean stability; and, with a ground truth, the mean stability of top-1-correct
 * labels beside that of the others (the report's Table 2 argument, for stability). Each is null
 * when the Results hold no such figures for it.
 */
export function layerTrust(
  layer: ResultsLayer,
  labeler: string,
  truth: ReadonlyMap<number, string | null> | undefined,
  matcher: LabelMatcher,
): Pick<LabelerLayerReport, 'significant' | 'tested' | 'heldOut' | 'stability'> {
  const figures = layer.trust?.[labeler];
  const stabilities = layer.neurons
    .map((n) => n.trust?.[labeler]?.stability?.top1)
    .filter((s): s is number => s !== undefined);
  if (!figures && stabilities.length === 0)
    return { significant: null, tested: null, heldOut: null, stability: null };
  let byCorrectness: NonNullable<LabelerLayerReport['stability']>['byCorrectness'] = null;
  if (truth && stabilities.length > 0) {
    const byUnit = new Map(layer.neurons.map((n) => [n.unit, n]));
    const correct: number[] = [];
    const other: number[] = [];
    for (const [unit, label] of truth) {
      const neuron = byUnit.get(unit);
      const stability = neuron?.trust?.[labeler]?.stability?.top1;
      if (!neuron || stability === undefined) continue;
      const right = label !== null && matchRank(neuron.labels[labeler], label, matcher, 1) === 1;
      (right ? correct : other).push(stability);
    }
    byCorrectness = {
      top1Correct: mean(correct),
      incorrectOrNonInterpretable: mean(other),
      correct: correct.length,
      other: other.length,
    };
  }
  return {
    significant: figures?.significant ?? null,
    tested: figures?.tested ?? null,
    heldOut: figures?.heldOut
      ? {
          correlation: figures.heldOut.correlation,
          baseline: figures.heldOut.baseline,
          folds: figures.heldOut.folds,
          ...(figures.heldOut.annotations ? { annotations: figures.heldOut.annotations } : {}),
        }
      : null,
    stability:
      stabilities.length > 0
        ? { top1: mean(stabilities)!, resamples: firstResamples(layer, labeler), byCorrectness }
        : null,
  };
}

function firstResamples(layer: ResultsLayer, labeler: string): number {
  for (const neuron of layer.neurons) {
    const resamples = neuron.trust?.[labeler]?.stability?.resamples;
    if (resamples !== undefined) return resamples;
  }
  return 0;
}
