import { ErrorCode, NeurodissectError } from '../errors';
import {
  accumulatePmiBlock,
  createPmiMemory,
  instantiatePmiKernel,
  type PmiMemoryLayout,
  planPmiMemory,
} from '../kernels/pmi-wasm';
import { type ColumnTopK, topKPerColumn } from '../math/top-k';
import { type OperationOptions, throwIfAborted } from '../progress';
import { createMatrix, type Matrix } from '../tensor';
import {
  checkInteger,
  checkNumber,
  SOFT_WPMI_DEFAULTS,
  type SoftWpmiOptions,
  WPMI_DEFAULTS,
  type WpmiOptions,
} from './options';
import { buildSlotIndex, type SlotIndex, softMembershipWeights } from './pmi';
import type { SimilaritySource } from './source';

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
export function writeBlockRows(memory: ArrayBuffer, layout: PmiMemoryLayout, rows: number, cosines: Float32Array): void {
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

/** The SIMD WebAssembly processor on the calling thread. Works in Node and browsers. */
export async function createWasmPmiProcessor(plan: PmiPlan): Promise<PmiBlockProcessor> {
  const layout = planPmiMemory(plan.neurons, plan.concepts, plan.blockRows);
  let memory: WebAssembly.Memory | undefined = createPmiMemory(layout);
  const kernel = instantiatePmiKernel(memory);
  const cw = pmiCoefficients(plan.weights, plan.minProb);
  return {
    async process(cursor, rows, cosines) {
      if (!memory) throw new Error('The processor was disposed.');
      writeBlockRows(memory.buffer, layout, rows, cosines);
      kernel.softmax_rows(layout.rowsOffset, rows, layout.stride, plan.a, layout.normsOffset);
      accumulatePmiBlock(kernel, layout, plan.slots.offsets, plan.slots.slots, cursor, rows, plan.topK, 0, plan.neurons, cw);
    },
    async sums() {
      if (!memory) throw new Error('The processor was disposed.');
      return { data: new Float64Array(memory.buffer, layout.accOffset, plan.neurons * layout.stride), stride: layout.stride };
    },
    async dispose() {
      memory = undefined;
    },
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

/** Options of {@link scorePmiLayers}. */
export interface ScorePmiLayersOptions extends OperationOptions {
  /** `'soft_wpmi'` (default) or `'wpmi'`. */
  fn?: 'soft_wpmi' | 'wpmi';
  options?: SoftWpmiOptions | WpmiOptions;
  /** Where the per-block work runs. @defaultValue {@link createWasmPmiProcessor} */
  processor?: PmiProcessorFactory;
  /** Images per block. @defaultValue 256 */
  blockRows?: number;
  /** Receives each layer's K×M scores as soon as they are ready (then they may be dropped). */
  onLayer?: (layer: string, scores: Matrix) => void | Promise<void>;
}

/** Timings of a {@link scorePmiLayers} run, in milliseconds. */
export interface PmiTimings {
  /** Taking each neuron's top-k. */
  topK: number;
  /** Waiting for rows of `P` (matrix products not hidden behind accumulation). */
  similarities: number;
  /** Softmax and log-accumulate. */
  accumulate: number;
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
  const fn = options.fn ?? 'soft_wpmi';
  const o =
    fn === 'soft_wpmi'
      ? { ...SOFT_WPMI_DEFAULTS, ...(options.options as SoftWpmiOptions) }
      : { ...WPMI_DEFAULTS, pStart: 1, pEnd: 1, ...(options.options as WpmiOptions) };
  checkInteger('topK', o.topK, 1, source.images);
  checkNumber('a', o.a);
  checkNumber('lambda', o.lambda);
  checkNumber('minProb', o.minProb, Number.MIN_VALUE);
  const blockRows = checkInteger('blockRows', options.blockRows ?? 256, 1);
  if (layers.length === 0) throw new RangeError('Give at least one layer to score.');

  const started = performance.now();
  const tops = layers.map((layer) => {
    if (layer.top) {
      if (layer.top.k !== o.topK) throw new RangeError(`Layer ${layer.name}: its top-k holds ${layer.top.k} images per neuron, topK is ${o.topK}.`);
      return layer.top;
    }
    if (!layer.activations) throw new RangeError(`Layer ${layer.name}: give its activations or its top-k.`);
    if (layer.activations.rows !== source.images) {
      throw new NeurodissectError(
        ErrorCode.ShapeMismatch,
        `Layer ${layer.name} has activations for ${layer.activations.rows} images but the CLIP similarities cover ${source.images}.`,
      );
    }
    return topKPerColumn(layer.activations, o.topK);
  });
  const neurons = tops.reduce((n, t) => n + t.columns, 0);
  const indices = new Int32Array(neurons * o.topK);
  let offset = 0;
  for (const top of tops) {
    indices.set(top.indices, offset);
    offset += top.indices.length;
  }
  const slots = buildSlotIndex(indices, neurons, o.topK, source.images);
  const weights = fn === 'soft_wpmi' ? softMembershipWeights(o.topK, o.pStart, o.pEnd) : new Float64Array(o.topK).fill(1);
  const plan: PmiPlan = { neurons, concepts: source.concepts, topK: o.topK, a: o.a, minProb: o.minProb, weights, slots, blockRows };
  const timings: PmiTimings = { topK: performance.now() - started, similarities: 0, accumulate: 0, finish: 0, neededImages: slots.images.length };

  const processor = await (options.processor ?? createWasmPmiProcessor)(plan);
  try {
    const total = slots.images.length;
    const fetch = (cursor: number) =>
      Promise.resolve(source.rows(slots.images.subarray(cursor, Math.min(total, cursor + blockRows))));
    // The next block's similarities are computed while this block is accumulated.
    let next = total > 0 ? fetch(0) : undefined;
    for (let cursor = 0; cursor < total; cursor += blockRows) {
      throwIfAborted(options.signal);
      const rows = Math.min(blockRows, total - cursor);
      let t = performance.now();
      const cosines = await next!;
      next = cursor + blockRows < total ? fetch(cursor + blockRows) : undefined;
      timings.similarities += performance.now() - t;
      t = performance.now();
      await processor.process(cursor, rows, cosines.data);
      timings.accumulate += performance.now() - t;
      options.onProgress?.({ stage: 'score', done: cursor + rows, total });
    }
    const t = performance.now();
    const sums = await processor.sums();
    let first = 0;
    for (let l = 0; l < layers.length; l++) {
      const count = tops[l].columns;
      const scores = pmiScoresFromStrided(sums, first, count, source.concepts, o.lambda);
      first += count;
      await options.onLayer?.(layers[l].name, scores);
    }
    timings.finish = performance.now() - t;
  } finally {
    await processor.dispose();
  }
  return timings;
}

/**
 * `sim = L − λ·(logsumexp_k L − log K)` for neurons `first .. first+count` of strided sums. As in
 * {@link pmiScores}, `L` is stored as float32 before the prior is taken, as the reference stores it.
 */
export function pmiScoresFromStrided(sums: PmiSums, first: number, count: number, concepts: number, lambda: number): Matrix {
  const out = createMatrix(count, concepts);
  const max = new Float64Array(concepts).fill(Number.NEGATIVE_INFINITY);
  for (let k = 0; k < count; k++) {
    const base = (first + k) * sums.stride;
    for (let m = 0; m < concepts; m++) {
      const v = Math.fround(sums.data[base + m]);
      out.data[k * concepts + m] = v;
      if (v > max[m]) max[m] = v;
    }
  }
  const total = new Float64Array(concepts);
  for (let k = 0; k < count; k++) {
    for (let m = 0; m < concepts; m++) total[m] += Math.exp(out.data[k * concepts + m] - max[m]);
  }
  const logK = Math.log(count);
  const prior = new Float32Array(concepts);
  for (let m = 0; m < concepts; m++) prior[m] = lambda * Math.fround(max[m] + Math.log(total[m]) - logK);
  for (let k = 0; k < count; k++) {
    for (let m = 0; m < concepts; m++) out.data[k * concepts + m] -= prior[m];
  }
  return out;
}
