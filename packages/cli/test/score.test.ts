import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createMatrix,
  createRandom,
  matrixFromRows,
  parseDescriptionsCsv,
  parseNpy,
  tensorToMatrix,
} from '@neurodissect/core';
import { compareScores, pmiOracle } from '@neurodissect/core/testing';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { GOLDEN_CASES, loadGolden } from '../../../scripts/test-setup/golden';
import { cli, tempDir, writeMatrix } from './helpers';

describe.each(GOLDEN_CASES)('neurodissect score reproduces golden %s', (name) => {
  const golden = loadGolden(name);
  const dir = tempDir();
  const activations = writeMatrix(dir, 'A.npy', golden.activations);
  const clip = writeMatrix(dir, 'P.npy', golden.clip);

  it.each([
    ['soft_wpmi', ['--fn', 'soft_wpmi']],
    ['soft_wpmi_k20_a5_lam05', ['--fn', 'soft_wpmi', '--top-k', '20', '--a', '5', '--lambda', '0.5']],
    ['wpmi', ['--fn', 'wpmi']],
    ['cos_similarity', ['--fn', 'cos']],
    ['cos_similarity_cubed', ['--fn', 'cos_cubed']],
  ])('%s', async (key, args) => {
    const out = join(dir, `${key}.npy`);
    const result = await cli(
      'score',
      ...args,
      '--activations',
      activations,
      '--clip-sim',
      clip,
      '--out',
      out,
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const scores = tensorToMatrix(parseNpy(readFileSync(out)));
    const { worstExcess, argmaxMismatches } = compareScores(scores, golden.outputs[key]);
    expect(worstExcess).toBeLessThanOrEqual(0);
    expect(argmaxMismatches).toEqual([]);
  });
});

describe('neurodissect score', () => {
  const dir = tempDir();
  const activations = writeMatrix(
    dir,
    'A.npy',
    matrixFromRows([
      [1, 0],
      [0, 1],
      [0.5, 0.5],
    ]),
  );
  const images = writeMatrix(
    dir,
    'I.npy',
    matrixFromRows([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 2],
    ]),
  );
  const texts = writeMatrix(
    dir,
    'T.npy',
    matrixFromRows([
      [3, 0, 0],
      [0, 0.5, 0],
    ]),
  );

  it('scores from embeddings and writes the top label of each neuron', async () => {
    const concepts = join(dir, 'concepts.txt');
    writeFileSync(concepts, 'horizontal\n\nvertical\n');
    const labels = join(dir, 'labels.csv');
    const result = await cli(
      'score',
      '--fn',
      'cos',
      '--activations',
      activations,
      '--image-emb',
      images,
      '--text-emb',
      texts,
      '--out',
      join(dir, 'S.npy'),
      '--concepts',
      concepts,
      '--labels',
      labels,
      '--layer',
      'fc',
      // Three images: the columns CLIP-Dissect's format has, without the null's.
      '--null',
      '0',
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`note: ${concepts}: dropped 1 blank line(s)\n`);
    // P = Î·T̂ᵀ = [[1,0],[0,1],[0,0]]; neuron 0 is (1,0,0.5)/‖·‖ → cos with column 0 = 1/√1.25.
    expect(readFileSync(labels, 'utf8')).toBe(
      `layer,unit,description,similarity\nfc,0,horizontal,${Math.fround(1 / Math.sqrt(1.25))}\nfc,1,vertical,${Math.fround(1 / Math.sqrt(1.25))}\n`,
    );
  });

  it.each([
    [['--clip-sim', 'missing.npy'], /^neurodissect: --clip-sim: file not found: missing.npy\n$/],
    [['--image-emb', 'I'], /^neurodissect: --image-emb and --text-emb go together; give both\n$/],
    [[], /give either --clip-sim P.npy, or both --image-emb I.npy and --text-emb T.npy/],
  ])('rejects %j with a one-line error and exit code 2', async (args, message) => {
    const result = await cli('score', '--activations', activations, '--out', join(dir, 'x.npy'), ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('names the file for a wrong dtype, a row mismatch, topK > N and NaN', async () => {
    const int64 = join(dir, 'int.npy');
    writeFileSync(int64, Buffer.from(readFileSync(fixturePath('core', 'npy', 'f16.npy'))));
    const wrongRows = writeMatrix(dir, 'P4.npy', createMatrix(4, 2));
    const withNaN = writeMatrix(
      dir,
      'nan.npy',
      matrixFromRows([
        [0.1, Number.NaN],
        [0, 0],
        [0, 0],
      ]),
    );
    const ok = writeMatrix(dir, 'P3.npy', createMatrix(3, 2));
    const run = (...args: string[]) =>
      cli('score', '--activations', activations, '--out', join(dir, 'x.npy'), ...args);

    expect(await run('--clip-sim', int64)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--clip-sim: .*int.npy: dtype '<f2' is not supported/),
    });
    expect(await run('--clip-sim', wrongRows)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/P4.npy has 4 rows \(images\) but .*A.npy has 3/),
    });
    expect(await run('--clip-sim', ok, '--top-k', '5')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /--top-k: 5 is larger than the number of images \(3\); use --top-k 3 or less/,
      ),
    });
    expect(await run('--clip-sim', withNaN)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/nan.npy holds NaN at row 0, column 1/),
    });
    for (const args of [
      ['--clip-sim', int64],
      ['--clip-sim', withNaN],
    ]) {
      expect((await run(...args)).stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('neurodissect score with several layers in one pass', () => {
  const golden = loadGolden('case-3');
  const dir = tempDir();
  const clip = writeMatrix(dir, 'P.npy', golden.clip);
  const { rows, cols } = golden.activations;
  const split = Math.floor(cols / 2);
  const columns = (from: number, to: number) => {
    const m = createMatrix(rows, to - from);
    for (let r = 0; r < rows; r++)
      m.data.set(golden.activations.data.subarray(r * cols + from, r * cols + to), r * (to - from));
    return m;
  };
  const early = writeMatrix(dir, 'early.npy', columns(0, split));
  const late = writeMatrix(dir, 'late.npy', columns(split, cols));
  const concepts = join(dir, 'concepts.txt');
  writeFileSync(concepts, Array.from({ length: golden.clip.cols }, (_, m) => `concept ${m}`).join('\n'));
  const read = (path: string) => tensorToMatrix(parseNpy(readFileSync(path)));

  it.each(['soft_wpmi', 'wpmi', 'cos'])(
    '%s: each layer equals scoring it alone, its prior over its own neurons; one descriptions.csv',
    async (fn) => {
      const out = join(dir, `${fn}-layers`);
      const labels = join(dir, `${fn}-labels.csv`);
      const result = await cli(
        'score',
        '--fn',
        fn,
        '--activations',
        `layer1=${early}`,
        '--activations',
        `layer2=${late}`,
        '--clip-sim',
        clip,
        '--out',
        out,
        '--concepts',
        concepts,
        '--labels',
        labels,
      );
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const csv = readFileSync(labels, 'utf8').trim().split('\n');
      expect(csv).toHaveLength(1 + cols);
      for (const [name, file, units] of [
        ['layer1', early, split],
        ['layer2', late, cols - split],
      ] as const) {
        const alone = join(dir, `${fn}-${name}-alone.npy`);
        expect(
          await cli('score', '--fn', fn, '--activations', file, '--clip-sim', clip, '--out', alone),
        ).toMatchObject({ code: 0 });
        const together = read(join(out, `${name}.npy`));
        expect([together.rows, together.cols]).toEqual([units, golden.clip.cols]);
        expect(Array.from(together.data)).toEqual(Array.from(read(alone).data));
        expect(csv.filter((line) => line.startsWith(`${name},`))).toHaveLength(units);
      }
      if (fn === 'soft_wpmi') {
        // Against the tests' plain float64 formulation of the reference.
        const expected = pmiOracle('soft_wpmi', golden.clip, columns(split, cols));
        const { worstExcess, argmaxMismatches } = compareScores(read(join(out, 'layer2.npy')), expected);
        expect(worstExcess).toBeLessThanOrEqual(0);
        expect(argmaxMismatches).toEqual([]);
      }
    },
  );

  it.each([
    [['--activations', `a=${clip}`, '--activations', clip], /give each as NAME=FILE/],
    [['--activations', `a=${clip}`, '--activations', `a=${clip}`], /layer a is given twice/],
    [['--activations', `../x=${clip}`, '--activations', `b=${clip}`], /cannot name a file/],
    [[], /--activations: give N×K activations/],
  ])('rejects %j with a one-line error', async (args, message) => {
    const result = await cli('score', ...args, '--clip-sim', clip, '--out', join(dir, 'bad'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says when --out is a file but several layers were given', async () => {
    const file = join(dir, 'file.npy');
    writeFileSync(file, '');
    const result = await cli(
      'score',
      '--activations',
      `a=${early}`,
      '--activations',
      `b=${late}`,
      '--clip-sim',
      clip,
      '--out',
      file,
    );
    expect(result).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--out: .* is a file; with several layers/),
    });
  });
});

// Pure noise (random embeddings and activations): the permutation null's p-values must be uniform,
// so about 5% fall below 0.05, and Benjamini–Hochberg keeps almost every q at or above 0.05.
describe('neurodissect score: significance on pure noise', () => {
  const N = 5000;
  const M = 2000;
  const K = 512;
  const D = 32;
  const dir = tempDir();
  const gaussian = (rows: number, cols: number, seed: number) => {
    const random = createRandom(seed);
    const m = createMatrix(rows, cols);
    for (let i = 0; i < m.data.length; i++) {
      m.data[i] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    }
    return m;
  };
  const activations = writeMatrix(dir, 'noise-A.npy', gaussian(N, K, 21));
  const images = writeMatrix(dir, 'noise-I.npy', gaussian(N, D, 22));
  const texts = writeMatrix(dir, 'noise-T.npy', gaussian(M, D, 23));
  const concepts = join(dir, 'noise-concepts.txt');
  writeFileSync(concepts, `${Array.from({ length: M }, (_, m) => `word${m}`).join('\n')}\n`);

  it.each(['soft_wpmi', 'wpmi', 'cos'])(
    '%s: p < 0.05 for 2-8% of neurons, q < 0.05 for at most 1%',
    async (fn) => {
      const labels = join(dir, `${fn}-descriptions.csv`);
      const result = await cli(
        'score',
        '--fn',
        fn,
        '--activations',
        activations,
        '--image-emb',
        images,
        '--text-emb',
        texts,
        '--concepts',
        concepts,
        '--labels',
        labels,
        '--out',
        join(dir, `${fn}.npy`),
      );
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const rows = parseDescriptionsCsv(readFileSync(labels, 'utf8'));
      expect(readFileSync(labels, 'utf8').split('\n')[0]).toBe(
        'layer,unit,description,similarity,p_value,q_value',
      );
      expect(rows).toHaveLength(K);
      const p = rows.filter((r) => r.pValue! < 0.05).length / K;
      const q = rows.filter((r) => r.qValue! < 0.05).length / K;
      expect(p).toBeGreaterThanOrEqual(0.02);
      expect(p).toBeLessThanOrEqual(0.08);
      expect(q).toBeLessThanOrEqual(0.01);
      const significant = rows.filter((r) => r.qValue! < 0.05).length;
      expect(result.stdout).toContain(
        `layer: ${significant} of ${K} neurons significant (q < 0.05) against 1000 random image orderings`,
      );
    },
    120_000,
  );

  it('--null 0 leaves the columns out', async () => {
    const labels = join(dir, 'no-null.csv');
    const result = await cli(
      'score',
      '--fn',
      'cos',
      '--null',
      '0',
      '--activations',
      activations,
      '--image-emb',
      images,
      '--text-emb',
      texts,
      '--concepts',
      concepts,
      '--labels',
      labels,
      '--out',
      join(dir, 'no-null.npy'),
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(labels, 'utf8').split('\n')[0]).toBe('layer,unit,description,similarity');
  });
});
