import { decodeBase64, type WasmMemory, webAssembly } from '../platform';
import { pmiKernelBase64, pmiKernelSharedBase64 } from './pmi-kernel.wasm.gen';

/** The exports of the SIMD soft-WPMI kernel (see pmi-kernel.wat). Pointers are byte offsets. */
export interface PmiKernelExports {
  /**
   * Row-wise softmax numerators `exp(scale·x − max)` in place; writes (max, sum) as two f64 per row
   * at `out`. Probabilities are numerators / sum: {@link accumulatePmiBlock} folds the division into
   * the log's weight.
   */
  softmax_rows(ptr: number, rows: number, stride: number, scale: number, out: number): void;
  /** `acc[m] += ln(c + w·p[m])` for `count` (a multiple of 8) entries; p f32, acc f64. */
  log_accumulate(probs: number, acc: number, count: number, c: number, w: number): void;
}

/** Where things live in the kernel's linear memory. */
export interface PmiMemoryLayout {
  /** M, the number of concepts. */
  readonly concepts: number;
  /** Row stride in floats: M rounded up to a multiple of 8 (two SIMD vectors). */
  readonly stride: number;
  /** Rows per block. */
  readonly blockRows: number;
  /** Byte offset of the block of rows (f32, blockRows × stride). */
  readonly rowsOffset: number;
  /** Byte offset of the per-row (max, sum) pairs (f64). */
  readonly normsOffset: number;
  /** Byte offset of the accumulators (f64, neurons × stride). */
  readonly accOffset: number;
  /** Number of neurons with accumulators. */
  readonly neurons: number;
  /** Total bytes needed. */
  readonly bytes: number;
}

const PAGE = 65536;

/** Lays out memory for `neurons` accumulators over `concepts`, processing `blockRows` images at a time. */
export function planPmiMemory(neurons: number, concepts: number, blockRows: number): PmiMemoryLayout {
  const stride = Math.ceil(concepts / 8) * 8;
  const rowsOffset = 64;
  const normsOffset = rowsOffset + blockRows * stride * 4;
  const accOffset = Math.ceil((normsOffset + blockRows * 16) / 64) * 64;
  const bytes = accOffset + neurons * stride * 8;
  if (bytes > 65536 * PAGE) {
    throw new RangeError(
      `Scoring ${neurons} neurons × ${concepts} concepts needs ${(bytes / 2 ** 30).toFixed(1)} GiB of kernel memory (limit 4 GiB); score fewer neurons at a time (neuron shards).`,
    );
  }
  return { concepts, stride, blockRows, rowsOffset, normsOffset, accOffset, neurons, bytes };
}

/** Allocates kernel memory for a layout; `shared` lets several workers use it at once. */
export function createPmiMemory(layout: PmiMemoryLayout, shared = false): WasmMemory {
  const pages = Math.ceil(layout.bytes / PAGE);
  return new (webAssembly().Memory)({ initial: pages, maximum: shared ? pages : undefined, shared });
}

/** The kernel's bytes (WebAssembly with 128-bit SIMD), importing a shared or a plain memory. */
export function pmiKernelBytes(shared = false): Uint8Array {
  return decodeBase64(shared ? pmiKernelSharedBase64 : pmiKernelBase64);
}

/** Instantiates the kernel over `memory` (synchronously; the module is about 1 KB). */
export function instantiatePmiKernel(memory: WasmMemory, shared = false): PmiKernelExports {
  const wasm = webAssembly();
  const module = new wasm.Module(pmiKernelBytes(shared));
  return new wasm.Instance(module, { env: { memory } }).exports as unknown as PmiKernelExports;
}

/**
 * For each row `r < rows` of the current block (image `cursor + r` of the slot index), adds
 * `ln(c_j + w_j·p)` into the accumulator of every slot (neuron k, position j) of that image with
 * `k0 ≤ k < k1`, where `p = e / sum` are the row's softmax probabilities: the kernel holds the
 * numerators `e` and each row's sum, so the weight passed is `w_j / sum`. `cw` holds `(c_j, w_j)`
 * pairs with `c_j = 1 − π_j + minProb`, `w_j = π_j`.
 *
 * Self-contained on purpose (it uses only its arguments): worker threads run its source text.
 */
export function accumulatePmiBlock(
  kernel: PmiKernelExports,
  memory: ArrayBuffer,
  layout: PmiMemoryLayout,
  offsets: Int32Array,
  slots: Int32Array,
  cursor: number,
  rows: number,
  topK: number,
  k0: number,
  k1: number,
  cw: Float32Array,
): void {
  const rowBytes = layout.stride * 4;
  const accBytes = layout.stride * 8;
  const norms = new Float64Array(memory, layout.normsOffset, layout.blockRows * 2);
  for (let r = 0; r < rows; r++) {
    const probs = layout.rowsOffset + r * rowBytes;
    const inverseSum = 1 / norms[2 * r + 1];
    for (let s = offsets[cursor + r]; s < offsets[cursor + r + 1]; s++) {
      const slot = slots[s];
      const neuron = (slot / topK) | 0;
      if (neuron < k0 || neuron >= k1) continue;
      const j = slot - neuron * topK;
      kernel.log_accumulate(
        probs,
        layout.accOffset + (neuron - k0) * accBytes,
        layout.stride,
        cw[2 * j],
        cw[2 * j + 1] * inverseSum,
      );
    }
  }
}
