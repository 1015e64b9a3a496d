import { describe, expect, it } from 'vitest';
import { createRandom } from '../src/index';
import { createTopMapValues, valuesAtOrAboveQuantile } from '../src/pipeline/map-quantiles';

// Values of five kinds: signed, many ties, mostly ±0, tiny, large.
function values(unit: number, random: () => number): number {
  const r = random();
  switch (unit % 5) {
    case 0:
      return r * 2 - 1;
    case 1:
      return Math.round(r * 4);
    case 2:
      return r < 0.9 ? (r < 0.45 ? -0 : 0) : r;
    case 3:
      return r * 1e-30;
    default:
      return r * 1e6;
  }
}

/** The definition: the value at rank ⌊(1−q)(n−1)⌋ of the unit's sorted values. */
function sortedThreshold(all: number[], quantile: number): number {
  const sorted = Float32Array.from(all).sort();
  return sorted[Math.floor((1 - quantile) * (sorted.length - 1))];
}

describe('createTopMapValues', () => {
  it('gives each unit’s exact top-quantile threshold of spatial maps streamed in batches', () => {
    const random = createRandom(5);
    const [N, K, h, w] = [203, 5, 3, 4];
    const data = new Float32Array(N * K * h * w);
    for (let i = 0; i < data.length; i++) data[i] = values(Math.floor(i / (h * w)) % K, random);
    const top = createTopMapValues(
      { kind: 'spatial', units: K, height: h, width: w },
      valuesAtOrAboveQuantile(N * h * w, 0.05),
    );
    for (let start = 0; start < N; start += 16) {
      const n = Math.min(16, N - start);
      top.add({
        dtype: 'float32',
        dims: [n, K, h, w],
        data: data.subarray(start * K * h * w, (start + n) * K * h * w),
      });
    }
    // Kept for 0.05, so every smaller quantile is exact too.
    for (const quantile of [0.05, 0.01, 0.005]) {
      const thresholds = top.thresholds(quantile, N);
      for (let k = 0; k < K; k++) {
        const all: number[] = [];
        for (let i = 0; i < N; i++) all.push(...data.subarray((i * K + k) * h * w, (i * K + k + 1) * h * w));
        // ±0 compare equal, as the masks' `>` does.
        expect(thresholds[k] === sortedThreshold(all, quantile)).toBe(true);
      }
    }
    expect(() => top.thresholds(0.2, N)).toThrow(RangeError);
  });

  it('reads a token layer’s patch grid, leaving out its class token', () => {
    const random = createRandom(9);
    const [N, L, D] = [60, 1 + 9, 4];
    const data = new Float32Array(N * L * D);
    for (let i = 0; i < data.length; i++) data[i] = values(i % D, random);
    // The class token holds the largest values: they must not count.
    for (let i = 0; i < N; i++) for (let k = 0; k < D; k++) data[i * L * D + k] = 1e9;
    const top = createTopMapValues(
      { kind: 'tokens', units: D, height: 3, width: 3, prefix: 1 },
      valuesAtOrAboveQuantile(N * 9, 0.1),
    );
    top.add({ dtype: 'float32', dims: [N, L, D], data });
    const thresholds = top.thresholds(0.1, N);
    for (let k = 0; k < D; k++) {
      const all: number[] = [];
      for (let i = 0; i < N; i++) for (let p = 1; p < L; p++) all.push(data[(i * L + p) * D + k]);
      expect(thresholds[k] === sortedThreshold(all, 0.1)).toBe(true);
    }
  });

  it('serves a probe set that lost images with the buffer sized for all of them', () => {
    const random = createRandom(2);
    const [N, K] = [50, 3];
    const top = createTopMapValues(
      { kind: 'spatial', units: K, height: 2, width: 2 },
      valuesAtOrAboveQuantile(N * 4, 0.02),
    );
    const data = Float32Array.from({ length: (N - 7) * K * 4 }, () => random());
    top.add({ dtype: 'float32', dims: [N - 7, K, 2, 2], data });
    const thresholds = top.thresholds(0.02, N - 7);
    for (let k = 0; k < K; k++) {
      const all: number[] = [];
      for (let i = 0; i < N - 7; i++) all.push(...data.subarray((i * K + k) * 4, (i * K + k + 1) * 4));
      expect(thresholds[k]).toBe(sortedThreshold(all, 0.02));
    }
  });
});
