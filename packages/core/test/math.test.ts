import { describe, expect, it } from 'vitest';
import {
  createRandom,
  logSumExp,
  matmulTransposed,
  matrixFromRows,
  matrixToRows,
  randomPermutation,
  softmaxRows,
  topKIndices,
  topKPerColumn,
  transpose,
} from '../src/index';

describe('logSumExp', () => {
  it('matches log(Σ exp) on moderate values', () => {
    expect(logSumExp([1, 2, 3])).toBeCloseTo(3.40760596444438, 12);
  });
  it('is stable for large magnitudes where the naive form overflows', () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.LN2, 10);
    expect(logSumExp([-1000, -1000])).toBeCloseTo(-1000 + Math.LN2, 10);
  });
  it('handles empty and all -Infinity ranges', () => {
    expect(logSumExp([])).toBe(Number.NEGATIVE_INFINITY);
    expect(logSumExp([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBe(Number.NEGATIVE_INFINITY);
  });
  it('reads strided ranges', () => {
    expect(logSumExp([0, 9, 0, 9], 0, 2, 2)).toBeCloseTo(Math.LN2, 12);
  });
});

describe('softmaxRows', () => {
  it('gives reference values and rows that sum to one', () => {
    const out = softmaxRows(
      matrixFromRows([
        [1, 2, 3],
        [1000, 1000, 1000],
      ]),
      1,
    );
    // numpy: exp([1,2,3]) / sum
    expect(Array.from(out.data.subarray(0, 3))).toEqual([
      expect.closeTo(0.09003057, 7),
      expect.closeTo(0.24472847, 7),
      expect.closeTo(0.66524096, 7),
    ]);
    expect(Array.from(out.data.subarray(3))).toEqual([1 / 3, 1 / 3, 1 / 3].map((v) => expect.closeTo(v, 7)));
  });
  it('applies the temperature', () => {
    const out = softmaxRows(matrixFromRows([[0, 0.1]]), 10);
    expect(out.data[1]).toBeCloseTo(Math.E / (1 + Math.E), 6);
  });
});

describe('top-k', () => {
  it('keeps the k largest of each column in descending order', () => {
    const m = matrixFromRows([
      [0.1, 5],
      [0.9, 4],
      [0.5, 3],
      [0.7, 2],
    ]);
    const top = topKPerColumn(m, 2);
    expect(Array.from(top.indices)).toEqual([1, 3, 0, 1]);
    expect(Array.from(top.values)).toEqual([0.9, 0.7, 5, 4].map((v) => Math.fround(v)));
  });
  it('breaks ties by the lower index', () => {
    const m = matrixFromRows([[1], [2], [2], [1], [2]]);
    expect(Array.from(topKPerColumn(m, 3).indices)).toEqual([1, 2, 4]);
    expect(Array.from(topKPerColumn(m, 4).indices)).toEqual([1, 2, 4, 0]);
    expect(Array.from(topKIndices([1, 2, 2, 1, 2], 4))).toEqual([1, 2, 4, 0]);
  });
  it('ranks NaN last', () => {
    const m = matrixFromRows([[Number.NaN], [1], [0]]);
    expect(Array.from(topKPerColumn(m, 2).indices)).toEqual([1, 2]);
    expect(Array.from(topKIndices([Number.NaN, 1, 0], 2))).toEqual([1, 2]);
  });
  it('rejects k outside 1..N', () => {
    const m = matrixFromRows([[1], [2]]);
    expect(() => topKPerColumn(m, 3)).toThrow(/between 1 and the number of rows \(2\)/);
    expect(() => topKPerColumn(m, 0)).toThrow(RangeError);
  });
  it('agrees with a full sort on random data', () => {
    const random = createRandom(7);
    const rows = 500;
    const cols = 9;
    const m = matrixFromRows(
      Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.round(random() * 50))),
    );
    const top = topKPerColumn(m, 37);
    for (let c = 0; c < cols; c++) {
      const column = Array.from({ length: rows }, (_, r) => m.data[r * cols + c]);
      expect(Array.from(top.indices.subarray(c * 37, (c + 1) * 37))).toEqual(
        Array.from(topKIndices(column, 37)),
      );
    }
  });
});

describe('matmulTransposed and transpose', () => {
  it('computes A·Bᵀ', () => {
    const a = matrixFromRows([
      [1, 2, 3, 4, 5],
      [0, 1, 0, 1, 0],
    ]);
    const b = matrixFromRows([
      [1, 1, 1, 1, 1],
      [2, 0, 0, 0, 1],
      [0, 0, 0, 0, 0],
    ]);
    expect(matrixToRows(matmulTransposed(a, b))).toEqual([
      [15, 7, 0],
      [2, 0, 0],
    ]);
  });
  it('rejects mismatched inner dimensions', () => {
    expect(() => matmulTransposed(matrixFromRows([[1, 2]]), matrixFromRows([[1, 2, 3]]))).toThrow(RangeError);
  });
  it('transposes', () => {
    expect(
      matrixToRows(
        transpose(
          matrixFromRows([
            [1, 2, 3],
            [4, 5, 6],
          ]),
        ),
      ),
    ).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });
});

describe('seeded randomness', () => {
  it('repeats for a seed and differs between seeds', () => {
    const a = randomPermutation(20, createRandom(1));
    expect(randomPermutation(20, createRandom(1))).toEqual(a);
    expect(randomPermutation(20, createRandom(2))).not.toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
