import type { Tensor } from '../tensor';
import type { MapLayout } from './map-source';

/**
 * How many of a unit's `n` values are at or above its top-`quantile` threshold, the value at rank
 * ⌊(1−q)(n−1)⌋ of the ascending sort: `n − ⌊(1−q)(n−1)⌋`. Never decreases as `n` grows, so a
 * buffer sized for the whole probe set also serves a probe set that lost unreadable images.
 */
export function valuesAtOrAboveQuantile(n: number, quantile: number): number {
  return n - Math.floor((1 - quantile) * (n - 1));
}

/**
 * Each unit's largest values over every image and map position, kept while batches of a layer's
 * output stream by: exactly the `keep` largest (as a multiset) per unit, in a buffer of `keep`
 * plus an eighth of slack that is cut back to `keep` when full (a selection, linear time). Values
 * not above the unit's cut are dropped at one comparison each. Memory: 4 · K · ⌈1.125·keep⌉ bytes.
 */
export interface TopMapValues {
  /** Units (K). */
  readonly units: number;
  /** Positions per image and unit (h · w). */
  readonly positions: number;
  /** Bytes the buffers hold. */
  readonly bytes: number;
  /** Adds one batch of the layer's raw output, laid out as `layout`. */
  add(output: Tensor<'float32'>): void;
  /**
   * Each unit's top-`quantile` threshold over `images` images (the value at rank ⌊(1−q)(n−1)⌋ of
   * its n = images · h · w sorted values), exactly what a sort of every value gives.
   * @throws RangeError when that needs more values than the buffers keep.
   */
  thresholds(quantile: number, images: number): Float32Array;
}

/** The bytes {@link createTopMapValues} takes for `units` units keeping `keep` values each. */
export function topMapValuesBytes(units: number, keep: number): number {
  return 4 * units * capacityFor(keep);
}

const capacityFor = (keep: number) => keep + Math.max(64, Math.ceil(keep / 8));

/**
 * A {@link TopMapValues} for a layer of map layout `layout` (spatial `[n, K, h, w]` or a token
 * layer's patch grid), keeping each unit's `keep` largest values.
 */
export function createTopMapValues(
  layout: Extract<MapLayout, { kind: 'spatial' | 'tokens' }>,
  keep: number,
): TopMapValues {
  const K = layout.units;
  const positions = layout.height * layout.width;
  const capacity = capacityFor(keep);
  const buffer = new Float32Array(K * capacity);
  const size = new Int32Array(K);
  // A value enters only when above its unit's cut: the keep-th largest after the last cut.
  const cut = new Float32Array(K).fill(Number.NEGATIVE_INFINITY);

  const push = (k: number, v: number) => {
    const base = k * capacity;
    buffer[base + size[k]] = v;
    if (++size[k] === capacity) {
      // Keep the `keep` largest as a multiset: values above the keep-th largest, then copies of it.
      selectLargest(buffer, base, base + capacity, keep - 1);
      cut[k] = buffer[base + keep - 1];
      size[k] = keep;
    }
  };

  return {
    units: K,
    positions,
    bytes: buffer.byteLength,
    add(output) {
      const data = output.data;
      const n = output.dims[0] ?? 0;
      if (layout.kind === 'spatial') {
        for (let i = 0; i < n; i++) {
          for (let k = 0; k < K; k++) {
            const from = (i * K + k) * positions;
            const c = cut[k];
            for (let p = 0; p < positions; p++) {
              const v = data[from + p];
              if (v > c) push(k, v);
            }
          }
        }
        return;
      }
      const tokens = output.dims[1] as number;
      for (let i = 0; i < n; i++) {
        for (let p = 0; p < positions; p++) {
          const from = (i * tokens + layout.prefix + p) * K;
          for (let k = 0; k < K; k++) {
            const v = data[from + k];
            if (v > cut[k]) push(k, v);
          }
        }
      }
    },
    thresholds(quantile, images) {
      const need = valuesAtOrAboveQuantile(images * positions, quantile);
      if (need > keep)
        throw new RangeError(`The threshold needs each unit's ${need} largest values; ${keep} were kept.`);
      const out = new Float32Array(K);
      for (let k = 0; k < K; k++) {
        const base = k * capacity;
        // Fewer values than needed were finite and above −∞: the rest rank below every number.
        if (size[k] < need) {
          out[k] = Number.NEGATIVE_INFINITY;
          continue;
        }
        selectLargest(buffer, base, base + size[k], need - 1);
        out[k] = buffer[base + need - 1];
      }
      return out;
    },
  };
}

/**
 * Partially orders `a[from, to)` descending so that position `from + t` holds its (t+1)-th largest
 * value, larger or equal values before it and smaller or equal after (Hoare's selection with a
 * median-of-three pivot).
 */
function selectLargest(a: Float32Array, from: number, to: number, t: number): void {
  let lo = from;
  let hi = to - 1;
  const target = from + t;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // Median of three as the pivot, for sorted and reversed runs.
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x > y ? (y > z ? y : Math.min(x, z)) : x > z ? x : Math.min(y, z);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return;
  }
}
