import { disposedError, ErrorCode, NeurodissectError } from '../errors';
import {
  accumulatePmiBlock,
  createPmiMemory,
  instantiatePmiKernel,
  type PmiMemoryLayout,
  planPmiMemory,
} from '../kernels/pmi-wasm';
import { type ColumnTopK, topKPerColumn } from '../math/top-k';
import { now, type WasmMemory } from '../platform';
import { type OperationOptions, throwIfAborted } from '../progress';
import { createMatrix, type Matrix } from '../tensor';
import {
  checkInteger,
  checkNumber,
  SOFT_WPMI_DEFAULTS,
  type SoftWpmiOptions,
  WPMI_DEFAULTS,
  type WpmiOptions,
  withTopKDefault,
} from './options';
import type { SimilaritySource } from './source';

/** The two PMI similarity functions the engine computes. */
export type PmiFunction = 'soft_wpmi' | 'wpmi';

/** Whether similarity function `fn` runs on this engine (soft-WPMI or WPMI). */
export function isPmiFunction(fn: string): fn is PmiFunction {
  return fn === 'soft_wpmi' || fn === 'wpmi';
}

/** Soft-WPMI's or WPMI's parameters, checked and with defaults applied (see {@link resolvePmiParameters}). */
export interface PmiParameters {
  readonly fn: PmiFunction;
  readonly topK: number;
  /** The softmax temperature `a`. */
  readonly a: number;
  readonly lambda: number;
  readonly minProb: number;
  /** Membership weight π_j of the image at position j of a neuron's top-k (WPMI: all 1). */
  readonly weights: Float64Array;
}

/**
 * The one place soft-WPMI's and WPMI's options are checked and completed: reference defaults, a
 * default `topK` capped at the number of images (an explicit one above it is an error), finite
 * `a` and `lambda`, `minProb > 0` (it keeps the log finite), memberships in [0, 1].
 */
export function resolvePmiParameters(
  fn: PmiFunction,
  options: SoftWpmiOptions | WpmiOptions | undefined,
  images: number,
): PmiParameters {
  if (!isPmiFunction(fn)) {
    throw new RangeError(`The PMI engine computes soft_wpmi and wpmi, not "${String(fn)}".`);
  }
  const o =
    fn === 'soft_wpmi'
      ? withTopKDefault(SOFT_WPMI_DEFAULTS, options as SoftWpmiOptions | undefined, images)
      : { pStart: 1, pEnd: 1, ...withTopKDefault(WPMI_DEFAULTS, options as WpmiOptions | undefined, images) };
  checkInteger('topK', o.topK, 1);
  if (o.topK > images) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `topK is ${o.topK} but there are only ${images} images; choose topK ≤ ${images}.`,
      { details: { topK: o.topK, images } },
    );
  }
  checkNumber('a', o.a);
  checkNumber('lambda', o.lambda);
  checkNumber('minProb', o.minProb, Number.MIN_VALUE);
  checkNumber('pStart', o.pStart, 0, 1);
  checkNumber('pEnd', o.pEnd, 0, 1);
  return {
    fn,
    topK: o.topK,
    a: o.a,
    lambda: o.lambda,
    minProb: o.minProb,
    weights:
      fn === 'soft_wpmi' ? softMembershipWeights(o.topK, o.pStart, o.pEnd) : new Float64Array(o.topK).fill(1),
  };
}

/** π_j = pStart − (j/topK)·(pStart − pEnd), j = 0..topK-1. */
export function softMembershipWeights(topK: number, pStart: number, pEnd: number): Float64Array {
  const weights = new Float64Array(topK);
  for (let j = 0; j < topK; j++) weights[j] = pStart - (j / topK) * (pStart - pEnd);
  return weights;
}

/**
 * For each image that is among some neuron's top-k: the (neuron, position) slots it fills, as a
 * compressed row list. Lets one streamed row serve every neuron that holds that image.
 */
export interface SlotIndex {
  /** Images that fill at least one slot, ascending. */
  images: Int32Array;
  /** Slots of `images[r]` are `slots[offsets[r] .. offsets[r+1])`. */
  offsets: Int32Array;
  /** Each slot as `neuron * topK + position`. */
  slots: Int32Array;
}

/** Builds the {@link SlotIndex} of the per-neuron top-k image lists (`K × topK`, flat). */
export function buildSlotIndex(
  topIndices: Int32Array,
  neurons: number,
  topK: number,
  images: number,
): SlotIndex {
  const counts = new Int32Array(images);
  for (let s = 0; s < neurons * topK; s++) counts[topIndices[s]]++;
  let used = 0;
  for (let i = 0; i < images; i++) if (counts[i] > 0) used++;
  const imageList = new Int32Array(used);
  const offsets = new Int32Array(used + 1);
  const rowOf = new Int32Array(images).fill(-1);
  let r = 0;
  for (let i = 0; i < images; i++) {
    if (counts[i] > 0) {
      imageList[r] = i;
      rowOf[i] = r;
      offsets[r + 1] = offsets[r] + counts[i];
      r++;
    }
  }
  const fill = offsets.slice(0, used);
  const slots = new Int32Array(neurons * topK);
  for (let s = 0; s < neurons * topK; s++) slots[fill[rowOf[topIndices[s]]]++] = s;
  return { images: imageList, offsets, slots };
}

/** What a block processor needs to know: every neuron's top-k images and the PMI parameters. */
export interface PmiPlan {
  /** Neurons of all layers, concatenated. */
  readonly neurons: number;
  readonly concepts: number;
  readonly topK: number;
  /** The softmax temperature `a`. */
  readonly a: number;
  readonly minProb: number;
  /** π_j per position. */
  readonly weights: Float64Array;
  /** Which (neuron, position) slots each needed image fills. */
  readonly slots: SlotIndex;
  /** Images per block. */
  readonly blockRows: number;
}

/** Per-neuron sums `L[k,m]` in float64 with row stride `stride` (≥ M). */
export interface PmiSums {
  readonly data: Float64Array;
  readonly stride: number;
}

/**
 * Turns blocks of raw cosines into soft-WPMI sums: softmax per image, then `ln(1 + π(p−1) + minProb)`
 * into the rows of the neurons whose top-k hold the image. Implementations differ in where the
 * work runs (this thread, worker threads, another machine) and must agree to float rounding.
 */
export interface PmiBlockProcessor {
  /**
   * Processes rows `cursor .. cursor+rows` of the plan's needed images; `cosines` holds their raw
   * cosines, `rows × M`, row-major.
   */
  process(cursor: number, rows: number, cosines: Float32Array): Promise<void>;
  /** The sums accumulated so far (a view; valid until `dispose`). */
  sums(): Promise<PmiSums>;
  /** Releases memory and threads; idempotent. */
  dispose(): Promise<void>;
}

/** Creates a processor for a plan. */
export type PmiProcessorFactory = (plan: PmiPlan) => Promise<PmiBlockProcessor>;

/** `(c_j, w_j)` per position: `c_j = 1 − π_j + minProb` (float32), `w_j = π_j`. */
export function pmiCoefficients(weights: Float64Array, minProb: number): Float32Array {
  const cw = new Float32Array(weights.length * 2);
  weights.forEach((w, j) => {
    cw[2 * j] = 1 - w + minProb;
    cw[2 * j + 1] = w;
  });
  return cw;
}

/** Copies `rows × concepts` cosines into the kernel's block at row stride `stride`, padding with -1e30 (softmax weight 0). */
export function writeBlockRows(
  memory: ArrayBuffer,
  layout: PmiMemoryLayout,
  rows: number,
  cosines: Float32Array,
): void {
  const view = new Float32Array(memory, layout.rowsOffset, layout.blockRows * layout.stride);
  const M = layout.concepts;
  if (layout.stride === M) {
    view.set(cosines.subarray(0, rows * M));
    return;
  }
  for (let r = 0; r < rows; r++) {
    view.set(cosines.subarray(r * M, (r + 1) * M), r * layout.stride);
    view.fill(-1e30, r * layout.stride + M, (r + 1) * layout.stride);
  }
}

/** A {@link PmiBlockProcessor} whose work is synchronous (the single-thread WebAssembly kernel). */
export interface SyncPmiBlockProcessor {
  process(cursor: number, rows: number, cosines: Float32Array): void;
  sums(): PmiSums;
  dispose(): void;
}

function disposed(): never {
  throw disposedError('scoring processor', 'create a new one');
}

/** The SIMD WebAssembly kernel on the calling thread, synchronously (see {@link createWasmPmiProcessor}). */
export function createSyncWasmPmiProcessor(plan: PmiPlan): SyncPmiBlockProcessor {
  const layout = planPmiMemory(plan.neurons, plan.concepts, plan.blockRows);
  let memory: WasmMemory | undefined = createPmiMemory(layout);
  const kernel = instantiatePmiKernel(memory);
  const cw = pmiCoefficients(plan.weights, plan.minProb);
  return {
    process(cursor, rows, cosines) {
      if (!memory) disposed();
      writeBlockRows(memory.buffer, layout, rows, cosines);
      kernel.softmax_rows(layout.rowsOffset, rows, layout.stride, plan.a, layout.normsOffset);
      accumulatePmiBlock(
        kernel,
        memory.buffer,
        layout,
        plan.slots.offsets,
        plan.slots.slots,
        cursor,
        rows,
        plan.topK,
        0,
        plan.neurons,
        cw,
      );
    },
    sums() {
      if (!memory) disposed();
      return {
        data: new Float64Array(memory.buffer, layout.accOffset, plan.neurons * layout.stride),
        stride: layout.stride,
      };
    },
    dispose() {
      memory = undefined;
    },
  };
}

/**
 * The SIMD WebAssembly processor on the calling thread: the default everywhere a runtime offers
 * no faster one (browsers, and Node without worker threads). Works in Node and browsers.
 */
export async function createWasmPmiProcessor(plan: PmiPlan): Promise<PmiBlockProcessor> {
  const sync = createSyncWasmPmiProcessor(plan);
  return {
    process: async (cursor, rows, cosines) => sync.process(cursor, rows, cosines),
    sums: async () => sync.sums(),
    dispose: async () => sync.dispose(),
  };
}

/** One layer to score: its name and either its N×K activations or their precomputed top-k. */
export interface PmiLayerInput {
  name: string;
  /** N×K summarised activations (top-k is taken from them)… */
  activations?: Matrix;
  /** …or the top-k per neuron already taken (e.g. with heaps while streaming the probe set). */
  top?: ColumnTopK;
}

/** Options of {@link planPmiLayers}. */
export interface PlanPmiOptions {
  /** `'soft_wpmi'` (default) or `'wpmi'`. */
  fn?: 'soft_wpmi' | 'wpmi';
  options?: SoftWpmiOptions | WpmiOptions;
  /** Images per block. @defaultValue 256 */
  blockRows?: number;
}

/** A planned multi-layer PMI run: what to stream, and where each layer's neurons are. */
export interface PmiLayersPlan extends PmiPlan {
  readonly lambda: number;
  /** Each layer's name, first neuron (in the concatenation) and neuron count. */
  readonly layers: readonly { name: string; first: number; count: number }[];
}

/** Takes every layer's top-k and indexes which slots each image fills. */
export function planPmiLayers(
  source: SimilaritySource,
  layers: readonly PmiLayerInput[],
  options: PlanPmiOptions = {},
): PmiLayersPlan {
  const o = resolvePmiParameters(options.fn ?? 'soft_wpmi', options.options, source.images);
  const blockRows = checkInteger('blockRows', options.blockRows ?? 256, 1);
  if (layers.length === 0) throw new RangeError('Give at least one layer to score.');
  if (source.concepts < 1)
    throw new NeurodissectError(ErrorCode.EmptyConceptSet, 'There are no concepts to score.');

  const tops = layers.map((layer) => {
    if (layer.top) {
      if (layer.top.k !== o.topK) {
        throw new RangeError(
          `Layer ${layer.name}: its top-k holds ${layer.top.k} images per neuron, topK is ${o.topK}.`,
        );
      }
      return layer.top;
    }
    if (!layer.activations) throw new RangeError(`Layer ${layer.name}: give its activations or its top-k.`);
    if (layer.activations.rows !== source.images) {
      throw new NeurodissectError(
        ErrorCode.ShapeMismatch,
        `Layer ${layer.name} has activations for ${layer.activations.rows} images but the CLIP similarities cover ${source.images}; both must come from the same probe images in the same order.`,
      );
    }
    return topKPerColumn(layer.activations, o.topK);
  });
  const neurons = tops.reduce((n, t) => n + t.columns, 0);
  const indices = new Int32Array(neurons * o.topK);
  const placed: { name: string; first: number; count: number }[] = [];
  let first = 0;
  tops.forEach((top, l) => {
    indices.set(top.indices, first * o.topK);
    placed.push({ name: layers[l].name, first, count: top.columns });
    first += top.columns;
  });
  return {
    neurons,
    concepts: source.concepts,
    topK: o.topK,
    a: o.a,
    minProb: o.minProb,
    lambda: o.lambda,
    weights: o.weights,
    slots: buildSlotIndex(indices, neurons, o.topK, source.images),
    blockRows,
    layers: placed,
  };
}

/**
 * {@link scorePmiLayers} for one layer, synchronously, on the single-thread WebAssembly kernel:
 * for sources whose rows are synchronous (a dense `P` already in memory,
 * {@link @neurodissect/core!similarityFromMatrix | similarityFromMatrix}). Behind {@link @neurodissect/core!softWpmi | softWpmi} and {@link @neurodissect/core!wpmi | wpmi}.
 */
export function scorePmiSync(
  source: SimilaritySource,
  layer: PmiLayerInput,
  options: PlanPmiOptions = {},
): Matrix {
  const plan = planPmiLayers(source, [layer], options);
  const processor = createSyncWasmPmiProcessor(plan);
  try {
    const total = plan.slots.images.length;
    for (let cursor = 0; cursor < total; cursor += plan.blockRows) {
      const rows = Math.min(plan.blockRows, total - cursor);
      const block = source.rows(plan.slots.images.subarray(cursor, cursor + rows));
      if ('then' in block) {
        throw new TypeError('scorePmiSync needs a source with synchronous rows; use scorePmiLayers.');
      }
      processor.process(cursor, rows, block.data);
    }
    return pmiScoresFromStrided(processor.sums(), 0, plan.neurons, plan.concepts, plan.lambda);
  } finally {
    processor.dispose();
  }
}

/** Options of {@link streamPmi}. */
export interface StreamPmiOptions extends OperationOptions {
  /** Positions in `plan.slots.images` to stream: an image shard. @defaultValue all */
  from?: number;
  to?: number;
  /**
   * Compute the next block's similarities while this block is accumulated. Faster when the
   * product and the accumulation run on different cores; on a machine where both already use
   * every core, running them one after the other avoids oversubscription. @defaultValue true
   */
  overlap?: boolean;
}

/** Time spent by {@link streamPmi}, in milliseconds. */
export interface PmiStreamTimings {
  /** Waiting for rows of `P` (matrix products not hidden behind accumulation). */
  similarities: number;
  /** Softmax and log-accumulate. */
  accumulate: number;
}

/**
 * Streams the plan's needed images (or the shard `from .. to` of them) through `processor`: rows of
 * `P` come from `source` block by block, the next block's product overlapping this block's work.
 * Image shards streamed into separate processors merge with {@link mergePmiSums}.
 */
export async function streamPmi(
  source: SimilaritySource,
  plan: PmiPlan,
  processor: PmiBlockProcessor,
  options: StreamPmiOptions = {},
): Promise<PmiStreamTimings> {
  const total = plan.slots.images.length;
  const from = options.from ?? 0;
  const to = Math.min(options.to ?? total, total);
  const timings = { similarities: 0, accumulate: 0 };
  const overlap = options.overlap ?? true;
  const fetch = (cursor: number) =>
    Promise.resolve(source.rows(plan.slots.images.subarray(cursor, Math.min(to, cursor + plan.blockRows))));
  let next = from < to ? fetch(from) : undefined;
  try {
    for (let cursor = from; cursor < to; cursor += plan.blockRows) {
      throwIfAborted(options.signal);
      const rows = Math.min(plan.blockRows, to - cursor);
      let t = now();
      const cosines = await next!;
      const more = cursor + plan.blockRows < to;
      next = more && overlap ? fetch(cursor + plan.blockRows) : undefined;
      timings.similarities += now() - t;
      t = now();
      await processor.process(cursor, rows, cosines.data);
      timings.accumulate += now() - t;
      if (more && !overlap) next = fetch(cursor + plan.blockRows);
      options.onProgress?.({ stage: 'score', done: cursor + rows - from, total: to - from });
    }
  } finally {
    // A block fetched ahead of a failure must not reject unobserved.
    next?.catch(() => {});
  }
  return timings;
}

/** Adds the partial sums of image shards (float64; exact up to the order of additions). */
export function mergePmiSums(parts: readonly PmiSums[]): PmiSums {
  if (parts.length === 0) throw new RangeError('Nothing to merge.');
  const { stride } = parts[0];
  const data = new Float64Array(parts[0].data.length);
  for (const part of parts) {
    if (part.stride !== stride || part.data.length !== data.length)
      throw new RangeError('Partial sums of different plans cannot be merged.');
    for (let i = 0; i < data.length; i++) data[i] += part.data[i];
  }
  return { data, stride };
}

/** Options of {@link scorePmiLayers}. */
export interface ScorePmiLayersOptions extends PlanPmiOptions, OperationOptions {
  /** Where the per-block work runs. @defaultValue {@link createWasmPmiProcessor} */
  processor?: PmiProcessorFactory;
  /** See {@link StreamPmiOptions.overlap}. @defaultValue true */
  overlap?: boolean;
  /** Receives each layer's K×M scores as soon as they are ready (then they may be dropped). */
  onLayer?: (layer: string, scores: Matrix) => void | Promise<void>;
  /**
   * Pseudo-neurons of a permutation null (random top-k image lists, see
   * {@link @neurodissect/core!createPermutationNull | createPermutationNull}), scored in the same
   * pass: their sums do not depend on the layer, so one set serves every layer, each with its own
   * prior over its real neurons.
   */
  nullTop?: ColumnTopK;
  /** Receives, per layer, each pseudo-neuron's best score under that layer's prior. */
  onNull?: (layer: string, best: Float64Array) => void | Promise<void>;
}

/** Timings of a {@link scorePmiLayers} run, in milliseconds. */
export interface PmiTimings extends PmiStreamTimings {
  /** Taking each neuron's top-k and planning. */
  topK: number;
  /** Priors and final scores. */
  finish: number;
  /** Images whose rows were needed (in some neuron's top-k). */
  neededImages: number;
}

/**
 * Soft-WPMI (or WPMI) for several layers in one streaming pass over the images: rows of `P` are
 * fetched (a matrix product for embeddings) only for images in some neuron's top-k, and each row
 * serves every neuron of every layer that holds the image. The prior is then taken per layer, so
 * each layer's scores equal scoring that layer alone. Never holds the N×M matrix.
 */
export async function scorePmiLayers(
  source: SimilaritySource,
  layers: readonly PmiLayerInput[],
  options: ScorePmiLayersOptions = {},
): Promise<PmiTimings> {
  let t = now();
  const nullTop = options.nullTop;
  const plan = planPmiLayers(
    source,
    nullTop ? [...layers, { name: NULL_LAYER, top: nullTop }] : layers,
    options,
  );
  const topK = now() - t;
  const processor = await (options.processor ?? createWasmPmiProcessor)(plan);
  try {
    const streamed = await streamPmi(source, plan, processor, options);
    t = now();
    const sums = await processor.sums();
    const pseudo = nullTop ? plan.layers[plan.layers.length - 1] : undefined;
    for (const layer of pseudo ? plan.layers.slice(0, -1) : plan.layers) {
      const prior = pmiPriorPartial(sums, layer.first, layer.count, plan.concepts);
      await options.onLayer?.(
        layer.name,
        pmiScoresWithPrior(sums, layer.first, layer.count, plan.concepts, plan.lambda, prior),
      );
      if (pseudo) {
        await options.onNull?.(
          layer.name,
          pmiBestWithPrior(sums, pseudo.first, pseudo.count, plan.concepts, plan.lambda, prior),
        );
      }
    }
    return { ...streamed, topK, finish: now() - t, neededImages: plan.slots.images.length };
  } finally {
    await processor.dispose();
  }
}

/** One range of a layer's neurons scored in the first of two steps (see {@link scorePmiPart}). */
export interface PmiPart {
  /** K×M `L = log p(t | neuron)`, stored as float32 as scoring does before the prior. */
  readonly logProbs: Matrix;
  /** These neurons' contribution to the layer's prior. */
  readonly prior: PriorPartial;
  /** The prior's weight λ. */
  readonly lambda: number;
}

/**
 * Step 1 of a layer scored in neuron ranges (on several machines): `activations` holds some of the
 * layer's neurons; returns their `L` and prior partial. Step 2 merges the ranges' partials
 * ({@link mergePriorPartials}) and takes each range's scores with {@link pmiPartScores}; the result
 * equals scoring the whole layer at once.
 */
export async function scorePmiPart(
  source: SimilaritySource,
  activations: Matrix,
  options: ScorePmiLayersOptions = {},
): Promise<PmiPart> {
  const plan = planPmiLayers(source, [{ name: 'part', activations }], options);
  const processor = await (options.processor ?? createWasmPmiProcessor)(plan);
  try {
    await streamPmi(source, plan, processor, options);
    const sums = await processor.sums();
    const logProbs = createMatrix(plan.neurons, plan.concepts);
    for (let k = 0; k < plan.neurons; k++) {
      for (let m = 0; m < plan.concepts; m++)
        logProbs.data[k * plan.concepts + m] = sums.data[k * sums.stride + m];
    }
    return { logProbs, prior: pmiPriorPartial(sums, 0, plan.neurons, plan.concepts), lambda: plan.lambda };
  } finally {
    await processor.dispose();
  }
}

/** Step 2: a range's final scores given its layer's merged prior partial. */
export function pmiPartScores(logProbs: Matrix, lambda: number, prior: PriorPartial): Matrix {
  return pmiScoresWithPrior(
    { data: Float64Array.from(logProbs.data), stride: logProbs.cols },
    0,
    logProbs.rows,
    logProbs.cols,
    lambda,
    prior,
  );
}

/** A neuron shard's contribution to a layer's concept prior: per concept, `max_k L` and `Σ_k exp(L − max)`. */
export interface PriorPartial {
  readonly max: Float64Array;
  readonly sumExp: Float64Array;
  /** Neurons covered. */
  readonly count: number;
}

/** The prior partial of neurons `first .. first+count` of `sums` (values stored as float32 first, as in scoring). */
export function pmiPriorPartial(sums: PmiSums, first: number, count: number, concepts: number): PriorPartial {
  const max = new Float64Array(concepts).fill(Number.NEGATIVE_INFINITY);
  const sumExp = new Float64Array(concepts);
  for (let k = 0; k < count; k++) {
    const base = (first + k) * sums.stride;
    for (let m = 0; m < concepts; m++) max[m] = Math.max(max[m], Math.fround(sums.data[base + m]));
  }
  for (let k = 0; k < count; k++) {
    const base = (first + k) * sums.stride;
    for (let m = 0; m < concepts; m++) sumExp[m] += Math.exp(Math.fround(sums.data[base + m]) - max[m]);
  }
  return { max, sumExp, count };
}

/** Merges the prior partials of the neuron shards of one layer (a streaming logsumexp). */
export function mergePriorPartials(parts: readonly PriorPartial[]): PriorPartial {
  if (parts.length === 0) throw new RangeError('Nothing to merge.');
  const concepts = parts[0].max.length;
  const max = new Float64Array(concepts).fill(Number.NEGATIVE_INFINITY);
  const sumExp = new Float64Array(concepts);
  for (const part of parts) for (let m = 0; m < concepts; m++) max[m] = Math.max(max[m], part.max[m]);
  for (const part of parts) {
    for (let m = 0; m < concepts; m++) sumExp[m] += part.sumExp[m] * Math.exp(part.max[m] - max[m]);
  }
  return { max, sumExp, count: parts.reduce((n, p) => n + p.count, 0) };
}

/**
 * Final scores `sim = L − λ·log p(t)` of neurons `first .. first+count` given their layer's
 * (merged) prior partial: `log p(t_m) = max_m + ln(sumExp_m) − ln K`.
 */
export function pmiScoresWithPrior(
  sums: PmiSums,
  first: number,
  count: number,
  concepts: number,
  lambda: number,
  prior: PriorPartial,
): Matrix {
  const out = createMatrix(count, concepts);
  const logK = Math.log(prior.count);
  const shift = new Float32Array(concepts);
  for (let m = 0; m < concepts; m++)
    shift[m] = lambda * Math.fround(prior.max[m] + Math.log(prior.sumExp[m]) - logK);
  for (let k = 0; k < count; k++) {
    const base = (first + k) * sums.stride;
    for (let m = 0; m < concepts; m++)
      out.data[k * concepts + m] = Math.fround(sums.data[base + m]) - shift[m];
  }
  return out;
}

/** The name the null's pseudo-neurons go by inside a plan (never a layer's: it holds a NUL). */
const NULL_LAYER = '\u0000null';

/**
 * Each of neurons `first .. first+count`'s best score under another set of neurons' prior, as if
 * it were one of them: a permutation null's pseudo-neurons scored against a real layer. Pseudo-
 * neuron r joins the layer's prior, `log p_r(t_m) = logsumexp(L_layer[:,m], L_r[m]) − log(K+1)`,
 * exactly as each real neuron is part of the prior its own score divides by; without its own
 * share the null would sit above the real neurons and the p-values would be conservative. Never
 * holds their K×M scores.
 */
export function pmiBestWithPrior(
  sums: PmiSums,
  first: number,
  count: number,
  concepts: number,
  lambda: number,
  prior: PriorPartial,
): Float64Array {
  const logK1 = Math.log(prior.count + 1);
  const logSum = new Float64Array(concepts);
  for (let m = 0; m < concepts; m++) logSum[m] = Math.log(prior.sumExp[m]);
  // Score of concept m with the neuron's own share in the prior.
  const joined = (l: number, m: number) => {
    const top = Math.max(prior.max[m], l);
    const logPrior =
      top + Math.log(prior.sumExp[m] * Math.exp(prior.max[m] - top) + Math.exp(l - top)) - logK1;
    return l - lambda * logPrior;
  };
  const best = new Float64Array(count);
  const upper = new Float64Array(concepts);
  for (let k = 0; k < count; k++) {
    const base = (first + k) * sums.stride;
    if (lambda < 0) {
      let top = Number.NEGATIVE_INFINITY;
      for (let m = 0; m < concepts; m++) top = Math.max(top, joined(Math.fround(sums.data[base + m]), m));
      best[k] = Math.fround(top);
      continue;
    }
    // With λ ≥ 0 the own share only lowers a score, and the score without it (at log(K+1)) bounds
    // it from above: only concepts whose bound beats the best joined score so far are computed.
    let argmax = 0;
    for (let m = 0; m < concepts; m++) {
      const l = Math.fround(sums.data[base + m]);
      upper[m] = l - lambda * (prior.max[m] + logSum[m] - logK1);
      if (upper[m] > upper[argmax]) argmax = m;
    }
    let top = joined(Math.fround(sums.data[base + argmax]), argmax);
    for (let m = 0; m < concepts; m++) {
      if (upper[m] > top && m !== argmax) top = Math.max(top, joined(Math.fround(sums.data[base + m]), m));
    }
    best[k] = Math.fround(top);
  }
  return best;
}

/**
 * `sim = L − λ·(logsumexp_k L − log K)` for neurons `first .. first+count` of strided sums. As in
 * the reference, `L` is stored as float32 before the prior is taken: scores that tie in the
 * reference's float32 output then tie here too (argmax takes the lower concept index).
 */
export function pmiScoresFromStrided(
  sums: PmiSums,
  first: number,
  count: number,
  concepts: number,
  lambda: number,
): Matrix {
  return pmiScoresWithPrior(
    sums,
    first,
    count,
    concepts,
    lambda,
    pmiPriorPartial(sums, first, count, concepts),
  );
}
