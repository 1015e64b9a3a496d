import { normalizeLabel, type Results, scoreQuantiles, scoreScaleOf } from '@neurodissect/core';
import { annotationReport, judgeLayer } from './annotation-report';
import { agreedGroundTruth } from './annotator-agreement';
import { type GroundTruth, truthByLayer as truthsOf } from './ground-truth';
import { createLabelMatcher, type LabelMatcher } from './label-matcher';
import {
  EVAL_REPORT_FORMAT,
  EVAL_REPORT_VERSION,
  type EvalReport,
  EvalReportSchema,
  type LabelerLayerReport,
  type LabelerReport,
  type LayerSummary,
  type ReportScoreScale,
} from './report-schema';
import { rocAuc } from './roc-auc';
import {
  correctnessTables,
  DEFAULT_THRESHOLDS,
  histogram,
  type InterpretabilityThresholds,
  interpretabilityCounts,
  maxScore,
  mean,
} from './tables';
import { layerTrust } from './trust-report';

/** Options of {@link evaluateResults}. */
export interface EvaluateOptions {
  /**
   * The ground truth; without it only the score-only tables (Table 3, mean max score) are made.
   * Several (one per annotator): Tables 1-2 judge the neurons every annotator labelled and on
   * which they agree, and the report adds their agreement and Table 1 against each alone.
   */
  groundTruth?: GroundTruth | readonly GroundTruth[];
  /** How predicted and true labels are compared. @defaultValue createLabelMatcher() */
  matcher?: LabelMatcher;
  /**
   * Table 3 thresholds for every labeler, replacing each scale's own (missing ones from
   * DEFAULT_THRESHOLDS). @defaultValue each labeler's published thresholds (`scoreScaleOf`:
   * soft-WPMI 0.3 / 0.2 / 0.1, NetDissect's IoU 0.04), none for a scale without any
   */
  thresholds?: Partial<InterpretabilityThresholds>;
  /** How many of the most frequent top-1 labels to keep per layer. @defaultValue 26 */
  topLabels?: number;
  /** About how many bins the max-score histograms have. @defaultValue 30 */
  histogramBins?: number;
  /** Only these labelers (ids); by default every labeler of the Results. */
  labelers?: readonly string[];
}

/** Whether a labeler run gives meaningful scores (importers of score-less formats record `scores: false`). */
function isScored(options: Record<string, unknown>): boolean {
  return options.scores !== false;
}

/**
 * Evaluates a Results document: per labeler and layer the score-only tables (mean max score,
 * Table 3, max-score histogram, most frequent labels) and, with a ground truth, Table 1 (top-k
 * accuracy), Table 2 (mean max score by correctness) and the ROC-AUC of max score vs top-1
 * correctness. The returned report is validated against {@link EvalReportSchema}.
 */
export function evaluateResults(results: Results, options: EvaluateOptions = {}): EvalReport {
  const thresholds = options.thresholds ? { ...DEFAULT_THRESHOLDS, ...options.thresholds } : null;
  if (thresholds && !(thresholds.high >= thresholds.medium && thresholds.medium >= thresholds.low)) {
    throw new RangeError(
      `thresholds must satisfy high ≥ medium ≥ low (got ${thresholds.high}, ${thresholds.medium}, ${thresholds.low})`,
    );
  }
  const matcher = options.matcher ?? createLabelMatcher();
  const topLabelCount = options.topLabels ?? 26;
  const truths: readonly GroundTruth[] =
    options.groundTruth === undefined
      ? []
      : isGroundTruthList(options.groundTruth)
        ? options.groundTruth
        : [options.groundTruth];
  const groundTruth =
    truths.length > 1
      ? agreedGroundTruth(truths, { matcher, layers: results.layers.map((l) => l.name) })
      : truths[0];
  const truthByLayer = truthsOf(groundTruth);
  const runs = options.labelers
    ? results.labelers.filter((l) => options.labelers!.includes(l.id))
    : results.labelers;

  const labelers: LabelerReport[] = runs.map((run) => {
    const scored = isScored(run.options);
    const published = scoreScaleOf(run);
    const scale: ReportScoreScale = thresholds
      ? {
          name: published.name,
          levels: [
            { name: 'high', threshold: thresholds.high },
            { name: 'medium', threshold: thresholds.medium },
            { name: 'low', threshold: thresholds.low },
          ],
          source: 'given with the evaluation',
        }
      : {
          name: published.name,
          levels: (published.thresholds ?? []).map((threshold, i) => ({
            name: published.levels?.[i] ?? `level ${i + 1}`,
            threshold,
          })),
          source: published.source ?? null,
        };
    const levelThresholds = scale.levels.map((level) => level.threshold);
    const layers = results.layers.map((layer): LabelerLayerReport => {
      const maxScores: number[] = [];
      const topCounts = new Map<string, { label: string; count: number }>();
      let unlabelled = 0;
      for (const neuron of layer.neurons) {
        const labels = neuron.labels[run.id];
        const best = maxScore(labels);
        if (best === undefined) {
          unlabelled++;
          continue;
        }
        maxScores.push(best);
        const key = normalizeLabel(labels![0].label);
        const entry = topCounts.get(key);
        if (entry) entry.count++;
        else topCounts.set(key, { label: labels![0].label, count: 1 });
      }
      const report: LabelerLayerReport = {
        layer: layer.name,
        neurons: maxScores.length,
        unlabelled,
        meanMaxScore: scored ? mean(maxScores) : null,
        interpretability:
          scored && levelThresholds.length > 0 ? interpretabilityCounts(maxScores, levelThresholds) : null,
        quantiles: scored ? scoreQuantiles(maxScores) : null,
        histogram: scored ? histogram(maxScores, options.histogramBins) : null,
        topLabels: [...topCounts.values()]
          .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label))
          .slice(0, topLabelCount),
      };
      const truth = truthByLayer.get(layer.name);
      Object.assign(report, layerTrust(layer, run.id, truth, matcher));
      if (truth) {
        const { judged, missing } = judgeLayer(layer, truth, run.id);
        const tables = correctnessTables(judged, matcher, missing);
        report.accuracy = tables.accuracy;
        if (scored) {
          report.scoreByCorrectness = tables.scoreByCorrectness;
          report.rocAuc = rocAuc(
            tables.scored.map((s) => s.score),
            tables.scored.map((s) => s.top1),
          );
        }
      }
      return report;
    });
    return { id: run.id, version: run.version, scored, scale, layers };
  });

  const primary = labelers.find((l) => l.scored) ?? labelers[0];
  const layers: LayerSummary[] = results.layers.map((layer, i) => {
    const entry = primary?.layers[i];
    return {
      layer: layer.name,
      neurons: entry?.neurons ?? layer.neurons.length,
      meanMaxScore: entry?.meanMaxScore ?? null,
      interpretability: entry?.interpretability ?? null,
      quantiles: entry?.quantiles ?? null,
      labeler: primary?.id ?? null,
    };
  });
  const groundTruthSummary = groundTruth
    ? {
        source: groundTruth.source,
        neurons: groundTruth.entries.length,
        nonInterpretable: groundTruth.entries.filter((e) => e.label === null).length,
      }
    : null;
  return EvalReportSchema.parse({
    format: EVAL_REPORT_FORMAT,
    version: EVAL_REPORT_VERSION,
    source: { model: results.model.name, kind: results.run.kind, createdAt: results.run.createdAt },
    thresholds,
    groundTruth: groundTruthSummary,
    primaryLabeler: primary?.id ?? null,
    layers,
    labelers,
    ...(truths.length > 0 ? { annotation: annotationReport(results, truths, labelers, matcher) } : {}),
  });
}

function isGroundTruthList(value: GroundTruth | readonly GroundTruth[]): value is readonly GroundTruth[] {
  return Array.isArray(value);
}
