import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResults } from '@neurodissect/core';
import { resultsFixture } from '@neurodissect/core/testing';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { cli, tempDir } from './helpers';

// The catalogue's full-disk cases (7 of the issue), with the disk made full on purpose: the
// writes the commands make fail with ENOSPC as a full disk's would, from the chosen one on.
const full = vi.hoisted(() => ({ afterWrites: Number.POSITIVE_INFINITY, writes: 0, siteWrites: false }));
const enospc = (path: string) =>
  Object.assign(new Error(`ENOSPC: no space left on device, open '${path}'`), { code: 'ENOSPC', path });

vi.mock('@neurodissect/runtime-node', async (importOriginal) => {
  const real = await importOriginal<typeof import('@neurodissect/runtime-node')>();
  return {
    ...real,
    writeFileAtomic: async (path: string, data: string | Uint8Array) => {
      if (path.endsWith('.json') && full.writes++ >= full.afterWrites) {
        throw enospc(`${path}.3f2a9c1e-0b7d-4c55-9a41-8d2b6e7f0a13.tmp`);
      }
      return real.writeFileAtomic(path, data);
    },
  };
});

vi.mock('@neurodissect/viewer/build', async (importOriginal) => {
  const real = await importOriginal<typeof import('@neurodissect/viewer/build')>();
  return {
    ...real,
    // A build that has written part of the site when the disk fills.
    buildSite: async (options: { outDir: string }) => {
      if (!full.siteWrites) return real.buildSite(options as Parameters<typeof real.buildSite>[0]);
      mkdirSync(join(options.outDir, 'thumbs'), { recursive: true });
      writeFileSync(join(options.outDir, 'index.html'), '<!doctype html>');
      writeFileSync(join(options.outDir, 'thumbs', '0.webp'), '');
      throw enospc(join(options.outDir, 'thumbs', '1.webp'));
    },
  };
});

const fixtures = fixturePath('runtime-node');
const model = join(fixtures, 'resnet/narrow-resnet.onnx');
const clip = join(fixtures, 'clip/clip-openclip');

describe('a full disk', () => {
  beforeEach(() => {
    full.afterWrites = Number.POSITIVE_INFINITY;
    full.writes = 0;
    full.siteWrites = false;
  });
  const work = tempDir();
  writeFileSync(join(work, 'concepts.txt'), 'brick\ncoffee\n');
  const dissect = (out: string) =>
    cli(
      'dissect',
      '--model',
      model,
      '--clip',
      clip,
      '--probe',
      join(fixtures, 'preprocess'),
      '--layers',
      'layer1,layer2',
      '--concepts',
      join(work, 'concepts.txt'),
      '--top-k',
      '2',
      '--null',
      '0',
      '--held-out',
      '0',
      '--no-cache',
      '--out',
      out,
    );

  it('while dissect saves its second layer: names OUT, says the first is kept, suggests --resume', {
    timeout: 60_000,
  }, async () => {
    const out = join(work, 'second.json');
    full.afterWrites = 1;
    const result = await dissect(out);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `neurodissect: --out: no space left to write ${out}; the layers saved so far are in ${out}; free some space and run again with --resume\n`,
    );
    expect(parseResults(readFileSync(out, 'utf8')).layers.map((l) => l.name)).toEqual(['layer1']);
  });

  it('before dissect saved any layer: no --resume suggested, nothing written', {
    timeout: 60_000,
  }, async () => {
    const out = join(work, 'first.json');
    full.afterWrites = 0;
    const result = await dissect(out);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `neurodissect: --out: no space left to write ${out}; free some space and run again\n`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('while site writes a new folder: the half-written site is removed', async () => {
    const dir = tempDir();
    const results = resultsFixture({
      images: [{ id: 'a', uri: 'a.png' }],
      layers: [{ name: 'layer1', neurons: [{ unit: 0, topImages: [{ image: 0 }], labels: {} }] }],
    });
    writeFileSync(join(dir, 'r.json'), JSON.stringify(results));
    full.siteWrites = true;
    const out = join(dir, 'site');
    const result = await cli('site', '--results', join(dir, 'r.json'), '--out', out);
    expect(result).toMatchObject({
      code: 2,
      stderr: `neurodissect: --out: no space left to write the site (${join(out, 'thumbs', '1.webp')}); the half-written ${out} was removed: free some space and run again\n`,
    });
    expect(existsSync(out)).toBe(false);
  });
});
