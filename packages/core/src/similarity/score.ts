import { ErrorCode, NeurodissectError } from '../errors';
import { type OperationOptions, throwIfAborted } from '../progress';
import type { Matrix } from '../tensor';
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
} from './options';
import {
  isPmiFunction,
  type PmiFunction,
  type PmiProcessorFactory,
  scorePmiLayers,
  scorePmiSync,
} from './pmi-engine';
import { createRankReorderAccumulator } from './rank-reorder';
import { type SimilaritySource, similarityFromMatrix } from './source';

/** Options of {@link scoreNeurons}. */
export interface ScoreOptions<F extends SimilarityName = SimilarityName> extends OperationOptions {
  /** Options of the similarity function. */
  options?: SimilarityOptionsByName[F];
  /** Images per streamed block. @defaultValue 256 */
  blockSize?: number;
  /**
   * Where soft-WPMI's and WPMI's per-block work runs (e.g. a runtime's `pmiProcessor`, worker
   * threads). @defaultValue the single-thread WebAssembly kernel
   */
  processor?: PmiProcessorFactory;
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

/** Builds the streaming form of similarity function `fn`; the generator yields when it needs column means. */
function* planAccumulator(
  fn: SimilarityName,
  source: SimilaritySource,
  activations: Matrix,
  raw: object | undefined,
): Generator<'column-means', ScoreAccumulator, Float64Array> {
  const M = source.concepts;
  switch (fn) {
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
      // soft_wpmi and wpmi never get here: they run on the streaming engine.
      throw new RangeError(
        `Unknown similarity function "${String(fn)}"; use one of ${SIMILARITY_NAMES.join(', ')}.`,
      );
  }
}

/** Feeds one block of rows to the accumulator. */
function feed(acc: ScoreAccumulator, images: Int32Array, rows: Matrix): void {
  if (rows.rows !== images.length) {
    throw new RangeError(`The similarity source returned ${rows.rows} rows for ${images.length} images.`);
  }
  acc.add(images, rows);
}

/**
 * Scores every neuron against every concept with similarity function `fn`, streaming rows of `P`
 * from `source` in blocks (only the rows the function needs), so the N×M matrix is never held.
 * Soft-WPMI and WPMI run on the streaming engine ({@link scorePmiLayers}) with `options.processor`.
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
  const blockSize = checkInteger('blockSize', options.blockSize ?? 256, 1);
  if (isPmiFunction(fn)) {
    let scores: Matrix | undefined;
    await scorePmiLayers(source, [{ name: 'layer', activations }], {
      fn,
      options: options.options as SimilarityOptionsByName[PmiFunction] | undefined,
      blockRows: blockSize,
      processor: options.processor,
      signal: options.signal,
      onProgress: options.onProgress,
      onLayer: (_, layerScores) => {
        scores = layerScores;
      },
    });
    return scores!;
  }
  const plan = planAccumulator(fn, source, activations, options.options);
  let step = plan.next();
  while (!step.done) step = plan.next(await source.columnMeans());
  const acc = step.value;
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
  if (isPmiFunction(fn)) {
    return scorePmiSync(
      source,
      { name: 'layer', activations },
      { fn, options: options as SimilarityOptionsByName[PmiFunction] | undefined, blockRows: SYNC_BLOCK },
    );
  }
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
