import type { ScoredLabel } from '@neurodissect/core';
import type { LabelMatcher } from './label-matcher';
import type { Accuracy, Histogram, Interpretability, ScoreByCorrectness } from './report-schema';

/** Max-score thresholds of Table 3. */
export interface InterpretabilityThresholds {
  /** @defaultValue 0.3 */
  high: number;
  /** @defaultValue 0.2 */
  medium: number;
  /** @defaultValue 0.1 */
  low: number;
}

/** The report's thresholds: high ≥ 0.3, medium ≥ 0.2, low ≥ 0.1, else non-interpretable. */
export const DEFAULT_THRESHOLDS: Readonly<InterpretabilityThresholds> = Object.freeze({
  high: 0.3,
  medium: 0.2,
  low: 0.1,
});

/** The largest score among a neuron's labels, or undefined when it has none. */
export function maxScore(labels: readonly ScoredLabel[] | undefined): number | undefined {
  if (!labels || labels.length === 0) return undefined;
  let best = labels[0].score;
  for (const l of labels) if (l.score > best) best = l.score;
  return best;
}

/**
 * Table 3: counts the max scores per level of a scale (`thresholds` highest first; a score equal
 * to a threshold is at that level), and those below every level.
 */
export function interpretabilityCounts(
  maxScores: readonly number[],
  thresholds: readonly number[] = [
    DEFAULT_THRESHOLDS.high,
    DEFAULT_THRESHOLDS.medium,
    DEFAULT_THRESHOLDS.low,
  ],
): Interpretability {
  const levels = new Array<number>(thresholds.length).fill(0);
  let none = 0;
  for (const s of maxScores) {
    const level = thresholds.findIndex((t) => s >= t);
    if (level < 0) none++;
    else levels[level]++;
  }
  return { levels, none };
}

/** The arithmetic mean, or null for no values. */
export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * 1-based rank of the first prediction that matches `truth` within the first `limit` labels, or
 * undefined when none does.
 */
export function matchRank(
  labels: readonly ScoredLabel[] | undefined,
  truth: string,
  matcher: LabelMatcher,
  limit = Number.POSITIVE_INFINITY,
): number | undefined {
  if (!labels) return undefined;
  const end = Math.min(labels.length, limit);
  for (let i = 0; i < end; i++) if (matcher.matches(labels[i].label, truth)) return i + 1;
  return undefined;
}

/** One evaluated neuron: its ground truth (null = non-interpretable) and its predictions. */
export interface JudgedNeuron {
  truth: string | null;
  labels: readonly ScoredLabel[] | undefined;
}

/** Tables 1 and 2 and the ROC-AUC input for one layer and labeler. */
export interface CorrectnessTables {
  accuracy: Accuracy;
  scoreByCorrectness: ScoreByCorrectness;
  /** Max score and top-1 correctness of each neuron that has labels. */
  scored: { score: number; top1: boolean }[];
}

/**
 * Table 1 (top-1/3/5 correct, cumulative; incorrect; non-interpretable; total) and Table 2 (mean
 * max score of top-1/3/5-correct neurons, of incorrect-or-non-interpretable ones, and of all).
 * `missing` is passed through to the table: ground-truth neurons absent from the Results.
 */
export function correctnessTables(
  neurons: readonly JudgedNeuron[],
  matcher: LabelMatcher,
  missing = 0,
): CorrectnessTables {
  const accuracy: Accuracy = {
    top1: 0,
    top3: 0,
    top5: 0,
    incorrect: 0,
    nonInterpretable: 0,
    total: neurons.length,
    interpretable: 0,
    top5AccuracyInterpretable: null,
    missing,
  };
  const groups = {
    top1: [] as number[],
    top3: [] as number[],
    top5: [] as number[],
    rest: [] as number[],
    all: [] as number[],
  };
  const scored: { score: number; top1: boolean }[] = [];
  for (const { truth, labels } of neurons) {
    const rank = truth === null ? undefined : matchRank(labels, truth, matcher, 5);
    if (truth === null) accuracy.nonInterpretable++;
    else if (rank === undefined) accuracy.incorrect++;
    if (rank !== undefined && rank <= 1) accuracy.top1++;
    if (rank !== undefined && rank <= 3) accuracy.top3++;
    if (rank !== undefined) accuracy.top5++;
    const score = maxScore(labels);
    if (score === undefined) continue;
    groups.all.push(score);
    if (rank === undefined) groups.rest.push(score);
    else {
      if (rank <= 1) groups.top1.push(score);
      if (rank <= 3) groups.top3.push(score);
      groups.top5.push(score);
    }
    scored.push({ score, top1: rank === 1 });
  }
  accuracy.interpretable = accuracy.total - accuracy.nonInterpretable;
  accuracy.top5AccuracyInterpretable =
    accuracy.interpretable === 0 ? null : accuracy.top5 / accuracy.interpretable;
  return {
    accuracy,
    scoreByCorrectness: {
      top1: mean(groups.top1),
      top3: mean(groups.top3),
      top5: mean(groups.top5),
      incorrectOrNonInterpretable: mean(groups.rest),
      all: mean(groups.all),
    },
    scored,
  };
}

/**
 * Histogram of `values` in about `bins` equal bins of a "nice" width (1, 2 or 5 × 10^k), starting
 * at a multiple of the width. Null for no values.
 */
export function histogram(values: readonly number[], bins = 30): Histogram | null {
  if (values.length === 0) return null;
  let lo = values[0];
  let hi = values[0];
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const raw = (hi - lo) / bins || Math.abs(hi) / bins || 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const width = [1, 2, 5, 10].map((m) => m * power).find((w) => w >= raw) ?? 10 * power;
  // Round so that bin edges print cleanly (0.02, not 0.020000000000000004).
  const round = (x: number) => Number(x.toPrecision(12));
  const start = round(Math.floor(lo / width) * width);
  const counts = new Array<number>(Math.floor(round((hi - start) / width)) + 1).fill(0);
  for (const v of values) counts[Math.min(counts.length - 1, Math.floor(round((v - start) / width)))]++;
  return { start, width: round(width), counts };
}
