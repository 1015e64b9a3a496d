import { z } from 'zod';
import { AccuracySchema } from './accuracy-schema';
import { AnnotationReportSchema } from './annotation-schema';

export { AccuracySchema };

/** The format tag of `report.json`. */
export const EVAL_REPORT_FORMAT = 'neurodissect.eval-report';
/** The `report.json` version this package writes. */
export const EVAL_REPORT_VERSION = 2;

const count = z.number().int().nonnegative();
const nullableNumber = z.number().nullable();

/**
 * A labeler's score scale as the report used it: the levels counted in Table 3 (its published
 * thresholds, or those given with `--thresholds`), none when the scale has no published thresholds
 * (then the layers show the max score's quantiles).
 */
export const ScoreScaleSchema = z.object({
  /** What the score is (e.g. "soft-WPMI similarity", "IoU"). */
  name: z.string(),
  /** Highest first: a neuron is at the first level whose threshold its max score reaches. */
  levels: z.array(z.object({ name: z.string(), threshold: z.number() })),
  /** Where the thresholds come from. */
  source: z.string().nullable(),
});

/** Table 3 on the labeler's scale: neurons per level of their max score, and below every level. */
export const InterpretabilitySchema = z.object({
  /** One count per level of the scale, in its order (a neuron counts at its highest level). */
  levels: z.array(count),
  /** max score below the last level's threshold. */
  none: count,
});

/** Percentiles of the neurons' max scores (interpolated as NumPy's `percentile`). */
export const QuantilesSchema = z.object({
  p10: z.number(),
  p25: z.number(),
  p50: z.number(),
  p75: z.number(),
  p90: z.number(),
});

/** Table 2: mean max score by correctness (null where the group is empty). */
export const ScoreByCorrectnessSchema = z.object({
  top1: nullableNumber,
  top3: nullableNumber,
  top5: nullableNumber,
  incorrectOrNonInterpretable: nullableNumber,
  all: nullableNumber,
});

/** Counts of max scores in equal-width bins `[start + i·width, start + (i+1)·width)`. */
export const HistogramSchema = z.object({
  start: z.number(),
  width: z.number().positive(),
  counts: z.array(count),
});

/** One layer as one labeler labelled it. */
export const LabelerLayerReportSchema = z.object({
  layer: z.string(),
  /** Neurons with at least one label from this labeler. */
  neurons: count,
  /** Neurons of the layer without a label from this labeler. */
  unlabelled: count,
  /** Mean over neurons of their max score; null for labelers without scores. */
  meanMaxScore: nullableNumber,
  /** Null for labelers without scores, or whose scale has no levels (see `quantiles`). */
  interpretability: InterpretabilitySchema.nullable(),
  /** The max scores' percentiles; null for labelers without scores. */
  quantiles: QuantilesSchema.nullable(),
  histogram: HistogramSchema.nullable(),
  /** The most frequent top-1 labels (after normalisation), most frequent first. */
  topLabels: z.array(z.object({ label: z.string(), count: count })),
  accuracy: AccuracySchema.optional(),
  scoreByCorrectness: ScoreByCorrectnessSchema.optional(),
  /** ROC-AUC of "max score predicts top-1 correctness"; null when only one class occurs. */
  rocAuc: nullableNumber.optional(),
  /**
   * Neurons whose best label is significant against the layer's permutation null (q < 0.05); null
   * when the Results have no significance figures for this labeler.
   */
  significant: count.nullable().optional(),
  /** Neurons tested against the null. */
  tested: count.nullable().optional(),
  /**
   * Mean held-out correlation of the labels with their neurons' activations, and the same for
   * labels of random other neurons of the layer (`baseline`); null when not measured.
   */
  heldOut: z
    .object({
      correlation: z.number(),
      baseline: z.number(),
      folds: count,
      /** From the annotation masks, over neurons whose label is an annotation label: correlation and AUPRC. */
      annotations: z.object({ correlation: z.number(), auprc: z.number(), neurons: count }).optional(),
    })
    .nullable()
    .optional(),
  /**
   * Mean share of bootstrap resamples that give the same best label; with a ground truth, that
   * share for top-1-correct labels and for the others. Null when not measured.
   */
  stability: z
    .object({
      top1: z.number(),
      resamples: count,
      byCorrectness: z
        .object({
          top1Correct: nullableNumber,
          incorrectOrNonInterpretable: nullableNumber,
          correct: count,
          other: count,
        })
        .nullable(),
    })
    .nullable()
    .optional(),
});

/** One labeler's evaluation. */
export const LabelerReportSchema = z.object({
  id: z.string(),
  version: z.string(),
  /** False for labelers that give no scores (e.g. imported MILAN descriptions). */
  scored: z.boolean(),
  /** The scale its Table 3 counts on. */
  scale: ScoreScaleSchema,
  layers: z.array(LabelerLayerReportSchema),
});

/** The per-layer summary of the primary (first scored) labeler. */
export const LayerSummarySchema = z.object({
  layer: z.string(),
  neurons: count,
  meanMaxScore: nullableNumber,
  interpretability: InterpretabilitySchema.nullable(),
  quantiles: QuantilesSchema.nullable(),
  /** The labeler the numbers come from. */
  labeler: z.string().nullable(),
});

/** CLIP-Dissect's metrics for a final layer whose units are classes. */
export const FinalLayerMetricsSchema = z.object({
  layer: z.string(),
  labeler: z.string(),
  /** Units evaluated (units that have both a class name and labels). */
  neurons: count,
  top1Accuracy: nullableNumber,
  top5Accuracy: nullableNumber,
  /** Mean 1-based rank of the class among the predictions; null unless every class was found. */
  meanRank: nullableNumber,
  /** Median 1-based rank; null when more than half of the classes were not among the predictions. */
  medianRank: nullableNumber,
  /** Units whose class was not among the stored predictions. */
  notRanked: count,
  rocAuc: nullableNumber,
  /** Mean cosine between the top-1 label and the class name, per text-embedding model given. */
  textSimilarity: z.record(z.string(), z.number()),
});

/** `report.json`: what `evaluateResults` computes, validated on write and read. */
export const EvalReportSchema = z.object({
  format: z.literal(EVAL_REPORT_FORMAT),
  version: z.literal(EVAL_REPORT_VERSION),
  source: z.object({ model: z.string(), kind: z.string(), createdAt: z.string() }),
  /** Thresholds given for every labeler (`--thresholds`), replacing each scale's own; null when none were. */
  thresholds: z.object({ high: z.number(), medium: z.number(), low: z.number() }).nullable(),
  groundTruth: z.object({ source: z.string(), neurons: count, nonInterpretable: count }).nullable(),
  primaryLabeler: z.string().nullable(),
  layers: z.array(LayerSummarySchema),
  labelers: z.array(LabelerReportSchema),
  finalLayer: z.array(FinalLayerMetricsSchema).optional(),
  /** Who made the ground truth and how, Table 1's intervals and the annotators' agreement. */
  annotation: z.lazy(() => AnnotationReportSchema).optional(),
});

/** A labeler's scale in the report (see {@link ScoreScaleSchema}). */
export type ReportScoreScale = z.infer<typeof ScoreScaleSchema>;
/** Max-score percentiles (see {@link QuantilesSchema}). */
export type Quantiles = z.infer<typeof QuantilesSchema>;
/** Table 3 counts (see {@link InterpretabilitySchema}). */
export type Interpretability = z.infer<typeof InterpretabilitySchema>;
/** Table 1 (see {@link AccuracySchema}). */
export type Accuracy = z.infer<typeof AccuracySchema>;
/** Table 2 (see {@link ScoreByCorrectnessSchema}). */
export type ScoreByCorrectness = z.infer<typeof ScoreByCorrectnessSchema>;
/** A max-score histogram (see {@link HistogramSchema}). */
export type Histogram = z.infer<typeof HistogramSchema>;
/** One layer as one labeler labelled it (see {@link LabelerLayerReportSchema}). */
export type LabelerLayerReport = z.infer<typeof LabelerLayerReportSchema>;
/** One labeler's evaluation (see {@link LabelerReportSchema}). */
export type LabelerReport = z.infer<typeof LabelerReportSchema>;
/** A layer's summary for the primary labeler (see {@link LayerSummarySchema}). */
export type LayerSummary = z.infer<typeof LayerSummarySchema>;
/** CLIP-Dissect's final-layer metrics (see {@link FinalLayerMetricsSchema}). */
export type FinalLayerMetrics = z.infer<typeof FinalLayerMetricsSchema>;
/** The content of `report.json` (see {@link EvalReportSchema}). */
export type EvalReport = z.infer<typeof EvalReportSchema>;
