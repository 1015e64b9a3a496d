import { createMatrix, type Matrix } from '../tensor';

/**
 * Row-wise softmax of `scale · x`, stable (the row maximum is subtracted before `exp`), in float64
 * arithmetic, stored as float32. Returns a new matrix.
 */
export function softmaxRows(matrix: Matrix, scale = 1): Matrix {
  const out = createMatrix(matrix.rows, matrix.cols);
  for (let r = 0; r < matrix.rows; r++)
    softmaxRowInto(matrix.data, out.data, r * matrix.cols, matrix.cols, scale);
  return out;
}

/**
 * Writes `softmax(scale · src[offset .. offset+length])` into `dst` at the same offsets.
 * @returns the log of the normaliser, `log Σ exp(scale·x_i)`.
 */
export function softmaxRowInto(
  src: Float32Array,
  dst: Float32Array,
  offset: number,
  length: number,
  scale = 1,
): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < length; i++) {
    const v = scale * src[offset + i];
    if (v > max) max = v;
  }
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const e = Math.exp(scale * src[offset + i] - max);
    dst[offset + i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < length; i++) dst[offset + i] *= inv;
  return max + Math.log(sum);
}
