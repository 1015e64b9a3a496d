import {
  normalizeLabel,
  type ResultsLayer,
  type ScoreQuantiles,
  type ScoreScale,
  scoreQuantiles,
} from '@neurodissect/core';

/** Options of {@link SearchIndex.layerSummary}. */
export interface LayerSummaryOptions {
  /** The labeler whose labels are summarised. @defaultValue the first labeler of the Results */
  labeler?: string;
  /** Histogram bins over the neurons' top-label scores. @defaultValue 20 */
  bins?: number;
  /** Histogram range `[min, max]`. @defaultValue the smallest and largest top-label score */
  range?: readonly [number, number];
  /** How many of the most frequent labels to return. @defaultValue 26 */
  topLabels?: number;
  /** Count a label when it is among a neuron's first `ranks` labels. @defaultValue 1 (top label only) */
  ranks?: number;
  /**
   * A neuron is interpretable at threshold `t` when its top-label score is at least `t`.
   * @defaultValue the labeler's published thresholds (`scoreScaleOf`: soft-WPMI 0.3 / 0.2 / 0.1,
   * NetDissect IoU 0.04); none for a scale without any (see `quantiles`)
   */
  thresholds?: readonly number[];
}

/** A histogram of the neurons' top-label scores: `counts[i]` neurons in `[edges[i], edges[i+1])` (the last bin is closed). */
export interface ScoreHistogram {
  edges: number[];
  counts: number[];
}

/** How many neurons carry a label. */
export interface LabelFrequency {
  /** The label as first written by the labeler. */
  label: string;
  count: number;
}

/** How many neurons are interpretable at one threshold. */
export interface InterpretabilityCount {
  threshold: number;
  count: number;
  /** `count` over the neurons with labels (0 when none have). */
  fraction: number;
}

/** An overview of one layer for one labeler. */
export interface LayerSummary {
  layer: string;
  /** Units the layer has. */
  units: number;
  /** Neurons present in the Results. */
  neurons: number;
  labeler: string;
  /** Neurons with at least one label from the labeler. */
  labelled: number;
  histogram: ScoreHistogram;
  /** Most frequent labels, most frequent first (ties alphabetically). */
  labelFrequencies: LabelFrequency[];
  /** The labeler's score scale; its thresholds are those counted in `interpretable`. */
  scale: ScoreScale;
  /** One entry per threshold, in the order given; empty when the scale has none. */
  interpretable: InterpretabilityCount[];
  /** Percentiles of the neurons' top-label scores (null when none is labelled). */
  quantiles: ScoreQuantiles | null;
}

function positiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/** Summarises one layer's labels from one labeler. */
export function summarizeLayer(
  layer: ResultsLayer,
  labeler: string,
  options: LayerSummaryOptions,
  published: ScoreScale = { name: `${labeler} score` },
): LayerSummary {
  const bins = options.bins ?? 20;
  const topLabels = options.topLabels ?? 26;
  const ranks = options.ranks ?? 1;
  // Thresholds given by the caller replace the scale's own, which belong to it alone.
  const scale: ScoreScale = options.thresholds
    ? { name: published.name, thresholds: [...options.thresholds], source: 'given by the caller' }
    : published;
  const thresholds = scale.thresholds ?? [];
  positiveInteger(bins, 'bins');
  positiveInteger(topLabels, 'topLabels');
  positiveInteger(ranks, 'ranks');

  const topScores: number[] = [];
  const frequencies = new Map<string, LabelFrequency>();
  for (const neuron of layer.neurons) {
    const labels = neuron.labels[labeler];
    if (!labels || labels.length === 0) continue;
    topScores.push(labels[0].score);
    const counted = new Set<string>();
    for (const scored of labels.slice(0, ranks)) {
      const key = normalizeLabel(scored.label);
      if (counted.has(key)) continue;
      counted.add(key);
      const entry = frequencies.get(key);
      if (entry) entry.count++;
      else frequencies.set(key, { label: scored.label, count: 1 });
    }
  }

  let [min, max] = options.range ?? [Math.min(...topScores), Math.max(...topScores)];
  if (topScores.length === 0 && options.range === undefined) [min, max] = [0, 1];
  if (!(Number.isFinite(min) && Number.isFinite(max) && max >= min)) {
    throw new RangeError(`range must be two finite numbers [min, max] with min ≤ max, got [${min}, ${max}]`);
  }
  const width = max > min ? (max - min) / bins : 1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  const counts = new Array<number>(bins).fill(0);
  for (const score of topScores) {
    if (score < min || score > max) continue;
    counts[Math.min(bins - 1, Math.floor((score - min) / width))]++;
  }

  return {
    layer: layer.name,
    units: layer.units,
    neurons: layer.neurons.length,
    labeler,
    labelled: topScores.length,
    histogram: { edges, counts },
    labelFrequencies: [...frequencies.values()]
      .sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
      .slice(0, topLabels),
    scale,
    quantiles: scoreQuantiles(topScores),
    interpretable: thresholds.map((threshold) => {
      const count = topScores.filter((s) => s >= threshold).length;
      return { threshold, count, fraction: topScores.length > 0 ? count / topScores.length : 0 };
    }),
  };
}
