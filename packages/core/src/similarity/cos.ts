import { matmulTransposed } from '../math/matmul';
import { createMatrix, type Matrix, transpose } from '../tensor';
import { allImages, type ScoreAccumulator } from './accumulator';

/**
 * `sim[k,m] = Σ_i q̂_ik · P̂_im` where `q̂` and `P̂` are `q` and `P` with each column scaled by
 * `1 / max(‖column‖₂, minNorm)` (after `transformRow` is applied to rows of `P`).
 */
function createColumnCosineAccumulator(
  scaledActivations: Matrix,
  concepts: number,
  minNorm: number,
  transformRow: ((row: Float32Array) => void) | undefined,
): ScoreAccumulator {
  const neurons = scaledActivations.cols;
  const numerators = new Float64Array(neurons * concepts);
  const normSq = new Float64Array(concepts);
  return {
    needed: allImages(scaledActivations.rows),
    add(images, rows) {
      const block = createMatrix(rows.rows, rows.cols, rows.data.slice());
      for (let r = 0; r < block.rows; r++) {
        const row = block.data.subarray(r * concepts, (r + 1) * concepts);
        transformRow?.(row);
        for (let m = 0; m < concepts; m++) normSq[m] += row[m] * row[m];
      }
      const qBlock = createMatrix(images.length, neurons);
      images.forEach((image, r) => {
        qBlock.data.set(scaledActivations.data.subarray(image * neurons, (image + 1) * neurons), r * neurons);
      });
      const product = matmulTransposed(transpose(qBlock), transpose(block));
      for (let i = 0; i < numerators.length; i++) numerators[i] += product.data[i];
    },
    finish() {
      const out = createMatrix(neurons, concepts);
      for (let m = 0; m < concepts; m++) {
        const norm = Math.max(Math.sqrt(normSq[m]), minNorm);
        for (let k = 0; k < neurons; k++) {
          const value = numerators[k * concepts + m] / norm;
          out.data[k * concepts + m] = Number.isFinite(value) ? value : 0;
        }
      }
      return out;
    },
  };
}

/** Scales each column of a (copied) N×K matrix by `1 / max(‖column‖₂, minNorm)`. */
function scaleColumns(matrix: Matrix, minNorm: number): Matrix {
  const { rows, cols, data } = matrix;
  const norms = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) norms[c] += data[r * cols + c] ** 2;
  for (let c = 0; c < cols; c++) norms[c] = Math.max(Math.sqrt(norms[c]), minNorm);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] /= norms[c];
  return matrix;
}

/**
 * Plain cosine: each column of `q` and of `P` L2-normalised over the images, then dotted; no
 * centering. A column of zero norm scores 0 (the reference would give NaN).
 */
export function createCosAccumulator(activations: Matrix, concepts: number): ScoreAccumulator {
  const scaled = scaleColumns(createMatrix(activations.rows, activations.cols, activations.data.slice()), 0);
  return createColumnCosineAccumulator(scaled, concepts, 0, undefined);
}

/**
 * Cos-cubed: centre each column over the images, cube elementwise, divide by
 * `max(‖column‖₂, minNorm)`, dot. Needs the column means of `P` beforehand.
 */
export function createCosCubedAccumulator(
  activations: Matrix,
  concepts: number,
  columnMeans: Float64Array,
  minNorm: number,
): ScoreAccumulator {
  const { rows, cols } = activations;
  const cubed = createMatrix(rows, cols);
  const means = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) means[c] += activations.data[r * cols + c];
  for (let c = 0; c < cols; c++) means[c] /= rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++)
      cubed.data[r * cols + c] = (activations.data[r * cols + c] - means[c]) ** 3;
  }
  return createColumnCosineAccumulator(scaleColumns(cubed, minNorm), concepts, minNorm, (row) => {
    for (let m = 0; m < concepts; m++) row[m] = (row[m] - columnMeans[m]) ** 3;
  });
}
