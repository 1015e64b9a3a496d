import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsFixture } from '@neurodissect/core/testing';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers';

describe('neurodissect validate', () => {
  const dir = tempDir();
  const doc = resultsFixture({
    images: ['a.png'],
    layers: [
      {
        name: 'layer1',
        neurons: [
          {
            unit: 0,
            topImages: [{ image: 0, activation: 1 }],
            labels: { 'clip-dissect': [{ label: 'dog', score: 1 }] },
          },
        ],
      },
    ],
  });

  it('says valid and the version', async () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify(doc));
    expect(await cli('validate', file)).toEqual({
      code: 0,
      stdout: `valid: ${file} is a Results document, version 2\n`,
      stderr: '',
    });
  });

  it('reads a version-1 document and says it migrates', async () => {
    const file = join(dir, 'v1.json');
    writeFileSync(file, JSON.stringify({ ...doc, version: 1 }));
    expect(await cli('validate', file)).toEqual({
      code: 0,
      stdout: `valid: ${file} is a Results document, version 1 (read as version 1, migrates to 2)\n`,
      stderr: '',
    });
  });

  it('prints each problem with its JSON path and exits 1', async () => {
    const file = join(dir, 'bad.json');
    const bad = structuredClone(doc) as unknown as {
      layers: { neurons: { topImages: { activation: unknown }[] }[] }[];
    };
    bad.layers[0].neurons[0].topImages[0].activation = 'x';
    writeFileSync(file, JSON.stringify(bad));
    const result = await cli('validate', file);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^invalid: .*bad.json has 1 problem\(s\):\n {2}layers\[0\]\.neurons\[0\]\.topImages\[0\]\.activation: .*expected number/,
    );
  });

  it('rejects a file that is not JSON, or missing, with exit code 2', async () => {
    const file = join(dir, 'x.json');
    writeFileSync(file, '{');
    expect(await cli('validate', file)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/x.json: not valid JSON/),
    });
    expect(await cli('validate', join(dir, 'none.json'))).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/file not found/),
    });
  });
});
