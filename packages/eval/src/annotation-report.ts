import type { Results, ResultsLayer } from '@neurodissect/core';
import type {
  AccuracyIntervals,
  AnnotationReport,
  AnnotatorTables,
  LayerIntervals,
} from './annotation-schema';
import { annotatorAgreement, annotatorName } from './annotator-agreement';
import { type GroundTruth, truthByLayer } from './ground-truth';
import type { LabelMatcher } from './label-matcher';
import type { Accuracy, LabelerReport } from './report-schema';
import { correctnessTables, type JudgedNeuron } from './tables';
import { wilsonInterval } from './wilson-interval';

/** The neurons of `layer` that `truth` judges, with one labeler's predictions, and those it lacks. */
export function judgeLayer(
  layer: ResultsLayer,
  truth: ReadonlyMap<number, string | null>,
  labeler: string,
): { judged: JudgedNeuron[]; missing: number } {
  const byUnit = new Map(layer.neurons.map((n) => [n.unit, n]));
  const judged: JudgedNeuron[] = [];
  let missing = 0;
  for (const [unit, label] of truth) {
    const neuron = byUnit.get(unit);
    if (neuron) judged.push({ truth: label, labels: neuron.labels[labeler] });
    else missing++;
  }
  return { judged, missing };
}

/** Table 1's shares with their 95% Wilson intervals. */
export function accuracyIntervals(a: Accuracy): AccuracyIntervals {
  return {
    top1: wilsonInterval(a.top1, a.total),
    top3: wilsonInterval(a.top3, a.total),
    top5: wilsonInterval(a.top5, a.total),
    nonInterpretable: wilsonInterval(a.nonInterpretable, a.total),
    top5Interpretable: wilsonInterval(a.top5, a.interpretable),
  };
}

/**
 * The report's ground-truth detail: the annotators, Table 1's intervals for the labelers' tables
 * (which `labelers` already hold, judged against `basis`), and with several ground truths their
 * agreement and Table 1 against each alone.
 */
export function annotationReport(
  results: Results,
  truths: readonly GroundTruth[],
  labelers: readonly LabelerReport[],
  matcher: LabelMatcher,
): AnnotationReport {
  const layerNames = results.layers.map((l) => l.name);
  const sampled = truths.some((t) => t.annotation?.sample !== undefined);
  const neuronsOf = new Map(results.layers.map((l) => [l.name, l.neurons.length]));
  const intervals: LayerIntervals[] = [];
  for (const labeler of labelers) {
    for (const layer of labeler.layers) {
      if (!layer.accuracy) continue;
      intervals.push({
        labeler: labeler.id,
        layer: layer.layer,
        sample: sampled ? { judged: layer.accuracy.total, of: neuronsOf.get(layer.layer) ?? 0 } : null,
        ...accuracyIntervals(layer.accuracy),
      });
    }
  }
  const several = truths.length > 1;
  const agreement = [];
  if (several) {
    for (let i = 0; i < truths.length; i++)
      for (let j = i + 1; j < truths.length; j++)
        agreement.push(...annotatorAgreement(truths[i], truths[j], { matcher, layers: layerNames }));
  }
  const perAnnotator: AnnotatorTables[] = several
    ? truths.map((truth) => {
        const byLayer = truthByLayer(truth);
        return {
          annotator: annotatorName(truth),
          source: truth.source,
          labelers: labelers.map((labeler) => ({
            id: labeler.id,
            layers: results.layers.flatMap((layer) => {
              const units = byLayer.get(layer.name);
              if (!units) return [];
              const { judged, missing } = judgeLayer(layer, units, labeler.id);
              const { accuracy } = correctnessTables(judged, matcher, missing);
              return [{ layer: layer.name, accuracy, intervals: accuracyIntervals(accuracy) }];
            }),
          })),
        };
      })
    : [];
  return {
    annotators: truths.map((truth) => ({
      name: annotatorName(truth),
      source: truth.source,
      neurons: truth.entries.length,
      nonInterpretable: truth.entries.filter((e) => e.label === null).length,
      blindNeurons: truth.annotation?.blindNeurons ?? null,
      shownLabeler: truth.annotation?.shownLabeler ?? null,
      sample: truth.annotation?.sample ?? null,
    })),
    basis: several ? 'agreed' : 'single',
    blind: truths.every((t) => t.entries.length > 0 && t.annotation?.blindNeurons === t.entries.length),
    intervals,
    agreement,
    perAnnotator,
  };
}
