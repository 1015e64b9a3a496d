import type { Labeler, LabelerContext, LayerLabels } from '../interfaces';
import { type OperationOptions, throwIfAborted } from '../progress';
import type { LabelTrust, LayerTrust } from '../results/schema';
import { createMatrix, type Matrix } from '../tensor';
import { annotationPresence, foldFigures } from './held-out';
import {
  benjaminiHochberg,
  createPermutationNull,
  nullBestByChunks,
  type PermutationNull,
  permutationPValues,
  quantile,
} from './permutation-null';
import { bootstrapRows, derangement, foldAssignment, foldRows, restrictContext } from './resample';

/** What {@link labelWithTrust} measures; docs/trust.md says what each figure means and costs. */
export interface TrustOptions {
  /** Pseudo-neurons R of each layer's permutation null; 0 turns significance off. @defaultValue 1000 */
  permutations?: number;
  /** Bootstrap resamples B for stability; 0 turns it off. @defaultValue 0 */
  stability?: number;
  /** Folds for held-out quality; 0 turns it off. @defaultValue 2 */
  folds?: number;
  /** Seeds the null, the resamples and the folds. @defaultValue 0 */
  seed?: number;
}

/** The trust defaults: a null of 1,000 pseudo-neurons, no stability, 2 held-out folds, seed 0. */
export const TRUST_DEFAULTS: Required<TrustOptions> = Object.freeze({
  permutations: 1000,
  stability: 0,
  folds: 2,
  seed: 0,
});

/** One layer's trust figures for one labeler. */
export interface LayerTrustFigures {
  /** Per unit (index = unit); undefined for a neuron with no label. */
  readonly neurons: readonly (LabelTrust | undefined)[];
  readonly layer: LayerTrust;
}

/** What {@link labelWithTrust} returns: the labels, and the trust figures where the labeler allows them. */
export interface LabelsWithTrust {
  readonly labels: LayerLabels[];
  /** Per context; absent when the labeler does not score from summaries (see {@link Labeler.scoresFrom}). */
  readonly trust?: LayerTrustFigures[];
}

/** Labels every context, sharing work between them when the labeler can. */
async function labelAll(
  labeler: Labeler,
  contexts: readonly LabelerContext[],
  run: OperationOptions,
): Promise<LayerLabels[]> {
  if (labeler.labelLayers && contexts.length > 1) return labeler.labelLayers(contexts, run);
  const out: LayerLabels[] = [];
  for (const context of contexts) out.push(await labeler.label(context));
  return out;
}

/** Best score of each pseudo-neuron, labelled with `label` in chunks (labelers whose scores are per neuron). */
function nullByRelabelling(
  labeler: Labeler,
  context: LabelerContext,
  pseudo: PermutationNull,
): Promise<Float64Array> {
  return nullBestByChunks(pseudo, context.activations, async (activations) => {
    throwIfAborted(context.signal);
    const labels = await labeler.label({ ...context, activations });
    return Float64Array.from({ length: activations.cols }, (_, c) => labels[c]?.[0]?.score ?? Number.NaN);
  });
}

function bestScores(labels: LayerLabels): Float64Array {
  return Float64Array.from(labels, (ranked) => ranked[0]?.score ?? Number.NaN);
}

function mean(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? Number.NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}

/** Unit-length copies of the rows of `m`. */
function unitRows(m: Matrix): Matrix {
  const out = createMatrix(m.rows, m.cols);
  for (let r = 0; r < m.rows; r++) {
    let norm = 0;
    for (let c = 0; c < m.cols; c++) norm += m.data[r * m.cols + c] ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let c = 0; c < m.cols; c++) out.data[r * m.cols + c] = m.data[r * m.cols + c] * scale;
  }
  return out;
}

/**
 * Labels `contexts` (the layers of one run) with `labeler` and measures how far each neuron's best
 * label can be believed: its significance against a per-layer permutation null (p, and the
 * Benjamini–Hochberg q within the layer), its stability under bootstrap resamples of the probe
 * images, and the held-out correlation of labels chosen on other folds. Labelers that do not
 * declare {@link Labeler.scoresFrom} get their labels only.
 */
export async function labelWithTrust(
  labeler: Labeler,
  contexts: readonly LabelerContext[],
  options: TrustOptions & OperationOptions = {},
): Promise<LabelsWithTrust> {
  const o = { ...TRUST_DEFAULTS, ...options };
  for (const [name, value, min] of [
    ['permutations', o.permutations, 0],
    ['stability', o.stability, 0],
    ['folds', o.folds, 0],
  ] as const) {
    if (!Number.isInteger(value) || value < min)
      throw new RangeError(`Trust option ${name} must be an integer ≥ ${min}, got ${String(value)}.`);
  }
  if (o.folds === 1) throw new RangeError('Held-out quality needs at least 2 folds (or 0 to turn it off).');
  const run: OperationOptions = { signal: options.signal, onProgress: options.onProgress };
  const from = labeler.scoresFrom;
  if (contexts.length === 0) return { labels: [] };
  const N = contexts[0].activations.rows;
  const progress = (stage: string, done: number, total: number) =>
    options.onProgress?.({ stage: `trust:${stage}`, done, total });

  // The labels, with the null's pseudo-neurons where the labeler scores them in the same work.
  let labels: LayerLabels[];
  let nullBest: Float64Array[] | undefined;
  const pseudo =
    from && o.permutations > 0
      ? createPermutationNull(N, { permutations: o.permutations, seed: o.seed })
      : undefined;
  if (pseudo && from === 'layer' && labeler.labelLayersWithNull) {
    ({ labels, nullBest } = await labeler.labelLayersWithNull(contexts, pseudo, run));
  } else {
    labels = await labelAll(labeler, contexts, run);
    if (pseudo && from === 'neuron') {
      nullBest = [];
      for (const [i, context] of contexts.entries()) {
        progress('null', i, contexts.length);
        nullBest.push(await nullByRelabelling(labeler, context, pseudo));
      }
      progress('null', contexts.length, contexts.length);
    }
  }
  if (!from) return { labels };

  const figures = contexts.map((_, c) => ({
    neurons: labels[c].map((ranked): LabelTrust | undefined => (ranked.length > 0 ? {} : undefined)),
    layer: {} as LayerTrust,
  }));

  if (pseudo && nullBest) {
    contexts.forEach((_, c) => {
      const best = bestScores(labels[c]);
      const tested = Array.from(best.keys()).filter((k) => labels[c][k].length > 0);
      const p = permutationPValues(
        tested.map((k) => best[k]),
        nullBest![c],
      );
      const q = benjaminiHochberg(p);
      tested.forEach((k, i) => {
        figures[c].neurons[k]!.significance = { p: p[i], q: q[i] };
      });
      const nulls = nullBest![c].filter(Number.isFinite);
      figures[c].layer.null = {
        permutations: pseudo.permutations,
        seed: pseudo.seed,
        quantiles: { q50: quantile(nulls, 0.5), q95: quantile(nulls, 0.95), q99: quantile(nulls, 0.99) },
      };
      figures[c].layer.significant = Array.from(q).filter((v) => v < 0.05).length;
      figures[c].layer.tested = tested.length;
    });
  }

  if (o.stability > 0) {
    const same = contexts.map((context) => new Float64Array(context.activations.cols));
    const within = contexts.map((context) => new Float64Array(context.activations.cols));
    for (let b = 0; b < o.stability; b++) {
      throwIfAborted(options.signal);
      progress('stability', b, o.stability);
      const rows = bootstrapRows(N, o.seed, b);
      const again = await labelAll(
        labeler,
        contexts.map((context) => restrictContext(context, rows)),
        run,
      );
      contexts.forEach((_, c) => {
        labels[c].forEach((ranked, k) => {
          const best = ranked[0]?.label;
          if (best === undefined) return;
          const resampled = again[c][k] ?? [];
          if (resampled[0]?.label === best) same[c][k]++;
          if (resampled.slice(0, 5).some((l) => l.label === best)) within[c][k]++;
        });
      });
    }
    progress('stability', o.stability, o.stability);
    contexts.forEach((_, c) => {
      figures[c].neurons.forEach((trust, k) => {
        if (trust)
          trust.stability = {
            top1: same[c][k] / o.stability,
            top5: within[c][k] / o.stability,
            resamples: o.stability,
          };
      });
    });
  }

  const embedded = contexts.every((c) => c.imageEmbeddings && c.textEmbeddings);
  if (o.folds > 0 && embedded && N >= o.folds) {
    const assignment = foldAssignment(N, o.folds, o.seed);
    const perFold = () =>
      contexts.map((context) => Array.from({ length: context.activations.cols }, () => [] as number[]));
    const own = perFold();
    const base = perFold();
    const mask = perFold();
    const auprc = perFold();
    const images = unitRows(contexts[0].imageEmbeddings!);
    const texts = unitRows(contexts[0].textEmbeddings!);
    const annotations = contexts[0].annotations;
    const presence = annotations ? annotationPresence(annotations) : undefined;
    for (let f = 0; f < o.folds; f++) {
      throwIfAborted(options.signal);
      progress('held-out', f, o.folds);
      const train = foldRows(assignment, f, false);
      const test = foldRows(assignment, f, true);
      const trained = await labelAll(
        labeler,
        contexts.map((context) => restrictContext(context, train)),
        run,
      );
      for (const [c, context] of contexts.entries()) {
        const K = context.activations.cols;
        const swap = K > 1 ? derangement(K, o.seed + 7919 * (f + 1)) : new Int32Array(K);
        const fold = await foldFigures(context, trained[c], test, swap, images, texts, presence);
        for (let k = 0; k < K; k++) {
          own[c][k].push(fold.own[k]);
          base[c][k].push(fold.baseline[k]);
          mask[c][k].push(fold.mask[k]);
          auprc[c][k].push(fold.auprc[k]);
        }
      }
    }
    progress('held-out', o.folds, o.folds);
    contexts.forEach((_, c) => {
      const perNeuron: number[] = [];
      const perBaseline: number[] = [];
      const perMask: number[] = [];
      const perAuprc: number[] = [];
      const clamp = (r: number) => Math.max(-1, Math.min(1, r));
      figures[c].neurons.forEach((trust, k) => {
        const rho = mean(own[c][k]);
        if (!trust || !Number.isFinite(rho)) return;
        const maskRho = mean(mask[c][k]);
        const ap = mean(auprc[c][k]);
        trust.heldOut = {
          correlation: clamp(rho),
          ...(Number.isFinite(maskRho) ? { maskCorrelation: clamp(maskRho) } : {}),
          ...(Number.isFinite(ap) ? { auprc: ap } : {}),
        };
        perNeuron.push(rho);
        perBaseline.push(mean(base[c][k]));
        if (Number.isFinite(maskRho)) perMask.push(maskRho);
        if (Number.isFinite(ap)) perAuprc.push(ap);
      });
      if (perNeuron.length > 0) {
        figures[c].layer.heldOut = {
          correlation: mean(perNeuron),
          baseline: mean(perBaseline),
          folds: o.folds,
          neurons: perNeuron.length,
          ...(perMask.length > 0
            ? { annotations: { correlation: mean(perMask), auprc: mean(perAuprc), neurons: perMask.length } }
            : {}),
        };
      }
    });
  }
  return { labels, trust: figures };
}
