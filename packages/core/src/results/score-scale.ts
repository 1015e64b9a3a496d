import type { LabelerRun } from './schema';

/**
 * What a labeler's scores mean and, where a published method gives them, the thresholds that make
 * a neuron interpretable on that scale (with their source). Thresholds belong to one scale: soft-WPMI's
 * are never applied to IoU or to another similarity function.
 */
export interface ScoreScale {
  /** The score, in words (e.g. "soft-WPMI similarity", "IoU"). */
  readonly name: string;
  /**
   * Published thresholds, highest first: a neuron whose top-label score reaches `thresholds[i]` is
   * interpretable at that level. Absent when nothing is published for this scale: then the score's
   * distribution (quantiles) is shown instead.
   */
  readonly thresholds?: readonly number[];
  /** Names of the levels, one per threshold (e.g. high, medium, low; or detector). */
  readonly levels?: readonly string[];
  /** Where the thresholds come from. */
  readonly source?: string;
}

const SIMILARITY_NAMES: Readonly<Record<string, string>> = {
  soft_wpmi: 'soft-WPMI similarity',
  wpmi: 'WPMI similarity',
  cos: 'cosine similarity',
  cos_cubed: 'cos³ similarity',
  rank_reorder: 'rank-reorder similarity',
};

/**
 * The scale of a labeler's scores, from its id and recorded options: CLIP-Dissect with soft-WPMI
 * (its default) has the report's thresholds 0.3 / 0.2 / 0.1; NetDissect's IoU has Network
 * Dissection's detector threshold (the labeler's `threshold` option, 0.04 by default); every other
 * scale has none.
 */
export function scoreScaleOf(labeler: Pick<LabelerRun, 'id' | 'options'>): ScoreScale {
  const options = labeler.options ?? {};
  if (labeler.id === 'clip-dissect') {
    const similarity = typeof options.similarity === 'string' ? options.similarity : 'soft_wpmi';
    const name = SIMILARITY_NAMES[similarity] ?? `${similarity} similarity`;
    if (similarity !== 'soft_wpmi') return { name };
    return {
      name,
      thresholds: [0.3, 0.2, 0.1],
      levels: ['high', 'medium', 'low'],
      source:
        'CLIP-Dissect (Oikarinen & Weng, ICLR 2023), Table 3: soft-WPMI with CLIP ViT-B/16 and 20,000 concepts',
    };
  }
  if (labeler.id === 'netdissect') {
    const threshold = typeof options.threshold === 'number' ? options.threshold : 0.04;
    return {
      name: 'IoU',
      thresholds: [threshold],
      levels: ['detector'],
      source: `Network Dissection (Bau et al., CVPR 2017): a unit whose best IoU reaches ${threshold} is a detector`,
    };
  }
  if (labeler.id === 'clip-avg') return { name: "summed CLIP cosine of the top images' votes" };
  if (labeler.id === 'broden-label') return { name: "share of the top images' annotation votes" };
  return { name: `${labeler.id} score` };
}

/** The 10th, 25th, 50th, 75th and 90th percentiles of a set of scores. */
export interface ScoreQuantiles {
  readonly p10: number;
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
  readonly p90: number;
}

/**
 * Percentiles of `values` with linear interpolation between order statistics (NumPy's default):
 * the distribution a scale without published thresholds is shown by. Null for no values.
 */
export function scoreQuantiles(values: readonly number[]): ScoreQuantiles | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => {
    const position = q * (sorted.length - 1);
    const lower = Math.floor(position);
    const upper = Math.min(sorted.length - 1, lower + 1);
    return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
  };
  return { p10: at(0.1), p25: at(0.25), p50: at(0.5), p75: at(0.75), p90: at(0.9) };
}
