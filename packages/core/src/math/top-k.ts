import { type Matrix } from '../tensor';

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

/**
 * Exact top-k of every column of `matrix` (N rows × K columns, e.g. images × neurons), in one
 * pass over the rows with a bounded min-heap per column.
 *
 * Order: descending by value; **ties are broken by the lower row index first**, so the result is
 * deterministic. NaN never enters a top-k (it compares as smaller than every number).
 */
export function topKPerColumn(matrix: Matrix, k: number): ColumnTopK {
  const { rows, cols, data } = matrix;
  if (!Number.isInteger(k) || k < 1 || k > rows) {
    throw new RangeError(`topK must be an integer between 1 and the number of rows (${rows}), got ${k}.`);
  }
  // Heaps stored flat: column c owns slots [c*k, (c+1)*k). The root holds the weakest kept entry.
  const heapIdx = new Int32Array(cols * k);
  const heapVal = new Float32Array(cols * k);
  const size = new Int32Array(cols);

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
      if (r < n && below(heapVal[base + r], heapIdx[base + r], heapVal[base + l], heapIdx[base + l])) child = r;
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

  for (let r = 0; r < rows; r++) {
    const rowBase = r * cols;
    for (let c = 0; c < cols; c++) {
      let v = data[rowBase + c];
      if (v !== v) v = Number.NEGATIVE_INFINITY; // NaN ranks last
      const base = c * k;
      const n = size[c];
      if (n < k) {
        heapVal[base + n] = v;
        heapIdx[base + n] = r;
        size[c] = n + 1;
        siftUp(base, n);
      } else if (v > heapVal[base]) {
        // Rows arrive in increasing order, so an equal value never displaces a kept one.
        heapVal[base] = v;
        heapIdx[base] = r;
        siftDown(base, k, 0);
      }
    }
  }

  // Heap-sort each column into descending order.
  for (let c = 0; c < cols; c++) {
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
  return { k, columns: cols, indices: heapIdx, values: heapVal };
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
    if (va !== va) return 1;
    if (vb !== vb) return -1;
    return vb - va;
  });
  return order.slice(0, Math.min(k, n));
}
