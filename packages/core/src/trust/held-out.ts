import type { LabelerContext, LayerLabels, ProbeAnnotations } from '../interfaces';
import { matmulTransposed } from '../math/matmul';
import { throwIfAborted } from '../progress';
import type { Matrix } from '../tensor';
import { gatherRows, pearson } from './resample';

/** One fold's held-out figures of each neuron of a layer (NaN where a figure does not apply). */
export interface FoldFigures {
  /** Correlation of the activation with the label's CLIP presence. */
  readonly own: Float64Array;
  /** The same for the label of another neuron of the layer (the baseline). */
  readonly baseline: Float64Array;
  /** Correlation of the activation with the label's annotated share of the image (annotation labels only). */
  readonly mask: Float64Array;
  /** Average precision of ranking the held-out images by activation to find those showing the label. */
  readonly auprc: Float64Array;
}

/**
 * How much of each probe image every annotation label covers: 1 for an image-level label, the
 * fraction of pixels for a mask label. Decoded once per image, on first use.
 */
export interface AnnotationPresence {
  /** Whether `name` is one of the probe set's annotation labels. */
  has(name: string): boolean;
  /** The share of image `row` that shows label `name` (0 when absent). */
  of(row: number, name: string): Promise<number>;
}

/** Reads {@link AnnotationPresence} from a probe set's annotations. */
export function annotationPresence(annotations: ProbeAnnotations): AnnotationPresence {
  const names = new Set([...annotations.labels.values()].map((l) => l.name));
  const perImage = new Map<number, Map<string, number>>();
  return {
    has: (name) => names.has(name),
    async of(row, name) {
      let shares = perImage.get(row);
      if (!shares) {
        shares = new Map();
        const keep = (label: number, share: number) => {
          const n = annotations.labels.get(label)?.name;
          if (n !== undefined) shares!.set(n, Math.max(shares!.get(n) ?? 0, share));
        };
        for (const labels of Object.values(annotations.imageLabels(row)))
          for (const label of labels) keep(label, 1);
        for (const mask of await annotations.masks(row)) {
          const counts = new Map<number, number>();
          for (const label of mask.labels) if (label !== 0) counts.set(label, (counts.get(label) ?? 0) + 1);
          for (const [label, count] of counts) keep(label, count / (mask.width * mask.height));
        }
        perImage.set(row, shares);
      }
      return shares.get(name) ?? 0;
    },
  };
}

/** Average precision of `scores` at retrieving the positives (NaN without both classes). */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => scores[b] - scores[a] || a - b,
  );
  let hits = 0;
  let sum = 0;
  order.forEach((i, rank) => {
    if (!positive[i]) return;
    hits++;
    sum += hits / (rank + 1);
  });
  return hits === 0 || hits === scores.length ? Number.NaN : sum / hits;
}

/** Concepts whose CLIP presence is computed at once (held-out rows × this many floats). */
const PRESENCE_CHUNK = 512;

/**
 * The held-out figures of each neuron of `context` in one fold: labels `trained` chosen on the
 * other folds, measured on images `test`; `swap[k]` is the neuron whose label neuron k gets for the
 * baseline. `images` and `texts` are unit-length CLIP embeddings of all images and concepts.
 */
export async function foldFigures(
  context: LabelerContext,
  trained: LayerLabels,
  test: Int32Array,
  swap: Int32Array,
  images: Matrix,
  texts: Matrix,
  presence: AnnotationPresence | undefined,
): Promise<FoldFigures> {
  const K = context.activations.cols;
  const index = new Map<string, number>();
  context.concepts.forEach((concept, m) => {
    if (!index.has(concept)) index.set(concept, m);
  });
  const conceptOf = (k: number) => {
    const top = trained[k]?.[0];
    if (!top) return -1;
    if (top.concept !== undefined && context.concepts[top.concept] === top.label) return top.concept;
    return index.get(top.label) ?? -1;
  };
  const wanted = [...new Set(Array.from({ length: K }, (_, k) => conceptOf(k)).filter((m) => m >= 0))];
  const testImages = gatherRows(images, test);
  const clip = new Map<number, Float32Array>();
  const matmul = context.kernels?.matmul ?? matmulTransposed;
  for (let from = 0; from < wanted.length; from += PRESENCE_CHUNK) {
    throwIfAborted(context.signal);
    const ids = Int32Array.from(wanted.slice(from, from + PRESENCE_CHUNK));
    const product = await matmul(testImages, gatherRows(texts, ids));
    ids.forEach((m, c) => {
      const series = new Float32Array(test.length);
      for (let i = 0; i < test.length; i++) series[i] = product.data[i * ids.length + c];
      clip.set(m, series);
    });
  }
  const summaries = (k: number) => Float32Array.from(test, (row) => context.activations.data[row * K + k]);
  const clipCorrelation = (k: number, labelFrom: number) => {
    const m = conceptOf(labelFrom);
    return m < 0 ? Number.NaN : pearson(summaries(k), clip.get(m)!);
  };
  const own = new Float64Array(K);
  const baseline = new Float64Array(K);
  const mask = new Float64Array(K).fill(Number.NaN);
  const auprc = new Float64Array(K).fill(Number.NaN);
  for (let k = 0; k < K; k++) {
    own[k] = clipCorrelation(k, k);
    baseline[k] = K > 1 ? clipCorrelation(k, swap[k]) : Number.NaN;
    const label = trained[k]?.[0]?.label;
    if (presence && label !== undefined && presence.has(label)) {
      throwIfAborted(context.signal);
      const shares = new Float64Array(test.length);
      for (let i = 0; i < test.length; i++) shares[i] = await presence.of(test[i], label);
      const activation = summaries(k);
      mask[k] = pearson(activation, shares);
      auprc[k] = averagePrecision(
        activation,
        Array.from(shares, (s) => s > 0),
      );
    }
  }
  return { own, baseline, mask, auprc };
}
