import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { cli, tempDir } from './helpers';

const preprocessFixtures = fixturePath('runtime-node', 'preprocess');
const manifest = JSON.parse(readFileSync(join(preprocessFixtures, 'manifest.json'), 'utf8')) as {
  cases: { image: string; pipeline: 'clip' | 'imagenet'; tensor: string; shape: number[] }[];
};

function goldenTensor(file: string): Float32Array {
  const bytes = readFileSync(join(preprocessFixtures, file));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe('neurodissect preprocess', () => {
  const dir = tempDir();

  it.each(manifest.cases.map((c) => [`${c.image} ${c.pipeline}`, c] as const))(
    'matches the golden tensor of %s (mean abs diff < 0.02)',
    async (_, golden) => {
      // A folder that does not exist yet: the command creates it.
      const out = join(dir, golden.pipeline, `${golden.image}.npy`);
      const result = await cli(
        'preprocess',
        '--preset',
        golden.pipeline,
        join(preprocessFixtures, golden.image),
        '--out',
        out,
      );
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toContain(`wrote ${out}: [3, 224, 224] float32`);
      const tensor = parseNpy(readFileSync(out));
      expect(tensor.dtype).toBe('float32');
      expect(tensor.dims).toEqual(golden.shape);
      const expected = goldenTensor(golden.tensor);
      expect(tensor.data.length).toBe(expected.length);
      let sum = 0;
      for (let i = 0; i < expected.length; i++) sum += Math.abs(Number(tensor.data[i]) - expected[i]);
      expect(sum / expected.length).toBeLessThan(0.02);
    },
  );

  it('reports a file that is not an image as one line with exit code 2, writing nothing', async () => {
    const out = join(dir, 'bad.npy');
    const result = await cli(
      'preprocess',
      '--preset',
      'clip',
      join(preprocessFixtures, 'not-an-image.png'),
      '--out',
      out,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^neurodissect: IMAGE: The image .*not-an-image\.png could not be decoded[^\n]*\n$/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('reports a missing image and an unknown preset', async () => {
    const missing = await cli(
      'preprocess',
      '--preset',
      'clip',
      join(dir, 'nope.png'),
      '--out',
      join(dir, 'x.npy'),
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^neurodissect: IMAGE: The image .*nope\.png does not exist; check the path\.\n$/,
    );
    const preset = await cli(
      'preprocess',
      '--preset',
      'vgg',
      join(preprocessFixtures, 'brick.png'),
      '--out',
      join(dir, 'x.npy'),
    );
    expect(preset.code).toBe(2);
    expect(preset.stderr).toContain("'vgg' is invalid");
  });
});
