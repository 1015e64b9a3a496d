import { describe, expect, it } from 'vitest';
import { createMatrix, matrixFromRows, validateResults } from '../src/index';
import { compareScores } from '../src/testing/compare-scores';
import { resultsFixture } from '../src/testing/results-fixture';

describe('resultsFixture', () => {
  it('fills in a valid document around the layers', () => {
    const results = resultsFixture({
      images: ['a.png', { id: 'b', uri: 'b.png' }],
      layers: [
        {
          name: 'conv',
          neurons: [
            { unit: 3, topImages: [{ image: 1 }], labels: { x: [{ label: 'dog', score: 1, concept: 4 }] } },
            { unit: 0, labels: { y: [{ label: 'cat', score: 0.5 }], x: [] } },
          ],
        },
      ],
    });
    expect(validateResults(results)).toMatchObject({ ok: true });
    expect(results.probe.images).toEqual([
      { id: 'img0', uri: 'a.png' },
      { id: 'b', uri: 'b.png' },
    ]);
    // Units: one past the highest; labelers: in order of first appearance; concepts: past the highest index.
    expect(results.layers[0].units).toBe(4);
    expect(results.layers[0].neurons[1].topImages).toEqual([]);
    expect(results.labelers).toEqual([
      { id: 'x', version: '1', options: {} },
      { id: 'y', version: '1', options: {} },
    ]);
    expect(results.concepts).toEqual({ name: 'fixture', size: 5 });
    expect(results.run).toEqual({
      tool: { name: 'neurodissect', version: '0.0.0' },
      createdAt: '2024-01-01T00:00:00Z',
      kind: 'test',
      parameters: {},
    });
  });

  it('throws on a fixture that breaks the format, naming where', () => {
    expect(() =>
      resultsFixture({
        labelers: ['x'],
        layers: [{ name: 'conv', neurons: [{ unit: 0, topImages: [{ image: 2 }], labels: { y: [] } }] }],
      }),
    ).toThrow(
      'resultsFixture is not a valid Results document:\n' +
        '  layers[0].neurons[0].topImages[0].image: image index 2 is outside probe.images (0 images)\n' +
        '  layers[0].neurons[0].labels.y: labeler "y" is not listed in labelers',
    );
  });
});

describe('compareScores', () => {
  const expected = matrixFromRows([
    [1, 2],
    [10, 0],
  ]);

  it('measures the worst excess over 1e-3 + 1e-4·|expected| and lists rows whose argmax moved', () => {
    // Row 0: errors 0.0005 and 0.0022 against allowances 0.0011 and 0.0012 (excess 0.001). Row 1:
    // 0 becomes 11 (allowance 0.001, the worst excess) and its best concept moves from 0 to 1.
    const actual = matrixFromRows([
      [1.0005, 2.0022],
      [10, 11],
    ]);
    const { worstExcess, argmaxMismatches } = compareScores(actual, expected);
    expect(worstExcess).toBeCloseTo(11 - 0.001, 5);
    expect(argmaxMismatches).toEqual([1]);
    expect(
      compareScores(
        matrixFromRows([
          [1.0005, 2.0011],
          [10, 0],
        ]),
        expected,
      ).worstExcess,
    ).toBeLessThanOrEqual(0);
  });

  it('counts NaN as out of tolerance and refuses different shapes', () => {
    const withNaN = matrixFromRows([
      [Number.NaN, 2],
      [10, 0],
    ]);
    expect(compareScores(withNaN, expected).worstExcess).toBe(Number.POSITIVE_INFINITY);
    expect(() => compareScores(createMatrix(2, 3), expected)).toThrow(/2×3, expected 2×2/);
  });
});
