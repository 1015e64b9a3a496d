import type { Matrix } from '../tensor';

/**
 * One similarity function (cos, cos³, rank-reorder) in streaming form: it names the images whose rows of `P` it needs,
 * receives those rows in blocks (in ascending image order), and produces the K×M scores.
 */
export interface ScoreAccumulator {
  /** The images to stream, ascending. */
  readonly needed: Int32Array;
  /** Adds a block: `rows` holds one row of `P` (or of its softmax) per entry of `images`. */
  add(images: Int32Array, rows: Matrix): void;
  /** The K×M scores (neurons × concepts). */
  finish(): Matrix;
}

/** `0..n-1` as an Int32Array. */
export function allImages(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}
