import type { LabelerContext, ProbeAnnotations } from '../interfaces';
import { createRandom, randomPermutation } from '../math/random';
import { type ColumnTopK, createColumnTopK } from '../math/top-k';
import { createMatrix, type Matrix } from '../tensor';

/** Rows `rows` of `matrix`, in that order (a row may repeat). */
export function gatherRows(matrix: Matrix, rows: Int32Array): Matrix {
  const out = createMatrix(rows.length, matrix.cols);
  for (let r = 0; r < rows.length; r++) {
    const from = rows[r] * matrix.cols;
    out.data.set(matrix.data.subarray(from, from + matrix.cols), r * matrix.cols);
  }
  return out;
}

/** Annotations of images `rows` of the context, indexed by position in `rows`. */
export function gatherAnnotations(annotations: ProbeAnnotations, rows: Int32Array): ProbeAnnotations {
  return {
    labels: annotations.labels,
    imageLabels: (index) => annotations.imageLabels(rows[index]),
    masks: (index, options) => annotations.masks(rows[index], options),
  };
}

/**
 * Where row `i` of `context` comes from: the unrestricted context and its row (itself and `i` for a
 * context that is no restriction).
 */
export function originalRow(context: LabelerContext, i: number): { context: LabelerContext; row: number } {
  const from = context.restrictedFrom;
  return from ? { context: from.context, row: from.rows[i] } : { context, row: i };
}

/**
 * The context a labeler would see if the probe set held only images `rows` (in that order, with
 * repeats for a bootstrap resample): the summaries and image embeddings of those rows, their
 * annotations. One copy of those rows at a time; activation maps are not carried (labelers that
 * need them get no trust figures).
 */
export function restrictContext(context: LabelerContext, rows: Int32Array): LabelerContext {
  // A restriction of a restriction is a restriction of the original.
  const from = context.restrictedFrom;
  const original = from ? from.context : context;
  const originalRows = from ? Int32Array.from(rows, (r) => from.rows[r]) : rows;
  // The rows are gathered when a labeler first reads them: one that works from `restrictedFrom`
  // (CLIP-Dissect's soft-WPMI weights the original rows) never copies them.
  let activations: Matrix | undefined;
  let imageEmbeddings: Matrix | undefined;
  const restricted: LabelerContext = {
    restrictedFrom: { context: original, rows: originalRows },
    layer: context.layer,
    concepts: context.concepts,
    get activations() {
      activations ??= gatherRows(context.activations, rows);
      return activations;
    },
    get imageEmbeddings() {
      if (!context.imageEmbeddings) return undefined;
      imageEmbeddings ??= gatherRows(context.imageEmbeddings, rows);
      return imageEmbeddings;
    },
    textEmbeddings: context.textEmbeddings,
    annotations: context.annotations && gatherAnnotations(context.annotations, rows),
    kernels: context.kernels,
    signal: context.signal,
    onProgress: context.onProgress,
  };
  return restricted;
}

/** How many times each row of a context of `size` rows appears in `rows`. */
export function rowCounts(rows: Int32Array, size: number): Int32Array {
  const counts = new Int32Array(size);
  for (const r of rows) counts[r]++;
  return counts;
}

/**
 * The top-k of each column of `matrix` over the multiset of its rows given by `counts` (a row
 * appearing c times fills up to c consecutive places), read in blocks so that no copy of the
 * matrix is made: what `topKPerColumn` gives on the gathered rows, without gathering them.
 * Undefined when fewer than `k` rows are present.
 */
export function weightedTopKPerColumn(matrix: Matrix, counts: Int32Array, k: number): ColumnTopK | undefined {
  let present = 0;
  for (const c of counts) if (c > 0) present++;
  if (present < k) return undefined;
  const acc = createColumnTopK(matrix.cols, k);
  const block = 256;
  const masked = createMatrix(block, matrix.cols);
  for (let start = 0; start < matrix.rows; start += block) {
    const rows = Math.min(block, matrix.rows - start);
    const view = rows === block ? masked : createMatrix(rows, matrix.cols);
    view.data.set(matrix.data.subarray(start * matrix.cols, (start + rows) * matrix.cols));
    for (let r = 0; r < rows; r++)
      if (counts[start + r] === 0) view.data.fill(Number.NaN, r * matrix.cols, (r + 1) * matrix.cols);
    acc.add(view, start);
  }
  const distinct = acc.finish();
  const indices = new Int32Array(matrix.cols * k);
  const values = new Float32Array(matrix.cols * k);
  for (let c = 0; c < matrix.cols; c++) {
    let filled = 0;
    for (let j = 0; j < k && filled < k; j++) {
      const row = distinct.indices[c * k + j];
      for (let t = 0; t < counts[row] && filled < k; t++, filled++) {
        indices[c * k + filled] = row;
        values[c * k + filled] = distinct.values[c * k + j];
      }
    }
  }
  return { k, columns: matrix.cols, indices, values };
}

/** Resample `b` of a bootstrap of `images` images (seeded): N draws with replacement, ascending. */
export function bootstrapRows(images: number, seed: number, b: number): Int32Array {
  const random = createRandom((Math.imul(seed >>> 0, 0x27d4eb2d) ^ Math.imul(b + 1, 0x165667b1)) >>> 0);
  const counts = new Int32Array(images);
  for (let i = 0; i < images; i++) counts[Math.floor(random() * images)]++;
  const rows = new Int32Array(images);
  let at = 0;
  for (let i = 0; i < images; i++) for (let c = 0; c < counts[i]; c++) rows[at++] = i;
  return rows;
}

/**
 * A seeded split of `images` images into `folds` folds of near-equal size: the fold of each image.
 */
export function foldAssignment(images: number, folds: number, seed: number): Int32Array {
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError(`Give at least 2 folds, got ${folds}.`);
  if (images < folds) throw new RangeError(`${images} images cannot be split into ${folds} folds.`);
  const order = randomPermutation(images, createRandom((seed ^ 0x5bd1e995) >>> 0));
  const fold = new Int32Array(images);
  order.forEach((image, position) => {
    fold[image] = position % folds;
  });
  return fold;
}

/** The images of fold `f` (`inFold`) or of every other fold, ascending. */
export function foldRows(assignment: Int32Array, f: number, inFold: boolean): Int32Array {
  const rows: number[] = [];
  assignment.forEach((fold, image) => {
    if ((fold === f) === inFold) rows.push(image);
  });
  return Int32Array.from(rows);
}

/** A seeded derangement of `0..n-1` (no element stays in place; n ≥ 2): Sattolo's cycle. */
export function derangement(n: number, seed: number): Int32Array {
  const random = createRandom((seed ^ 0x68e31da4) >>> 0);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * i);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

/** Pearson correlation of two equal-length series (NaN when either is constant). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : Number.NaN;
}
