import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseNpy, tensorToMatrix } from '@neurodissect/core';
import { bundledClipVocabPath, clipTokenizerJsonFromBpe } from '@neurodissect/runtime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { cli, tempDir } from './helpers';

const fixtures = fixturePath('runtime-node');
const clipFixtures = join(fixtures, 'clip');

/** Torch's embeddings of the golden images and of texts (see the fixture's SOURCE.md). */
const reference = JSON.parse(readFileSync(join(clipFixtures, 'reference.json'), 'utf8')) as {
  images: string[];
  imageEmbeds: number[][];
  texts: string[];
  textEmbeds: number[][];
};

interface Sidecar {
  kind: 'images' | 'concepts';
  layout: string;
  shape: number[];
  rows: string[];
  skipped?: { path: string; reason: string }[];
}

/** Largest difference between each row of `out` and torch's row for the same name. */
function worstDifference(
  out: string,
  expectedRow: (name: string) => number[],
): { sidecar: Sidecar; worst: number } {
  const matrix = tensorToMatrix(parseNpy(readFileSync(out)));
  const sidecar = JSON.parse(readFileSync(out.replace(/\.npy$/, '.json'), 'utf8')) as Sidecar;
  expect([matrix.rows, matrix.cols]).toEqual(sidecar.shape);
  expect(sidecar.rows).toHaveLength(matrix.rows);
  let worst = 0;
  for (const [row, name] of sidecar.rows.entries()) {
    const expected = expectedRow(name);
    expect(expected, name).toHaveLength(matrix.cols);
    for (const [k, v] of expected.entries())
      worst = Math.max(worst, Math.abs(matrix.data[row * matrix.cols + k] - v));
  }
  return { sidecar, worst };
}

let scratch: string;
let hfDir: string;
let images: string;
let concepts: string;
beforeAll(() => {
  scratch = tempDir();
  // The Hugging Face fixture lacks tokenizer.json (2 MB); write it from the bundled vocabulary.
  hfDir = join(scratch, 'clip-hf');
  cpSync(join(clipFixtures, 'clip-hf'), hfDir, { recursive: true });
  const bpe = gunzipSync(readFileSync(bundledClipVocabPath())).toString('utf8');
  writeFileSync(join(hfDir, 'tokenizer.json'), JSON.stringify(clipTokenizerJsonFromBpe(bpe)));

  images = join(scratch, 'images');
  mkdirSync(images);
  for (const file of reference.images) copyFileSync(join(fixtures, 'preprocess', file), join(images, file));
  copyFileSync(join(fixtures, 'preprocess/not-an-image.png'), join(images, 'corrupt.png'));
  writeFileSync(join(images, 'README.md'), 'not an image\n');

  // A repeated concept, dropped with a note.
  concepts = join(scratch, 'concepts.txt');
  writeFileSync(concepts, `${[...reference.texts, 'dog'].join('\n')}\n`);
});

describe.each([
  ['huggingface', () => hfDir],
  ['openclip', () => join(clipFixtures, 'clip-openclip')],
] as const)('neurodissect embed, %s layout, against torch', (layout, clipDir) => {
  it('embeds a folder of images as torch does, within 1e-4, skipping non-images', async () => {
    // --out's parent does not exist yet: it is created.
    const out = join(tempDir(), 'nested', 'images.npy');
    const result = await cli(
      'embed',
      '--clip',
      clipDir(),
      '--images',
      images,
      '--out',
      out,
      '--batch-size',
      '3',
    );
    expect(result.code).toBe(0);
    const warnings = result.stderr.trimEnd().split('\n');
    expect(warnings).toHaveLength(2);
    expect(warnings).toContainEqual(expect.stringMatching(/^warning: Skipped README\.md: not an image/));
    expect(warnings).toContainEqual(
      expect.stringMatching(/^warning: skipped corrupt\.png: .*could not be decoded/),
    );
    expect(result.stdout).toContain(`wrote ${out}: 4×16 image embeddings (${layout} CLIP)`);
    const { sidecar, worst } = worstDifference(
      out,
      (name) => reference.imageEmbeds[reference.images.indexOf(name)],
    );
    expect(sidecar).toMatchObject({ kind: 'images', layout, shape: [4, 16] });
    expect(sidecar.rows).toEqual([...reference.images].sort());
    expect(sidecar.skipped?.map((s) => s.path).sort()).toEqual(['README.md', 'corrupt.png']);
    expect(worst).toBeLessThan(1e-4);
  });

  it('embeds a concept list as torch does (truncating past 77 tokens), within 1e-4', async () => {
    const out = join(tempDir(), 'texts.npy');
    const result = await cli(
      'embed',
      '--clip',
      clipDir(),
      '--concepts',
      concepts,
      '--out',
      out,
      '--batch-size',
      '2',
    );
    expect(result.code).toBe(0);
    // A text graph fixed at 77 tokens (OpenCLIP's here) is said once; a dynamic one runs each
    // batch up to its longest concept, with the same embeddings.
    expect(result.stderr).toMatch(
      layout === 'openclip'
        ? /^note: .*dog[^\n]*\nnote: .*textual\.onnx takes a fixed 77 tokens[^\n]*\n$/
        : /^note: .*dog[^\n]*\n$/,
    );
    const trimmed = reference.texts.map((t) => t.trim());
    const { sidecar, worst } = worstDifference(out, (name) => reference.textEmbeds[trimmed.indexOf(name)]);
    expect(sidecar).toMatchObject({ kind: 'concepts', layout, shape: [5, 16], rows: trimmed });
    expect(worst).toBeLessThan(1e-4);
  });
});

describe('neurodissect embed errors', () => {
  it('names what a CLIP folder lacks, and a missing one', async () => {
    const out = join(tempDir(), 'x.npy');
    const lacking = await cli(
      'embed',
      '--clip',
      join(clipFixtures, 'clip-hf'),
      '--concepts',
      concepts,
      '--out',
      out,
    );
    expect(lacking.code).toBe(2);
    expect(lacking.stderr).toMatch(
      /^neurodissect: --clip: .*Hugging Face layout but lacks tokenizer\.json[^\n]*\n$/,
    );
    const missing = await cli('embed', '--clip', join(scratch, 'nope'), '--concepts', concepts, '--out', out);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^neurodissect: --clip: .*nope[^\n]*\n$/);
    expect(existsSync(out)).toBe(false);
  });

  it('never overwrites a JSON file that is not its own sidecar, nor writes into a folder', async () => {
    const dir = tempDir();
    const results = join(dir, 'results.json');
    writeFileSync(results, '{"format":"neurodissect-results","version":1}');
    const clobber = await cli(
      'embed',
      '--clip',
      hfDir,
      '--concepts',
      concepts,
      '--out',
      join(dir, 'results.npy'),
    );
    expect(clobber.code).toBe(2);
    expect(clobber.stderr).toMatch(/--out: .*results\.json exists and is not an embeddings sidecar/);
    expect(readFileSync(results, 'utf8')).toBe('{"format":"neurodissect-results","version":1}');
    const folder = await cli('embed', '--clip', hfDir, '--concepts', concepts, '--out', dir);
    expect(folder).toMatchObject({ code: 2, stderr: expect.stringMatching(/--out: .* is a folder/) });
    // Its own sidecar is replaced as before.
    const out = join(dir, 'texts.npy');
    expect((await cli('embed', '--clip', hfDir, '--concepts', concepts, '--out', out)).code).toBe(0);
    expect((await cli('embed', '--clip', hfDir, '--concepts', concepts, '--out', out)).code).toBe(0);
  });

  it("preprocesses images as OpenAI's CLIP does with --clip-preprocess openai, and says so in the sidecar", async () => {
    const out = join(tempDir(), 'openai.npy');
    const embedImages = (preprocess: string) =>
      cli('embed', '--clip', hfDir, '--images', images, '--clip-preprocess', preprocess, '--out', out);
    const result = await embedImages('openai');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out.replace(/\.npy$/, '.json'), 'utf8'))).toMatchObject({
      preprocess: 'openai',
    });
    const bad = await embedImages('pil');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--clip-preprocess <which>' argument 'pil' is invalid\. Allowed choices are folder, openai/,
    );
  });

  it('wants exactly one of --images and --concepts', async () => {
    const out = join(tempDir(), 'x.npy');
    for (const extra of [[], ['--images', images, '--concepts', concepts]]) {
      const result = await cli('embed', '--clip', hfDir, ...extra, '--out', out);
      expect(result).toMatchObject({
        code: 2,
        stderr:
          'neurodissect: give either --images DIR (image embeddings) or --concepts FILE (text embeddings)\n',
      });
    }
  });

  it('reports a missing concept file', async () => {
    const result = await cli(
      'embed',
      '--clip',
      hfDir,
      '--concepts',
      join(scratch, 'nope.txt'),
      '--out',
      join(scratch, 'x.npy'),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^neurodissect: --concepts: .*nope\.txt does not exist; check the path\.\n$/,
    );
  });
});
