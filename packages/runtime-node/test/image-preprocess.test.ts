import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, isNeurodissectError } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { decodeImage, loadPreprocessedImage } from '../src/index';

const dir = join(import.meta.dirname, 'fixtures/preprocess');

interface Case {
  image: string;
  pipeline: 'clip' | 'imagenet';
  tensor: string;
  shape: number[];
}

const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { cases: Case[] };

async function golden(file: string): Promise<Float32Array> {
  const bytes = await readFile(join(dir, file));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

// Decoding (sharp) and preprocessing (model-io's Pillow-exact resampling) together, against
// torchvision/PIL's tensors of the same files; model-io's own tests cover preprocessing alone.
describe('image preprocessing parity with torchvision/PIL', () => {
  it.each(manifest.cases)('$image with $pipeline', async ({ image, pipeline, tensor, shape }) => {
    const expected = await golden(tensor);
    const actual = await loadPreprocessedImage(join(dir, image), pipeline);
    expect(actual.dims).toEqual(shape);
    let sum = 0;
    let max = 0;
    for (let i = 0; i < expected.length; i++) {
      const d = Math.abs(actual.data[i] - expected[i]);
      sum += d;
      max = Math.max(max, d);
    }
    const mean = sum / expected.length;
    // Pillow's fixed-point resampling is reproduced exactly (measured: mean < 1e-7, max < 5e-7);
    // a JPEG decoder that rounds one level differently would move a value by ~0.017.
    expect(mean).toBeLessThan(1e-4);
    expect(max).toBeLessThan(image.endsWith('.png') ? 1e-5 : 0.05);
  });

  it('expands greyscale to three equal channels', async () => {
    const image = await decodeImage(join(dir, 'brick.png'));
    expect([image.width, image.height]).toEqual([512, 512]);
    for (let i = 0; i < 300; i += 3) {
      expect(image.data[i + 1]).toBe(image.data[i]);
      expect(image.data[i + 2]).toBe(image.data[i]);
    }
  });
});

describe('image decode errors', () => {
  it('names a missing file', async () => {
    const path = join(dir, 'missing.png');
    const error = await decodeImage(path).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.FileNotFound)).toBe(true);
    expect((error as Error).message).toContain(path);
  });

  it('names a corrupt file', async () => {
    const path = join(dir, 'not-an-image.png');
    const error = await decodeImage(path).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.ImageDecodeFailed)).toBe(true);
    expect((error as Error).message).toContain(path);
  });

  it('names a truncated PNG', async () => {
    const bytes = await readFile(join(dir, 'coffee.png'));
    const error = await decodeImage(bytes.subarray(0, 2000), { name: 'coffee-truncated.png' }).catch(
      (e: unknown) => e,
    );
    expect(isNeurodissectError(error, ErrorCode.ImageDecodeFailed)).toBe(true);
    expect((error as Error).message).toContain('coffee-truncated.png');
  });
});
