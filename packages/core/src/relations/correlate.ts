import { type MatmulKernel, matmulTransposed } from '../math/matmul';
import { type OperationOptions, throwIfAborted } from '../progress';
import { createMatrix, type Matrix } from '../tensor';

/** Options of {@link correlateLayers}. */
export interface CorrelateLayersOptions extends OperationOptions {
  /**
   * Images per block of the streamed product: the work memory is about
   * `(K_A + K_B) × blockRows` floats beside the `K_A × K_B` result, whatever the number of images.
   * @defaultValue 1024
   */
  blockRows?: number;
  /** A faster `A · Bᵀ` (the runtime's, e.g. an ONNX MatMul session). @defaultValue the portable kernel */
  matmul?: MatmulKernel;
  /**
   * Also the linear CKA of the two layers (which needs each layer's own `K × K` product as well).
   * @defaultValue false
   */
  cka?: boolean;
}

/** What {@link correlateLayers} finds. */
export interface LayerCorrelation {
  /**
   * `K_A × K_B` Pearson correlations over the images: entry `(a, b)` is the correlation of unit `a`
   * of the first layer with unit `b` of the second. `NaN` where either unit is constant or has a
   * non-finite value.
   */
  readonly r: Matrix;
  /**
   * Linear CKA of the two layers, `‖X_Aᵀ X_B‖_F² / (‖X_Aᵀ X_A‖_F · ‖X_Bᵀ X_B‖_F)` with
   * column-centred summaries (units with a non-finite value left out); present when asked.
   */
  readonly cka?: number;
  /** The images the correlations are over. */
  readonly images: number;
}

/** Per-unit mean and standard deviation (population) over the rows, and which units are usable. */
interface ColumnMoments {
  mean: Float64Array;
  /** `1/σ`, 0 for a unit that is constant or has a non-finite value. */
  inverseStd: Float64Array;
  std: Float64Array;
}

/** Welford's streamed mean and variance of each column. */
function columnMoments(m: Matrix): ColumnMoments {
  const k = m.cols;
  const mean = new Float64Array(k);
  const m2 = new Float64Array(k);
  const bad = new Uint8Array(k);
  for (let i = 0; i < m.rows; i++) {
    const row = i * k;
    const n = i + 1;
    for (let j = 0; j < k; j++) {
      const x = m.data[row + j];
      if (!Number.isFinite(x)) {
        bad[j] = 1;
        continue;
      }
      const d = x - mean[j];
      mean[j] += d / n;
      m2[j] += d * (x - mean[j]);
    }
  }
  const std = new Float64Array(k);
  const inverseStd = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const s = Math.sqrt(m2[j] / m.rows);
    // A spread below float32's resolution of the mean is a constant unit.
    if (bad[j] || !(s > 1e-7 * Math.max(1, Math.abs(mean[j])))) continue;
    std[j] = s;
    inverseStd[j] = 1 / s;
  }
  return { mean, inverseStd, std };
}

/**
 * Rows `[start, end)` standardised and transposed into `out` (`K × n`, reused from block to block
 * so that nothing is allocated per block), unusable units all zero.
 */
function standardisedBlock(
  m: Matrix,
  moments: ColumnMoments,
  start: number,
  end: number,
  out: Matrix,
): Matrix {
  const n = end - start;
  const k = m.cols;
  for (let i = start; i < end; i++) {
    const row = i * k;
    const col = i - start;
    for (let j = 0; j < k; j++) {
      const inv = moments.inverseStd[j];
      out.data[j * n + col] = inv === 0 ? 0 : (m.data[row + j] - moments.mean[j]) * inv;
    }
  }
  return out;
}

/**
 * The Pearson correlation of every unit of one layer with every unit of another over the same
 * images (`a` and `b` are `N × K_A` and `N × K_B` summaries, one row per image): the units'
 * summaries are standardised, `z = (q − mean) / std`, and `r = z_aᵀ z_b / N` is accumulated over
 * blocks of images, so the memory it adds to the two inputs does not grow with `N`. With
 * `cka: true`, also the layers' linear CKA.
 * @throws RangeError when the layers have different numbers of rows or none.
 */
export async function correlateLayers(
  a: Matrix,
  b: Matrix,
  options: CorrelateLayersOptions = {},
): Promise<LayerCorrelation> {
  if (a.rows !== b.rows)
    throw new RangeError(`The layers' summaries cover different images: ${a.rows} rows and ${b.rows}.`);
  if (a.rows === 0) throw new RangeError('There are no images to correlate over.');
  const blockRows = options.blockRows ?? 1024;
  if (!(Number.isInteger(blockRows) && blockRows >= 1))
    throw new RangeError(`blockRows must be a positive integer, got ${blockRows}.`);
  const matmul = options.matmul ?? matmulTransposed;
  const n = a.rows;
  const ma = columnMoments(a);
  const mb = columnMoments(b);
  const ab = new Float64Array(a.cols * b.cols);
  const aa = options.cka ? new Float64Array(a.cols * a.cols) : undefined;
  const bb = options.cka ? new Float64Array(b.cols * b.cols) : undefined;
  const add = (sum: Float64Array, product: Matrix) => {
    for (let i = 0; i < sum.length; i++) sum[i] += product.data[i];
  };
  const buffers = (rows: number) => ({ a: createMatrix(a.cols, rows), b: createMatrix(b.cols, rows) });
  const full = buffers(Math.min(blockRows, n));
  for (let start = 0; start < n; start += blockRows) {
    throwIfAborted(options.signal);
    const end = Math.min(n, start + blockRows);
    const block = end - start === full.a.cols ? full : buffers(end - start);
    const za = standardisedBlock(a, ma, start, end, block.a);
    const zb = standardisedBlock(b, mb, start, end, block.b);
    add(ab, await matmul(za, zb));
    if (aa && bb) {
      add(aa, await matmul(za, za));
      add(bb, await matmul(zb, zb));
    }
    options.onProgress?.({ stage: 'relations', done: end, total: n });
  }
  const r = createMatrix(a.cols, b.cols);
  for (let i = 0; i < a.cols; i++) {
    for (let j = 0; j < b.cols; j++) {
      const usable = ma.inverseStd[i] !== 0 && mb.inverseStd[j] !== 0;
      r.data[i * b.cols + j] = usable ? Math.max(-1, Math.min(1, ab[i * b.cols + j] / n)) : Number.NaN;
    }
  }
  if (!aa || !bb) return { r, images: n };
  // Centred products from the standardised ones: (X_Aᵀ X_B)_ij = σ_i σ_j (Z_Aᵀ Z_B)_ij.
  const frobenius2 = (sum: Float64Array, si: Float64Array, sj: Float64Array) => {
    let total = 0;
    for (let i = 0; i < si.length; i++) {
      for (let j = 0; j < sj.length; j++) {
        const v = si[i] * sj[j] * sum[i * sj.length + j];
        total += v * v;
      }
    }
    return total;
  };
  const cross = frobenius2(ab, ma.std, mb.std);
  const denominator = Math.sqrt(frobenius2(aa, ma.std, ma.std)) * Math.sqrt(frobenius2(bb, mb.std, mb.std));
  return { r, images: n, cka: denominator > 0 ? cross / denominator : Number.NaN };
}

/** One unit related to another, with their correlation. */
export interface RelatedUnit {
  readonly unit: number;
  readonly r: number;
}

/**
 * The `top` most correlated units each way of a correlation matrix (as {@link correlateLayers}
 * gives): `byRow[a]` lists the columns most correlated with row unit `a`, `byColumn[b]` the rows
 * most correlated with column unit `b`; highest `r` first, ties by unit, `NaN` entries left out.
 */
export function strongestRelations(
  r: Matrix,
  top = 10,
): { byRow: RelatedUnit[][]; byColumn: RelatedUnit[][] } {
  if (!(Number.isInteger(top) && top >= 1))
    throw new RangeError(`top must be a positive integer, got ${top}.`);
  const pick = (count: number, value: (i: number) => number): RelatedUnit[] => {
    const kept: RelatedUnit[] = [];
    for (let i = 0; i < count; i++) {
      const v = value(i);
      if (Number.isNaN(v)) continue;
      if (kept.length === top && v <= kept[top - 1].r) continue;
      let at = kept.length;
      while (at > 0 && kept[at - 1].r < v) at--;
      kept.splice(at, 0, { unit: i, r: v });
      if (kept.length > top) kept.pop();
    }
    return kept;
  };
  const byRow = Array.from({ length: r.rows }, (_, i) => pick(r.cols, (j) => r.data[i * r.cols + j]));
  const byColumn = Array.from({ length: r.cols }, (_, j) => pick(r.rows, (i) => r.data[i * r.cols + j]));
  return { byRow, byColumn };
}

/** A row unit's best-correlated column unit. */
export interface UnitMatch {
  readonly unitA: number;
  readonly unitB: number;
  readonly r: number;
  /** Whether `unitA` is also `unitB`'s best-correlated row unit. */
  readonly mutual: boolean;
}

/**
 * Each row unit's best-correlated column unit (the first on a tie), and whether the match is
 * mutual (each is the other's best). Row units whose correlations are all `NaN` have no match.
 */
export function bestMatches(r: Matrix): UnitMatch[] {
  const bestOfColumn = new Int32Array(r.cols).fill(-1);
  const bestColumnValue = new Float64Array(r.cols).fill(Number.NEGATIVE_INFINITY);
  const matches: { unitA: number; unitB: number; r: number }[] = [];
  for (let i = 0; i < r.rows; i++) {
    let best = -1;
    let value = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < r.cols; j++) {
      const v = r.data[i * r.cols + j];
      if (Number.isNaN(v)) continue;
      if (v > value) {
        value = v;
        best = j;
      }
      if (v > bestColumnValue[j]) {
        bestColumnValue[j] = v;
        bestOfColumn[j] = i;
      }
    }
    if (best >= 0) matches.push({ unitA: i, unitB: best, r: value });
  }
  return matches.map((m) => ({ ...m, mutual: bestOfColumn[m.unitB] === m.unitA }));
}
