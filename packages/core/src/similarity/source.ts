import { ErrorCode, NeurodissectError } from '../errors';
import { type MatmulKernel, matmulTransposed } from '../math/matmul';
import { createMatrix, type Matrix, normalizeRows } from '../tensor';

/**
 * Where the raw image×concept cosines `P` (N×M) come from. Scoring streams rows of `P` from a
 * source in blocks, so `P` never has to exist in full.
 */
export interface SimilaritySource {
  /** N, the number of images. */
  readonly images: number;
  /** M, the number of concepts. */
  readonly concepts: number;
  /** Rows of `P` for the given image indices, in that order. */
  rows(images: Int32Array): Matrix | Promise<Matrix>;
  /** The mean of each column of `P` over all images (length M). */
  columnMeans(): Float64Array | Promise<Float64Array>;
}

/** A source over a dense `P` matrix that is already in memory. */
export function similarityFromMatrix(clip: Matrix): SimilaritySource {
  return {
    images: clip.rows,
    concepts: clip.cols,
    rows(images) {
      const out = createMatrix(images.length, clip.cols);
      images.forEach((image, r) => {
        out.data.set(clip.data.subarray(image * clip.cols, (image + 1) * clip.cols), r * clip.cols);
      });
      return out;
    },
    columnMeans() {
      const means = new Float64Array(clip.cols);
      for (let r = 0; r < clip.rows; r++) {
        const base = r * clip.cols;
        for (let c = 0; c < clip.cols; c++) means[c] += clip.data[base + c];
      }
      for (let c = 0; c < clip.cols; c++) means[c] /= clip.rows;
      return means;
    },
  };
}

/** Options of {@link similarityFromEmbeddings}. */
export interface EmbeddingSourceOptions {
  /** The kernel computing `A·Bᵀ`; runtimes provide faster ones. @defaultValue core's portable kernel */
  kernel?: MatmulKernel;
  /**
   * L2-normalise the rows of both embedding matrices first (copies; the inputs are not changed).
   * @defaultValue true
   */
  normalize?: boolean;
}

/**
 * A source that computes rows of `P = normalise(I) · normalise(T)ᵀ` on demand from image
 * embeddings `I` (N×D) and text embeddings `T` (M×D).
 */
export function similarityFromEmbeddings(
  imageEmbeddings: Matrix,
  textEmbeddings: Matrix,
  options: EmbeddingSourceOptions = {},
): SimilaritySource {
  if (imageEmbeddings.cols !== textEmbeddings.cols) {
    throw new NeurodissectError(
      ErrorCode.ShapeMismatch,
      `Image embeddings have dimension ${imageEmbeddings.cols} but text embeddings have ${textEmbeddings.cols}; both must come from the same CLIP model.`,
    );
  }
  const normalize = options.normalize ?? true;
  const kernel = options.kernel ?? matmulTransposed;
  // Image rows are normalised per block as they are gathered (no N×D copy); the text matrix is
  // normalised once, as every block's product uses all of it.
  const images = imageEmbeddings;
  const texts = normalize
    ? normalizeRows(createMatrix(textEmbeddings.rows, textEmbeddings.cols, textEmbeddings.data.slice()))
    : textEmbeddings;
  const dim = images.cols;
  return {
    images: images.rows,
    concepts: texts.rows,
    rows(indices) {
      const block = createMatrix(indices.length, dim);
      indices.forEach((image, r) => {
        block.data.set(images.data.subarray(image * dim, (image + 1) * dim), r * dim);
      });
      return kernel(normalize ? normalizeRows(block) : block, texts);
    },
    columnMeans() {
      // mean_i (Î_i · T_m) = (mean_i Î_i) · T_m
      const mean = new Float64Array(dim);
      for (let r = 0; r < images.rows; r++) {
        let norm = 0;
        for (let d = 0; d < dim; d++) norm += images.data[r * dim + d] ** 2;
        const scale = normalize && norm > 0 ? 1 / Math.sqrt(norm) : 1;
        for (let d = 0; d < dim; d++) mean[d] += images.data[r * dim + d] * scale;
      }
      const out = new Float64Array(texts.rows);
      for (let m = 0; m < texts.rows; m++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += mean[d] * texts.data[m * dim + d];
        out[m] = s / images.rows;
      }
      return out;
    },
  };
}
