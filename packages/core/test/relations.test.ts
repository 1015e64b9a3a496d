import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bestMatches,
  conceptSetFromList,
  correlateLayers,
  createDissection,
  createMatrix,
  type DissectionOptions,
  type Labeler,
  type Matrix,
  type ProbeDataset,
  parseResults,
  relationPairs,
  strongestRelations,
  type TargetModel,
  validateResults,
} from '../src/index';

const reference = JSON.parse(
  readFileSync(new URL('./fixtures/relations/reference.json', import.meta.url), 'utf8'),
) as { a: number[][]; b: number[][]; r: (number | null)[][]; cka: number };

const matrixOf = (rows: number[][]): Matrix => {
  const m = createMatrix(rows.length, rows[0].length);
  for (const [i, row] of rows.entries()) m.data.set(row, i * m.cols);
  return m;
};

describe('correlations between two layers', () => {
  const a = matrixOf(reference.a);
  const b = matrixOf(reference.b);

  it("matches numpy's Pearson correlations and linear CKA, in blocks of any size", async () => {
    for (const blockRows of [1024, 7, 1]) {
      const { r, cka, images } = await correlateLayers(a, b, { cka: true, blockRows });
      expect(images).toBe(53);
      expect([r.rows, r.cols]).toEqual([6, 5]);
      reference.r.forEach((row, i) => {
        row.forEach((expected, j) => {
          const got = r.data[i * r.cols + j];
          if (expected === null) expect(got, `${i},${j}`).toBeNaN();
          else expect(got, `${i},${j}`).toBeCloseTo(expected, 5);
        });
      });
      expect(cka).toBeCloseTo(reference.cka, 5);
    }
  });

  it('keeps the most correlated units each way and finds the mutual best matches', async () => {
    const { r } = await correlateLayers(a, b);
    const { byRow, byColumn } = strongestRelations(r, 2);
    // From numpy's matrix: unit 1 of A goes with B's unit 4 (0.940), then unit 2 (0.050); the
    // constant unit 3 of B is never listed.
    expect(byRow[1].map((x) => x.unit)).toEqual([4, 2]);
    expect(byRow[1][0].r).toBeCloseTo(0.94, 2);
    expect(byColumn[4].map((x) => x.unit)).toEqual([5, 1]);
    expect(byColumn[3]).toEqual([]);
    const matches = bestMatches(r);
    expect(matches.filter((m) => m.mutual).map((m) => [m.unitA, m.unitB])).toEqual([
      [3, 0],
      [5, 4],
    ]);
    expect(matches.find((m) => m.unitA === 3)!.r).toBeCloseTo(1, 6);
    // Unit 1's best is B's 4, whose own best is A's 5: not mutual.
    expect(matches.find((m) => m.unitA === 1)).toMatchObject({ unitB: 4, mutual: false });
  });

  it('refuses layers over different images', async () => {
    await expect(correlateLayers(a, createMatrix(3, 2))).rejects.toThrow(RangeError);
  });

  it('pairs each layer with the one before and with the named ones, each pair once', () => {
    expect(relationPairs(['l1', 'l2', 'l3'], ['l1', 'l0'])).toEqual([
      ['l0', 'l1'],
      ['l1', 'l2'],
      ['l0', 'l2'],
      ['l2', 'l3'],
      ['l1', 'l3'],
      ['l0', 'l3'],
    ]);
  });
});

// Eight images; image i carries x = i. Layer l1 = [x, (x − 3.5)², −x], l2 = [3x + 1, (x − 3.5)²],
// l0 = [x]: by hand, l2's unit 0 correlates 1 with l1's unit 0, 0 with unit 1 (x is symmetric
// about 3.5) and −1 with unit 2; l2's unit 1 correlates 1 with l1's unit 1 and 0 with the others.
function toyDissection(overrides: Partial<DissectionOptions> = {}): DissectionOptions {
  const units: Record<string, (x: number) => number[]> = {
    l0: (x) => [x],
    l1: (x) => [x, (x - 3.5) ** 2, -x],
    l2: (x) => [3 * x + 1, (x - 3.5) ** 2],
  };
  const model: TargetModel = {
    layers: Object.keys(units).map((name) => ({
      name,
      tensor: name,
      shape: ['batch', units[name](0).length],
    })),
    async run(batch, layers) {
      const n = batch.dims[0];
      return new Map(
        layers.map((layer) => {
          const k = units[layer](0).length;
          const data = new Float32Array(n * k);
          for (let i = 0; i < n; i++) data.set(units[layer](batch.data[i]), i * k);
          return [layer, { dtype: 'float32' as const, dims: [n, k], data }];
        }),
      );
    },
    async dispose() {},
  };
  const probe: ProbeDataset = {
    name: 'eight',
    size: 8,
    item: (i) => ({ id: `img-${i}`, uri: `img-${i}.png` }),
    async read(i) {
      return { width: 1, height: 1, data: Uint8Array.of(i, 0, 0) };
    },
  };
  const labeler: Labeler = {
    id: 'first-concept',
    version: '1',
    requires: ['activations'],
    options: {},
    async label(context) {
      return Array.from({ length: context.activations.cols }, () => [
        { label: context.concepts[0], score: 1 },
      ]);
    },
  };
  return {
    target: {
      model,
      name: 'toy',
      hash: 'sha256:0a',
      preprocessing: 'none',
      prepare: (images) => ({
        dtype: 'float32',
        dims: [images.length, 1],
        data: Float32Array.from(images, (image) => image.data[0]),
      }),
    },
    layers: ['l1', 'l2'],
    probe,
    concepts: { ...conceptSetFromList(['stripes']), name: 'one' },
    labelers: [labeler],
    trust: false,
    ...overrides,
  };
}

describe('relations in a dissection', () => {
  it("records each neuron's most correlated units of the layer before, both ways", async () => {
    const results = await createDissection(toyDissection()).run();
    expect(validateResults(JSON.parse(JSON.stringify(results)))).toMatchObject({ ok: true, version: 2 });
    const [l1, l2] = results.layers;
    expect(l2.neurons[0].relations).toEqual([
      {
        layer: 'l1',
        direction: 'from',
        units: [
          { unit: 0, r: 1 },
          { unit: 1, r: 0 },
          { unit: 2, r: -1 },
        ],
      },
    ]);
    expect(l2.neurons[1].relations![0].units[0]).toEqual({ unit: 1, r: 1 });
    expect(l1.neurons[2].relations).toEqual([
      {
        layer: 'l2',
        direction: 'to',
        units: [
          { unit: 1, r: 0 },
          { unit: 0, r: -1 },
        ],
      },
    ]);
    expect(results.run.parameters.relations).toEqual({ from: [], top: 10 });
    expect(results.run.timings?.relations).toBeGreaterThanOrEqual(0);
  });

  it('relates to a layer that is not dissected, keeping the top units asked for', async () => {
    const results = await createDissection(toyDissection({ relations: { from: ['l0'], top: 1 } })).run();
    const [l1, l2] = results.layers;
    expect(results.layers.map((l) => l.name)).toEqual(['l1', 'l2']);
    expect(l1.neurons[2].relations).toEqual([
      { layer: 'l0', direction: 'from', units: [{ unit: 0, r: -1 }] },
      { layer: 'l2', direction: 'to', units: [{ unit: 1, r: 0 }] },
    ]);
    expect(l2.neurons[0].relations).toContainEqual({
      layer: 'l0',
      direction: 'from',
      units: [{ unit: 0, r: 1 }],
    });
  });

  it('records none when turned off, and refuses bad options before any work', async () => {
    const results = await createDissection(toyDissection({ relations: false })).run();
    expect(results.layers.every((l) => l.neurons.every((n) => n.relations === undefined))).toBe(true);
    expect(() => createDissection(toyDissection({ relations: { top: 0 } }))).toThrow(/relations: top/);
  });

  it('a version-1 document cannot claim relations; a relation to a unit outside its layer is refused', async () => {
    const results = await createDissection(toyDissection()).run();
    const json = JSON.parse(JSON.stringify(results));
    expect(JSON.stringify(validateResults({ ...json, version: 1 }))).toMatch(/no \\"relations\\"/);
    json.layers[1].neurons[0].relations[0].units[0].unit = 3;
    expect(() => parseResults(json)).toThrow(/unit 3 is outside layer "l1"'s 3 units/);
  });
});
