import { ErrorCode, NeurodissectError } from '../errors';
import { softmaxRowInto } from '../math/softmax';
import { type OperationOptions, throwIfAborted } from '../progress';
import { createMatrix, type Matrix } from '../tensor';
import type { ScoreAccumulator } from './accumulator';
import { createCosAccumulator, createCosCubedAccumulator } from './cos';
import {
  COS_CUBED_DEFAULTS,
  checkInteger,
  checkNumber,
  RANK_REORDER_DEFAULTS,
  SIMILARITY_NAMES,
  type SimilarityName,
  type SimilarityOptionsByName,
  SOFT_WPMI_DEFAULTS,
  type SoftWpmiOptions,
  WPMI_DEFAULTS,
  type WpmiOptions,
  withTopKDefault,
} from './options';
import { createPmiAccumulator, softMembershipWeights } from './pmi';
import { createRankReorderAccumulator } from './rank-reorder';
import { type SimilaritySource, similarityFromMatrix } from './source';

/** Options of {@link scoreNeurons}. */
export interface ScoreOptions<F extends SimilarityName = SimilarityName> extends OperationOptions {
  /** Options of the similarity function. */
  options?: SimilarityOptionsByName[F];
  /** Images per streamed block. @defaultValue 256 */
  blockSize?: number;
}

function checkInputs(source: SimilaritySource, activations: Matrix): void {
  if (source.images !== activations.rows) {
    throw new NeurodissectError(
      ErrorCode.ShapeMismatch,
      `The activations cover ${activations.rows} images but the CLIP similarities cover ${source.images}; both must come from the same probe images in the same order.`,
      { details: { activations: activations.rows, clip: source.images } },
    );
  }
  if (activations.cols < 1)
    throw new NeurodissectError(ErrorCode.ShapeMismatch, 'The activations have no neurons.');
  if (source.concepts < 1)
    throw new NeurodissectError(ErrorCode.EmptyConceptSet, 'There are no concepts to score.');
}

function checkTopK(topK: number, images: number): number {
  checkInteger('topK', topK, 1);
  if (topK > images) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `topK is ${topK} but there are only ${images} images; choose topK ≤ ${images}.`,
      { details: { topK, images } },
    );
  }
  return topK;
}

/** Builds the streaming form of similarity function `fn`; the generator yields when it needs column means. */
function* planAccumulator(
  fn: SimilarityName,
  source: SimilaritySource,
  activations: Matrix,
  raw: object | undefined,
): Generator<'column-means', ScoreAccumulator, Float64Array> {
  const M = source.concepts;
  const N = activations.rows;
  switch (fn) {
    case 'soft_wpmi': {
      const o = withTopKDefault(SOFT_WPMI_DEFAULTS, raw as SoftWpmiOptions | undefined, N);
      checkTopK(o.topK, N);
      checkNumber('a', o.a);
      checkNumber('lambda', o.lambda);
      checkNumber('minProb', o.minProb, 0);
      checkNumber('pStart', o.pStart, 0, 1);
      checkNumber('pEnd', o.pEnd, 0, 1);
      return createPmiAccumulator(activations, M, {
        ...o,
        weights: softMembershipWeights(o.topK, o.pStart, o.pEnd),
      });
    }
    case 'wpmi': {
      const o = withTopKDefault(WPMI_DEFAULTS, raw as WpmiOptions | undefined, N);
      checkTopK(o.topK, N);
      checkNumber('a', o.a);
      checkNumber('lambda', o.lambda);
      checkNumber('minProb', o.minProb, 0);
      // log(p + minProb) is the soft-WPMI term with every membership weight equal to 1.
      return createPmiAccumulator(activations, M, { ...o, weights: new Float64Array(o.topK).fill(1) });
    }
    case 'cos':
      return createCosAccumulator(activations, M);
    case 'cos_cubed': {
      const o = { ...COS_CUBED_DEFAULTS, ...raw };
      checkNumber('minNorm', o.minNorm, 0);
      const means: Float64Array = yield 'column-means';
      return createCosCubedAccumulator(activations, M, means, o.minNorm);
    }
    case 'rank_reorder': {
      const o = { ...RANK_REORDER_DEFAULTS, ...raw };
      checkNumber('p', o.p, 0);
      checkNumber('topFraction', o.topFraction, 0, 1);
      checkNumber('scaleP', o.scaleP);
      checkInteger('seed', o.seed, 0, 2 ** 32 - 1);
      checkInteger('baselinePermutations', o.baselinePermutations, 1);
      return createRankReorderAccumulator(activations, M, o);
    }
    default:
      throw new RangeError(
        `Unknown similarity function "${String(fn)}"; use one of ${SIMILARITY_NAMES.join(', ')}.`,
      );
  }
}

/** Feeds one block of rows (softmaxed when the accumulator asks) to the accumulator. */
function feed(acc: ScoreAccumulator, images: Int32Array, rows: Matrix): void {
  if (rows.rows !== images.length) {
    throw new RangeError(`The similarity source returned ${rows.rows} rows for ${images.length} images.`);
  }
  if (acc.softmaxScale !== undefined) {
    const probs = createMatrix(rows.rows, rows.cols);
    for (let r = 0; r < rows.rows; r++)
      softmaxRowInto(rows.data, probs.data, r * rows.cols, rows.cols, acc.softmaxScale);
    acc.add(images, probs);
  } else {
    acc.add(images, rows);
  }
}

/**
 * Scores every neuron against every concept with similarity function `fn`, streaming rows of `P`
 * from `source` in blocks (only the rows the function needs), so the N×M matrix is never held.
 *
 * @param activations N×K summarised activations `q` (images × neurons).
 * @returns the K×M scores; the label of neuron k is the argmax of row k.
 */
export async function scoreNeurons<F extends SimilarityName>(
  fn: F,
  source: SimilaritySource,
  activations: Matrix,
  options: ScoreOptions<F> = {},
): Promise<Matrix> {
  checkInputs(source, activations);
  const plan = planAccumulator(fn, source, activations, options.options);
  let step = plan.next();
  while (!step.done) step = plan.next(await source.columnMeans());
  const acc = step.value;
  const blockSize = checkInteger('blockSize', options.blockSize ?? 256, 1);
  const total = acc.needed.length;
  for (let start = 0; start < total; start += blockSize) {
    throwIfAborted(options.signal);
    const images = acc.needed.subarray(start, Math.min(total, start + blockSize));
    feed(acc, images, await source.rows(images));
    options.onProgress?.({ stage: 'score', done: Math.min(total, start + blockSize), total });
  }
  throwIfAborted(options.signal);
  return acc.finish();
}

const SYNC_BLOCK = 256;

/** Synchronous {@link scoreNeurons} for a dense `P` already in memory. */
export function scoreNeuronsSync<F extends SimilarityName>(
  fn: F,
  clip: Matrix,
  activations: Matrix,
  options?: SimilarityOptionsByName[F],
): Matrix {
  const source = similarityFromMatrix(clip);
  checkInputs(source, activations);
  const plan = planAccumulator(fn, source, activations, options);
  let step = plan.next();
  while (!step.done) step = plan.next(source.columnMeans() as Float64Array);
  const acc = step.value;
  for (let start = 0; start < acc.needed.length; start += SYNC_BLOCK) {
    const images = acc.needed.subarray(start, start + SYNC_BLOCK);
    feed(acc, images, source.rows(images) as Matrix);
  }
  return acc.finish();
}
