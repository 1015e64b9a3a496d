import { describe, expect, it } from 'vitest';
import {
  activationMapSourceFromTensor,
  ErrorCode,
  isNeurodissectError,
  mapLayoutOf,
  resolveSummary,
  toActivationMaps,
} from '../src/index';

describe('token layers as activation maps', () => {
  it('finds the patch grid after class and register tokens, or says why there is none', () => {
    expect(mapLayoutOf(['batch', 197, 768])).toEqual({
      kind: 'tokens',
      units: 768,
      height: 14,
      width: 14,
      prefix: 1,
    });
    expect(mapLayoutOf([2, 196, 8])).toEqual({ kind: 'tokens', units: 8, height: 14, width: 14, prefix: 0 });
    // ViT-B/16 with 4 registers: a class token and 4 registers before 14×14 patches.
    expect(mapLayoutOf([1, 201, 8])).toMatchObject({ kind: 'tokens', prefix: 5, height: 14 });
    expect(mapLayoutOf([1, 50, 8], 1)).toMatchObject({ kind: 'tokens', prefix: 1, height: 7 });
    expect(mapLayoutOf(['batch', 64, 7, 7])).toEqual({ kind: 'spatial', units: 64, height: 7, width: 7 });
    const vector = mapLayoutOf(['batch', 10]);
    expect(vector.kind === 'none' && vector.reason).toMatch(/\[batch, 10\] is a vector per image/);
    const odd = mapLayoutOf([1, 60, 8]);
    expect(odd.kind === 'none' && odd.reason).toMatch(/60 tokens are not a square patch grid/);
    const given = mapLayoutOf([1, 197, 8], 2);
    expect(given.kind === 'none' && given.reason).toMatch(/less 2 class\/register token\(s\) leave 195/);
    expect(() => mapLayoutOf([1, 197, 8], 197)).toThrow(RangeError);
  });

  it('puts token t of the grid at row ⌊t/w⌋, column t mod w of every unit, class token dropped', () => {
    // [1, 1 + 2×2, 3]: value = 10 × token + unit
    const data = Float32Array.from({ length: 15 }, (_, i) => 10 * Math.floor(i / 3) + (i % 3));
    const maps = toActivationMaps({ dtype: 'float32', dims: [1, 5, 3], data });
    expect(maps.dims).toEqual([1, 3, 2, 2]);
    expect(Array.from(maps.data)).toEqual([10, 20, 30, 40, 11, 21, 31, 41, 12, 22, 32, 42]);
  });

  it('refuses a layer without maps with a coded error naming it and the reason', () => {
    const tensor = { dtype: 'float32' as const, dims: [2, 10], data: new Float32Array(20) };
    try {
      toActivationMaps(tensor, { layer: 'fc' });
      expect.unreachable();
    } catch (error) {
      expect(isNeurodissectError(error, ErrorCode.ShapeMismatch)).toBe(true);
      expect((error as Error).message).toMatch(
        /^Layer fc has no activation maps: its output \[2, 10\] is a vector/,
      );
    }
  });

  it('gives labelers in-memory token maps as their grid', async () => {
    const data = Float32Array.from({ length: 3 * 5 * 2 }, (_, i) => i);
    const source = activationMapSourceFromTensor({ dtype: 'float32', dims: [3, 5, 2], data }, 2);
    const batches = [];
    for await (const batch of source.batches()) batches.push(batch);
    expect(batches.map((b) => [b.start, ...b.maps.dims])).toEqual([
      [0, 2, 2, 2, 2],
      [2, 1, 2, 2, 2],
    ]);
    // image 2, unit 1: tokens 1-4 → data[(2·5 + t)·2 + 1]
    expect(Array.from(batches[1].maps.data.subarray(4, 8))).toEqual([23, 25, 27, 29]);
  });

  it('resolves auto to the summary a layer of each rank gets', () => {
    expect([4, 3, 2].map((rank) => resolveSummary(rank))).toEqual(['mean', 'cls', 'identity']);
    expect(resolveSummary(3, 'mean')).toBe('mean');
    expect(resolveSummary(2, 'max')).toBe('identity');
  });
});
