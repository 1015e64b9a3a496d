import type { Matrix } from '../tensor';

/** The `k` largest entries of each column of a matrix. */
export interface ColumnTopK {
  /** How many entries were kept per column. */
  readonly k: number;
  /** Number of columns. */
  readonly columns: number;
  /** `columns × k` row indices, each column's entries in descending order of value. */
  readonly indices: Int32Array;
  /** `columns × k` values, aligned with `indices`. */
  readonly values: Float32Array;
}

/** Keeps the top-k of each column while rows arrive in blocks (see {@link topKPerColumn}). */
export interface ColumnTopKAccumulator {
  /** Adds rows `firstRow .. firstRow + block.rows` (rows must arrive in increasing order). */
  add(block: Matrix, firstRow: number): void;
  /** The result, each column sorted descending (ties: lower row first). Call once. */
  finish(): ColumnTopK;
}

/**
 * Streaming exact top-k per column with a bounded min-heap per column: memory `columns × k`
 * whatever the number of rows. Ties are broken by the lower row index; NaN never enters.
 */
export function createColumnTopK(columns: number, k: number): ColumnTopKAccumulator {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topK must be a positive integer, got ${k}.`);
  // Heaps stored flat: column c owns slots [c*k, (c+1)*k). The root holds the weakest kept entry.
  const heapIdx = new Int32Array(columns * k);
  const heapVal = new Float32Array(columns * k);
  const size = new Int32Array(columns);
  // Each full column's weakest kept value, contiguous: most entries are compared only with this.
  const floor = new Float32Array(columns).fill(Number.NEGATIVE_INFINITY);
  let rowsSeen = 0;

  // "a ranks below b" ⇔ a is smaller, or equal with a larger index.
  const below = (va: number, ia: number, vb: number, ib: number) => va < vb || (va === vb && ia > ib);

  const siftDown = (base: number, n: number, pos: number) => {
    const v = heapVal[base + pos];
    const ix = heapIdx[base + pos];
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= n) break;
      let child = l;
      const r = l + 1;
      if (r < n && below(heapVal[base + r], heapIdx[base + r], heapVal[base + l], heapIdx[base + l]))
        child = r;
      if (!below(heapVal[base + child], heapIdx[base + child], v, ix)) break;
      heapVal[base + pos] = heapVal[base + child];
      heapIdx[base + pos] = heapIdx[base + child];
      pos = child;
    }
    heapVal[base + pos] = v;
    heapIdx[base + pos] = ix;
  };
  const siftUp = (base: number, pos: number) => {
    const v = heapVal[base + pos];
    const ix = heapIdx[base + pos];
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (!below(v, ix, heapVal[base + parent], heapIdx[base + parent])) break;
      heapVal[base + pos] = heapVal[base + parent];
      heapIdx[base + pos] = heapIdx[base + parent];
      pos = parent;
    }
    heapVal[base + pos] = v;
    heapIdx[base + pos] = ix;
  };

  return {
    add(block, firstRow) {
      if (block.cols !== columns) throw new RangeError(`Expected ${columns} columns, got ${block.cols}.`);
      if (firstRow < rowsSeen)
        throw new RangeError(`Rows must arrive in order: row ${firstRow} after ${rowsSeen}.`);
      const data = block.data;
      for (let r = 0; r < block.rows; r++) {
        const row = firstRow + r;
        const rowBase = r * columns;
        for (let c = 0; c < columns; c++) {
          let v = data[rowBase + c];
          // Rows arrive in increasing order, so an equal value never displaces a kept one.
          if (!(v > floor[c]) && size[c] === k) continue;
          if (Number.isNaN(v)) v = Number.NEGATIVE_INFINITY; // NaN ranks last
          const base = c * k;
          const n = size[c];
          if (n < k) {
            heapVal[base + n] = v;
            heapIdx[base + n] = row;
            size[c] = n + 1;
            siftUp(base, n);
            if (n + 1 === k) floor[c] = heapVal[base];
          } else if (v > heapVal[base]) {
            heapVal[base] = v;
            heapIdx[base] = row;
            siftDown(base, k, 0);
            floor[c] = heapVal[base];
          }
        }
      }
      rowsSeen = firstRow + block.rows;
    },
    finish() {
      if (rowsSeen < k) throw new RangeError(`topK is ${k} but only ${rowsSeen} rows were added.`);
      // Heap-sort each column into descending order.
      for (let c = 0; c < columns; c++) {
        const base = c * k;
        for (let n = k - 1; n > 0; n--) {
          const tv = heapVal[base];
          const ti = heapIdx[base];
          heapVal[base] = heapVal[base + n];
          heapIdx[base] = heapIdx[base + n];
          heapVal[base + n] = tv;
          heapIdx[base + n] = ti;
          siftDown(base, n, 0);
        }
      }
      return { k, columns, indices: heapIdx, values: heapVal };
    },
  };
}

/**
 * Exact top-k of every column of `matrix` (N rows × K columns, e.g. images × neurons), in one
 * pass over the rows with a bounded min-heap per column.
 *
 * Order: descending by value; **ties are broken by the lower row index first**, so the result is
 * deterministic. NaN never enters a top-k (it compares as smaller than every number).
 */
export function topKPerColumn(matrix: Matrix, k: number): ColumnTopK {
  if (!Number.isInteger(k) || k < 1 || k > matrix.rows) {
    throw new RangeError(
      `topK must be an integer between 1 and the number of rows (${matrix.rows}), got ${k}.`,
    );
  }
  const acc = createColumnTopK(matrix.cols, k);
  acc.add(matrix, 0);
  return acc.finish();
}

/**
 * Indices of the `k` largest values of `values`, descending, ties broken by the lower index.
 */
export function topKIndices(values: ArrayLike<number>, k: number): Int32Array {
  const n = values.length;
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be a non-negative integer, got ${k}.`);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => {
    const va = values[a];
    const vb = values[b];
    if (va === vb) return a - b;
    if (Number.isNaN(va)) return 1;
    if (Number.isNaN(vb)) return -1;
    return vb - va;
  });
  return order.slice(0, Math.min(k, n));
}
