import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy, tensorToMatrix } from '@neurodissect/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { cli, tempDir } from './helpers';

const fixtures = fixturePath('runtime-node');
const model = join(fixtures, 'resnet/narrow-resnet.onnx');

interface Reference {
  /** Golden `imagenet` tensors, named after their image (`coffee.imagenet.f32` is coffee.png's). */
  images: string[];
  layers: Record<string, { shape: number[]; mean?: number[][]; max?: number[][]; identity?: number[][] }>;
}
const reference = JSON.parse(readFileSync(join(fixtures, 'resnet/activations.json'), 'utf8')) as Reference;
const imageFiles = ['coffee.png', 'chessboard_RGB.png', 'brick.png', 'hubble_deep_field.jpg'];

/** Torch's row for image `id` (a file name) of a layer's reference matrix. */
function referenceRow(rows: number[][], id: string): number[] {
  const index = reference.images.indexOf(`${id.replace(/\.\w+$/, '')}.imagenet.f32`);
  expect(index, id).toBeGreaterThanOrEqual(0);
  return rows[index];
}

function readActivations(path: string) {
  return tensorToMatrix(parseNpy(readFileSync(path)));
}

describe('neurodissect activations', () => {
  let images: string;
  beforeAll(() => {
    images = join(tempDir(), 'probe');
    mkdirSync(join(images, 'more'), { recursive: true });
    // One image in a subfolder: the folder is read recursively.
    for (const [i, file] of imageFiles.entries()) {
      copyFileSync(join(fixtures, 'preprocess', file), join(images, i === 3 ? `more/${file}` : file));
    }
    copyFileSync(join(fixtures, 'preprocess/not-an-image.png'), join(images, 'corrupt.png'));
    writeFileSync(join(images, 'notes.txt'), 'not an image\n');
  });

  it("matches torch's per-layer spatial means and maxima within 1e-4, skipping non-images", async () => {
    const layers = Object.keys(reference.layers);
    for (const pool of ['mean', 'max'] as const) {
      // --out's parent does not exist yet: it is created.
      const out = join(tempDir(), 'nested', pool);
      const result = await cli(
        'activations',
        '--model',
        model,
        '--layers',
        layers.join(','),
        '--images',
        images,
        '--preset',
        'imagenet',
        '--pool',
        pool,
        '--batch-size',
        '3',
        '--out',
        out,
      );
      expect(result.code).toBe(0);
      // One line per skipped file, the corrupt image and the text file.
      const warnings = result.stderr.trimEnd().split('\n');
      expect(warnings).toHaveLength(2);
      expect(warnings).toContainEqual(expect.stringMatching(/^warning: Skipped notes\.txt: not an image/));
      expect(warnings).toContainEqual(
        expect.stringMatching(/^warning: skipped corrupt\.png: .*could not be decoded/),
      );
      expect(result.stdout).toContain(`of 4 images to ${out}`);

      const manifest = JSON.parse(readFileSync(join(out, 'images.json'), 'utf8')) as {
        images: string[];
        skipped: { path: string; reason: string }[];
        layers: Record<string, { file: string; shape: number[] }>;
      };
      expect(manifest.images).toEqual([
        'brick.png',
        'chessboard_RGB.png',
        'coffee.png',
        'more/hubble_deep_field.jpg',
      ]);
      expect(manifest.skipped.map((s) => s.path).sort()).toEqual(['corrupt.png', 'notes.txt']);

      for (const layer of layers) {
        const ref = reference.layers[layer];
        const expectedRows = pool === 'mean' ? (ref.mean ?? ref.identity!) : (ref.max ?? ref.identity!);
        const matrix = readActivations(join(out, `${layer}.npy`));
        expect([matrix.rows, matrix.cols], layer).toEqual([4, ref.shape[1]]);
        expect(manifest.layers[layer]).toEqual({ file: `${layer}.npy`, shape: [4, ref.shape[1]] });
        let worst = 0;
        for (const [row, id] of manifest.images.entries()) {
          const expected = referenceRow(expectedRows, id.split('/').pop()!);
          for (let k = 0; k < matrix.cols; k++) {
            worst = Math.max(worst, Math.abs(matrix.data[row * matrix.cols + k] - expected[k]));
          }
        }
        expect(worst, `${pool} ${layer}`).toBeLessThan(1e-4);
      }
    }
  });

  it('names the closest layers for an unknown one, writing nothing', async () => {
    const out = join(tempDir(), 'out');
    const result = await cli(
      'activations',
      '--model',
      model,
      '--layers',
      'layer1,layer5',
      '--images',
      images,
      '--out',
      out,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /neurodissect: --layers: The model .* has no layer "layer5"; closest: layer\d[^\n]*\n$/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('reports a missing model and a missing image folder, one line each', async () => {
    const out = join(tempDir(), 'out');
    const missing = await cli(
      'activations',
      '--model',
      join(fixtures, 'nope.onnx'),
      '--layers',
      'layer1',
      '--images',
      images,
      '--out',
      out,
    );
    expect(missing).toMatchObject({
      code: 2,
      stderr: `neurodissect: --model: file not found: ${join(fixtures, 'nope.onnx')}\n`,
    });
    const noImages = await cli(
      'activations',
      '--model',
      model,
      '--layers',
      'layer1',
      '--images',
      join(images, 'nope'),
      '--out',
      out,
    );
    expect(noImages).toMatchObject({
      code: 2,
      stderr: `neurodissect: --images: folder not found: ${join(images, 'nope')}\n`,
    });
    expect(existsSync(out)).toBe(false);
  });
});
