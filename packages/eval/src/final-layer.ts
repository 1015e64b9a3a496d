import type { Matrix, ResultsLayer } from '@neurodissect/core';
import { createLabelMatcher, type LabelMatcher } from './label-matcher';
import type { FinalLayerMetrics } from './report-schema';
import { rocAuc } from './roc-auc';
import { matchRank, maxScore, mean } from './tables';

/** Embeds texts as the rows of a matrix (e.g. a `ClipModel`'s `embedTexts`, or a sentence-embedding model). */
export type TextEmbedder = (texts: readonly string[]) => Promise<Matrix>;

/** Options of {@link evaluateFinalLayer}. */
export interface FinalLayerOptions {
  /** The final layer, whose unit `i` is class `i`. */
  layer: ResultsLayer;
  /** The labeler whose labels are judged. */
  labeler: string;
  /**
   * Class name per unit. A name with commas (`tench, Tinca tinca`, as in `imagenet_labels.txt`) is
   * a synonym group: a prediction matching any member is correct.
   */
  classNames: readonly string[];
  /** How labels are compared. @defaultValue createLabelMatcher() */
  matcher?: LabelMatcher;
  /**
   * Text-embedding models, by name (e.g. `{ clip: clipModel.embedTexts }`): for each, the mean
   * cosine between the top-1 label and the full class name is reported. @defaultValue {}
   */
  embedders?: Readonly<Record<string, TextEmbedder>>;
  /** Aborts between embedding calls. */
  signal?: AbortSignal;
}

function rowCosines(a: Matrix, b: Matrix): number[] {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new RangeError(`text embeddings disagree in shape: ${a.rows}×${a.cols} vs ${b.rows}×${b.cols}`);
  }
  const out: number[] = [];
  for (let r = 0; r < a.rows; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let c = 0; c < a.cols; c++) {
      const x = a.data[r * a.cols + c];
      const y = b.data[r * b.cols + c];
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    out.push(na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb));
  }
  return out;
}

/**
 * CLIP-Dissect's metrics for a final layer whose units are classes: top-1/top-5 accuracy of the
 * labels against the class names, mean and median rank of the class among the stored predictions,
 * ROC-AUC of max score vs top-1 correctness, and per given text-embedding model the mean cosine
 * between the top-1 label and the class name. Ranks are only known within the stored labels, so
 * the mean rank is null unless every class was found, and the median null unless more than half were.
 */
export async function evaluateFinalLayer(options: FinalLayerOptions): Promise<FinalLayerMetrics> {
  const { layer, labeler, classNames } = options;
  const groups = classNames.map((name) =>
    name
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== ''),
  );
  const matcher = options.matcher ?? createLabelMatcher({ synonyms: groups });
  const ranks: number[] = [];
  let notRanked = 0;
  let top1 = 0;
  let top5 = 0;
  const scores: number[] = [];
  const correct: boolean[] = [];
  const predicted: string[] = [];
  const truths: string[] = [];
  for (const neuron of layer.neurons) {
    const labels = neuron.labels[labeler];
    const group = groups[neuron.unit];
    if (!labels || labels.length === 0 || !group || group.length === 0) continue;
    const rank = group
      .map((member) => matchRank(labels, member, matcher))
      .reduce<number | undefined>(
        (best, r) => (r !== undefined && (best === undefined || r < best) ? r : best),
        undefined,
      );
    if (rank === undefined) notRanked++;
    else ranks.push(rank);
    if (rank === 1) top1++;
    if (rank !== undefined && rank <= 5) top5++;
    scores.push(maxScore(labels)!);
    correct.push(rank === 1);
    predicted.push(labels[0].label);
    truths.push(classNames[neuron.unit].trim());
  }
  const n = predicted.length;
  ranks.sort((a, b) => a - b);
  // Unfound classes rank after every stored label, so the median is known while they are fewer than half.
  let medianRank: number | null = null;
  if (n > 0 && notRanked * 2 < n) {
    const at = (i: number) => ranks[i];
    medianRank =
      n % 2 === 1 ? at((n - 1) / 2) : n / 2 < ranks.length ? (at(n / 2 - 1) + at(n / 2)) / 2 : null;
  }
  const textSimilarity: Record<string, number> = {};
  for (const [name, embed] of Object.entries(options.embedders ?? {})) {
    options.signal?.throwIfAborted();
    if (n === 0) continue;
    const [a, b] = [await embed(predicted), await embed(truths)];
    textSimilarity[name] = mean(rowCosines(a, b)) ?? 0;
  }
  return {
    layer: layer.name,
    labeler,
    neurons: n,
    top1Accuracy: n === 0 ? null : top1 / n,
    top5Accuracy: n === 0 ? null : top5 / n,
    meanRank: n > 0 && notRanked === 0 ? mean(ranks) : null,
    medianRank,
    notRanked,
    rocAuc: rocAuc(scores, correct),
    textSimilarity,
  };
}
