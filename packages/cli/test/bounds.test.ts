import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { parseConceptSetBytes } from '@neurodissect/core';
import { decodeImage } from '@neurodissect/runtime-node';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../../../scripts/test-setup/fixtures';
import { cli, tempDir, writeMatrix } from './helpers';

// The catalogue's bounds and oddities (6 and 8 of the issue): a huge concept line or image is
// refused up front in one short line, a UTF-16 concept list is read as such, control characters
// and all-zero embedding rows are refused.
const clip = join(fixturePath('runtime-node'), 'clip/clip-openclip');

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A PNG whose header says width × height, with a few rows of data (a small file, a huge image). */
function hugePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = deflateSync(Buffer.alloc((width * 3 + 1) * 4));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', rows),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('bounds', () => {
  it('embed refuses a concept line of 10 MB up front, in one short line', async () => {
    const dir = tempDir();
    const concepts = join(dir, 'concepts.txt');
    writeFileSync(concepts, `dog\n${'x'.repeat(10 * 2 ** 20)}\ncat\n`);
    const started = Date.now();
    const result = await cli('embed', '--clip', clip, '--concepts', concepts, '--out', join(dir, 'T.npy'));
    expect((Date.now() - started) / 1000).toBeLessThan(20);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `neurodissect: --concepts: ${concepts} line 2 is 10485760 characters long (it starts "${'x'.repeat(39)}…"); a concept may have at most 1000: is this a concept list, one concept per line?\n`,
    );
  });

  it('refuses an image of 16,000 × 16,000 pixels from its header, before decoding it', async () => {
    const dir = tempDir();
    const path = join(dir, 'huge.png');
    const bytes = hugePng(16_000, 16_000);
    expect(bytes.length).toBeLessThan(200_000);
    writeFileSync(path, bytes);
    const started = Date.now();
    const error = await decodeImage(path).catch((e: unknown) => e);
    expect((Date.now() - started) / 1000).toBeLessThan(2);
    expect((error as Error).message).toBe(
      `The image ${path} is 16000×16000 (256 megapixels), more than the 50 megapixels allowed; shrink it, or raise the limit (--max-pixels).`,
    );
    // The limit can be raised (or lowered).
    const small = hugePng(100, 100);
    await expect(decodeImage(small, { maxPixels: 5000 })).rejects.toThrow(
      /is 100×100 \(0\.010 megapixels\), more than the 0\.0050 megapixels allowed/,
    );
  });
});

describe('oddities', () => {
  it('reads a UTF-16 concept list as UTF-16 (with or without its byte-order mark), with a note', async () => {
    const text = 'dog\ncat\nstriped\n';
    for (const bytes of [
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
      Buffer.from(text, 'utf16le'),
      Buffer.from(Buffer.from(text, 'utf16le').swap16()),
    ]) {
      const set = parseConceptSetBytes(bytes, { source: 'c.txt' });
      expect(set.concepts).toEqual(['dog', 'cat', 'striped']);
      expect(set.encoding).toMatch(/^utf-16(le|be)$/);
    }
    const dir = tempDir();
    const file = join(dir, 'concepts.txt');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const embeddings = writeMatrix(dir, 'T.npy', {
      rows: 3,
      cols: 2,
      data: Float32Array.from([1, 0, 0, 1, 1, 1]),
    });
    const activations = writeMatrix(dir, 'A.npy', {
      rows: 3,
      cols: 2,
      data: Float32Array.from([1, 2, 3, 4, 5, 6]),
    });
    const images = writeMatrix(dir, 'I.npy', {
      rows: 3,
      cols: 2,
      data: Float32Array.from([1, 0, 0, 1, 1, 1]),
    });
    const result = await cli(
      'score',
      '--fn',
      'cos',
      '--activations',
      activations,
      '--image-emb',
      images,
      '--text-emb',
      embeddings,
      '--concepts',
      file,
      '--labels',
      join(dir, 'labels.csv'),
      '--out',
      join(dir, 'S.npy'),
      '--null',
      '0',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('read as UTF-16LE (save it as UTF-8)');
  });

  it('refuses a concept holding a control character (NUL), naming the line', () => {
    expect(() => parseConceptSetBytes(Buffer.from('dog\nc\u0000a\u0000t\n'), { source: 'c.txt' })).toThrow(
      'c.txt line 2 holds the control character U+0000; save the concept list as plain UTF-8 text, one concept per line.',
    );
  });
});

describe('score refuses embeddings with a row of zeros, as search does', () => {
  it('names the row', async () => {
    const dir = tempDir();
    const activations = writeMatrix(dir, 'A.npy', {
      rows: 3,
      cols: 2,
      data: Float32Array.from([1, 2, 3, 4, 5, 6]),
    });
    const images = writeMatrix(dir, 'I.npy', {
      rows: 3,
      cols: 2,
      data: Float32Array.from([1, 0, 0, 1, 1, 1]),
    });
    const texts = writeMatrix(dir, 'T.npy', { rows: 2, cols: 2, data: Float32Array.from([1, 0, 0, 0]) });
    const result = await cli(
      'score',
      '--activations',
      activations,
      '--image-emb',
      images,
      '--text-emb',
      texts,
      '--out',
      join(dir, 'S.npy'),
    );
    expect(result).toMatchObject({
      code: 2,
      stderr: `neurodissect: --text-emb: row 1 of ${texts} is all zeros, so it has no direction; embed it again or leave it out\n`,
    });
  });
});

describe('validate reads past a byte-order mark', () => {
  it('notes it, and checks the document', async () => {
    const { resultsFixture } = await import('@neurodissect/core/testing');
    const fixture = resultsFixture({
      images: [{ id: 'a', uri: 'a.png' }],
      layers: [
        {
          name: 'layer1',
          neurons: [
            {
              unit: 0,
              topImages: [{ image: 0 }],
              labels: { 'clip-dissect': [{ label: 'dog', score: 0.2 }] },
            },
          ],
        },
      ],
    });
    const dir = tempDir();
    const file = join(dir, 'r.json');
    writeFileSync(file, `\ufeff${JSON.stringify(fixture)}`);
    const result = await cli('validate', file);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stderr).toBe(`note: ${file} starts with a byte-order mark (U+FEFF); it was read past\n`);
    expect(result.stdout).toMatch(/^valid: .* is a Results document, version 2\n$/);
    // The commands that read --results read past it too.
    const search = await cli('search', '--results', file, '--concept', 'dog');
    expect(search.code, search.stderr).toBe(0);
    expect(search.stdout).toContain('layer1');
  });
});

describe('dissect on a Broden probe with a missing mask', () => {
  it('skips that image for NetDissect with a note and a count, and labels the layer', {
    timeout: 120_000,
  }, async () => {
    const { writeToyWorld, toyWorldModelPaths } = await import('@neurodissect/toyworld/node');
    const { readdirSync, rmSync, readFileSync } = await import('node:fs');
    const { parseResults } = await import('@neurodissect/core');
    const dir = tempDir();
    const world = join(dir, 'world');
    await writeToyWorld(world, { seed: 2, count: 8 });
    const masks = readdirSync(join(world, 'images'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      /object/.test(f),
    );
    expect(masks.length).toBeGreaterThan(0);
    rmSync(join(world, 'images', masks[0]));
    writeFileSync(join(dir, 'concepts.txt'), 'red\nblue\n');
    const out = join(dir, 'results.json');
    const result = await cli(
      'dissect',
      '--model',
      toyWorldModelPaths().targetModel,
      '--layers',
      'layer1',
      '--probe',
      `broden:${world}`,
      '--concepts',
      join(dir, 'concepts.txt'),
      '--labelers',
      'netdissect',
      '--input-size',
      '64',
      '--null',
      '0',
      '--held-out',
      '0',
      '--out',
      out,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /note: 1 image\(s\) of .*index\.csv name a mask file that does not exist \(e\.g\. .*, line \d+\); their annotations are left out, so NetDissect and Broden-label skip them\./,
    );
    const results = parseResults(readFileSync(out, 'utf8'));
    expect(results.failures).toEqual([]);
    expect(results.layers[0].neurons.some((n) => (n.labels.netdissect ?? []).length > 0)).toBe(true);
  });
});

describe('dissect --max-pixels', () => {
  it('leaves out probe images over the limit, before decoding them', { timeout: 60_000 }, async () => {
    const fixtures = fixturePath('runtime-node');
    const dir = tempDir();
    writeFileSync(join(dir, 'concepts.txt'), 'dog\ncat\n');
    const result = await cli(
      'dissect',
      '--model',
      join(fixtures, 'resnet/narrow-resnet.onnx'),
      '--layers',
      'layer1',
      '--probe',
      join(fixtures, 'preprocess'),
      '--concepts',
      join(dir, 'concepts.txt'),
      '--labelers',
      'clip-dissect',
      '--clip',
      clip,
      '--max-pixels',
      '1000',
      '--out',
      join(dir, 'results.json'),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /neurodissect: No image of the probe set preprocess could be read: all \d+ failed, the first with: The image .* is \d+×\d+ \([\d.]+ megapixels\), more than the 0\.0010 megapixels allowed; shrink it, or raise the limit \(--max-pixels\)\./,
    );
  });
});

describe('messages stay short whatever they quote', () => {
  it('cuts a line of standard error over 1,000 characters in the middle, saying how much was left out', async () => {
    const model = join(fixturePath('runtime-node'), 'resnet/narrow-resnet.onnx');
    const dir = tempDir();
    const images = join(fixturePath('runtime-node'), 'preprocess');
    const layer = `layer${'9'.repeat(100_000)}`;
    const result = await cli(
      'activations',
      '--model',
      model,
      '--layers',
      layer,
      '--images',
      images,
      '--out',
      join(dir, 'out'),
    );
    expect(result.code).toBe(2);
    expect(Math.max(...result.stderr.split('\n').map((line) => line.length))).toBeLessThanOrEqual(1000);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('neurodissect:'));
    expect(errors).toEqual([
      expect.stringMatching(/^neurodissect: .*layer9{100}.*… \(\d+ characters left out\) …/),
    ]);
  });
});
