import { z } from 'zod';
import { AccuracySchema } from './accuracy-schema';

// The report's ground-truth detail: who annotated, how (blind, sampled), Table 1's intervals and,
// with several annotators, their agreement. Kept apart from the per-labeler tables of report-schema;
// the two modules import each other, so each reads the other's schemas lazily.

const count = z.number().int().nonnegative();

/** A proportion with its 95% Wilson interval (see `wilsonInterval`). */
export const ProportionSchema = z.object({
  successes: count,
  trials: count,
  estimate: z.number().min(0).max(1),
  low: z.number().min(0).max(1),
  high: z.number().min(0).max(1),
});

/** The sample a ground truth was drawn from (see `GroundTruthSample`). */
export const GroundTruthSampleSchema = z.object({
  seed: z.number().int(),
  perLayer: count,
  layers: z.array(z.object({ layer: z.string(), drawn: count, of: count })),
});

/**
 * Table 1's proportions with 95% Wilson intervals: top-k correct, and non-interpretable, as shares
 * of the judged neurons; top-5 as a share of the interpretable ones. Null where the share has no
 * neurons to count.
 */
export const AccuracyIntervalsSchema = z.object({
  top1: ProportionSchema.nullable(),
  top3: ProportionSchema.nullable(),
  top5: ProportionSchema.nullable(),
  nonInterpretable: ProportionSchema.nullable(),
  top5Interpretable: ProportionSchema.nullable(),
});

/** One layer's Table 1 intervals for one labeler, with what the layer's ground truth is a sample of. */
export const LayerIntervalsSchema = AccuracyIntervalsSchema.extend({
  labeler: z.string(),
  layer: z.string(),
  /** The layer's neurons the ground truth judged, of how many the layer has; null when not sampled. */
  sample: z.object({ judged: count, of: count }).nullable(),
});

/** One ground-truth file: its annotator and how they labelled. */
export const AnnotatorSchema = z.object({
  /** The annotator's name from the file's header comment, else the file. */
  name: z.string(),
  source: z.string(),
  neurons: count,
  nonInterpretable: count,
  /** Neurons labelled in blind mode (no labeler's labels shown); null when the file does not say. */
  blindNeurons: count.nullable(),
  /** The labeler whose top labels the annotator was offered; null when the file does not say. */
  shownLabeler: z.string().nullable(),
  sample: GroundTruthSampleSchema.nullable(),
});

/**
 * Agreement of two annotators on one layer, over the neurons both labelled: Cohen's κ on
 * interpretable vs non-interpretable, and how often both give the same label (after stemming) to
 * the neurons both call interpretable.
 */
export const AgreementSchema = z.object({
  layer: z.string(),
  /** The two annotators' names, in the order of the files. */
  annotators: z.tuple([z.string(), z.string()]),
  /** Neurons both labelled. */
  neurons: count,
  bothInterpretable: count,
  bothNonInterpretable: count,
  /** Interpretable for the first annotator only. */
  onlyFirst: count,
  /** Interpretable for the second annotator only. */
  onlySecond: count,
  /** Observed agreement p_o on interpretable vs non-interpretable; null for no neurons. */
  observed: z.number().nullable(),
  /** Agreement expected by chance p_e. */
  expected: z.number().nullable(),
  /** (p_o − p_e) / (1 − p_e); null when p_e is 1 (both annotators gave one answer throughout) or no neurons. */
  kappa: z.number().nullable(),
  /** Of `bothInterpretable`, the neurons given the same label. */
  sameLabel: count,
  /** `sameLabel / bothInterpretable`; null when no neuron is interpretable for both. */
  labelAgreement: z.number().nullable(),
});

/** One labeler's Table 1 per layer against one annotator's ground truth. */
export const AnnotatorTablesSchema = z.object({
  annotator: z.string(),
  source: z.string(),
  labelers: z.array(
    z.object({
      id: z.string(),
      layers: z.array(
        z.object({
          layer: z.string(),
          accuracy: z.lazy(() => AccuracySchema),
          intervals: AccuracyIntervalsSchema,
        }),
      ),
    }),
  ),
});

/** The report's ground-truth detail (see the module comment). */
export const AnnotationReportSchema = z.object({
  annotators: z.array(AnnotatorSchema),
  /**
   * What the report's Table 1 judges against: the one ground truth, or with several annotators the
   * neurons every one of them labelled and on which they agree.
   */
  basis: z.enum(['single', 'agreed']),
  /** True when every neuron was labelled blind: no labeler suggested the labels it is judged against. */
  blind: z.boolean(),
  /** Table 1's intervals per labeler and layer, for the tables in `labelers`. */
  intervals: z.array(LayerIntervalsSchema),
  /** Per pair of annotators and layer (several annotators only). */
  agreement: z.array(AgreementSchema),
  /** Table 1 against each annotator alone (several annotators only). */
  perAnnotator: z.array(AnnotatorTablesSchema),
});

/** A proportion with its interval (see {@link ProportionSchema}). */
export type ProportionReport = z.infer<typeof ProportionSchema>;
/** Table 1's intervals (see {@link AccuracyIntervalsSchema}). */
export type AccuracyIntervals = z.infer<typeof AccuracyIntervalsSchema>;
/** One layer's intervals (see {@link LayerIntervalsSchema}). */
export type LayerIntervals = z.infer<typeof LayerIntervalsSchema>;
/** One ground-truth file in the report (see {@link AnnotatorSchema}). */
export type AnnotatorReport = z.infer<typeof AnnotatorSchema>;
/** Two annotators' agreement on a layer (see {@link AgreementSchema}). */
export type Agreement = z.infer<typeof AgreementSchema>;
/** Table 1 against one annotator (see {@link AnnotatorTablesSchema}). */
export type AnnotatorTables = z.infer<typeof AnnotatorTablesSchema>;
/** The report's ground-truth detail (see {@link AnnotationReportSchema}). */
export type AnnotationReport = z.infer<typeof AnnotationReportSchema>;
