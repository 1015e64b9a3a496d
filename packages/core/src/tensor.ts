import { ErrorCode, NeurodissectError } from './errors';

/** The element types a {@link Tensor} can hold. */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8';

/** The typed array behind each {@link DType}. */
export interface DTypeArray {
  float32: Float32Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  uint8: Uint8Array;
}

/** A dense, row-major (C-order) tensor. The library's one numeric container. */
export interface Tensor<D extends DType = 'float32'> {
  readonly dtype: D;
  readonly dims: readonly number[];
  readonly data: DTypeArray[D];
}

/** A 2-D float32 matrix, row-major: element (r, c) is `data[r * cols + c]`. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/** Creates a `rows × cols` matrix, zero-filled or wrapping `data` (not copied). */
export function createMatrix(rows: number, cols: number, data?: Float32Array): Matrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new RangeError(`Matrix dimensions must be non-negative integers, got ${rows}×${cols}.`);
  }
  const buffer = data ?? new Float32Array(rows * cols);
  if (buffer.length !== rows * cols) {
    throw new RangeError(`Matrix data has ${buffer.length} elements, expected ${rows}×${cols}.`);
  }
  return { rows, cols, data: buffer };
}

/** Builds a matrix from nested rows (for tests and small literals). */
export function matrixFromRows(rows: readonly (readonly number[])[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const out = createMatrix(rows.length, cols);
  rows.forEach((row, r) => {
    if (row.length !== cols) throw new RangeError(`Row ${r} has ${row.length} values, expected ${cols}.`);
    out.data.set(row, r * cols);
  });
  return out;
}

/** Converts a matrix to nested arrays (for JSON output and tests). */
export function matrixToRows(matrix: Matrix): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < matrix.rows; r++) {
    out.push(Array.from(matrix.data.subarray(r * matrix.cols, (r + 1) * matrix.cols)));
  }
  return out;
}

/** A view (no copy) of row `r`. */
export function matrixRow(matrix: Matrix, r: number): Float32Array {
  return matrix.data.subarray(r * matrix.cols, (r + 1) * matrix.cols);
}

/** Returns the transpose as a new matrix. */
export function transpose(matrix: Matrix): Matrix {
  const { rows, cols, data } = matrix;
  const out = new Float32Array(rows * cols);
  // Blocked so both reads and writes stay in cache for large matrices.
  const block = 64;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let c0 = 0; c0 < cols; c0 += block) {
      const c1 = Math.min(cols, c0 + block);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) out[c * rows + r] = data[r * cols + c];
      }
    }
  }
  return { rows: cols, cols: rows, data: out };
}

/** Views a 2-D float tensor as a {@link Matrix} (float64 is converted to float32). */
export function tensorToMatrix(tensor: Tensor<DType>, what = 'array'): Matrix {
  if (tensor.dims.length !== 2) {
    throw new NeurodissectError(
      ErrorCode.ShapeMismatch,
      `The ${what} must be 2-D, got shape [${tensor.dims.join(', ')}].`,
    );
  }
  const [rows, cols] = tensor.dims as [number, number];
  if (tensor.dtype === 'float32') return createMatrix(rows, cols, tensor.data as Float32Array);
  if (tensor.dtype === 'float64')
    return createMatrix(rows, cols, Float32Array.from(tensor.data as Float64Array));
  throw new NeurodissectError(
    ErrorCode.UnsupportedDtype,
    `The ${what} has dtype ${tensor.dtype}; a float32 or float64 array is needed.`,
  );
}

/** Wraps a matrix as a 2-D float32 tensor (no copy). */
export function matrixToTensor(matrix: Matrix): Tensor<'float32'> {
  return { dtype: 'float32', dims: [matrix.rows, matrix.cols], data: matrix.data };
}

/**
 * Throws a coded error naming the first NaN or ±Infinity in `matrix`.
 * @returns nothing; throws {@link ErrorCode.NonFiniteValue}.
 */
export function assertFinite(matrix: Matrix, what = 'matrix'): void {
  const { data, cols } = matrix;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const r = Math.floor(i / cols);
      throw new NeurodissectError(
        ErrorCode.NonFiniteValue,
        `The ${what} holds ${data[i]} at row ${r}, column ${i - r * cols}; remove or replace non-finite values.`,
        { details: { row: r, column: i - r * cols } },
      );
    }
  }
}

/** L2-normalises each row in place (rows of zero norm are left as zeros). */
export function normalizeRows(matrix: Matrix): Matrix {
  const { rows, cols, data } = matrix;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) sum += data[base + c] * data[base + c];
    const norm = Math.sqrt(sum);
    if (norm > 0) for (let c = 0; c < cols; c++) data[base + c] /= norm;
  }
  return matrix;
}
