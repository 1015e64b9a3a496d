import { createMatrix, type Matrix } from '../tensor';

/**
 * `A · Bᵀ` for row-major `A` (n×d) and `B` (m×d): entry (i, j) is the dot product of row i of A
 * with row j of B. A portable blocked kernel with float32 products accumulated in float64 lanes;
 * runtimes offer faster ones through {@link MatmulKernel}.
 */
export function matmulTransposed(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.cols) {
    throw new RangeError(`Inner dimensions differ: A is ${a.rows}×${a.cols}, B is ${b.rows}×${b.cols}.`);
  }
  const n = a.rows;
  const m = b.rows;
  const d = a.cols;
  const out = createMatrix(n, m);
  const A = a.data;
  const B = b.data;
  const C = out.data;
  const blockJ = 64;
  for (let j0 = 0; j0 < m; j0 += blockJ) {
    const j1 = Math.min(m, j0 + blockJ);
    for (let i = 0; i < n; i++) {
      const ai = i * d;
      const ci = i * m;
      for (let j = j0; j < j1; j++) {
        const bj = j * d;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let t = 0;
        for (; t + 3 < d; t += 4) {
          s0 += A[ai + t] * B[bj + t];
          s1 += A[ai + t + 1] * B[bj + t + 1];
          s2 += A[ai + t + 2] * B[bj + t + 2];
          s3 += A[ai + t + 3] * B[bj + t + 3];
        }
        for (; t < d; t++) s0 += A[ai + t] * B[bj + t];
        C[ci + j] = s0 + s1 + s2 + s3;
      }
    }
  }
  return out;
}

/** A matrix-product kernel `A · Bᵀ`; runtimes supply fast ones (e.g. an ONNX MatMul session). */
export type MatmulKernel = (a: Matrix, b: Matrix) => Matrix | Promise<Matrix>;
