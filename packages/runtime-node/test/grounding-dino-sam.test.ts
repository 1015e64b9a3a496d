import { rm } from 'node:fs/promises';
import type { RgbImage } from '@neurodissect/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStandInModels } from '../../../scripts/test-setup/stand-in-models';
import { type GroundingDinoDetector, loadGroundingDino, loadSam, type SamSegmenter } from '../src/index';

// These tests run the wrappers on stand-in models (see stand-in-models.ts), not on real weights.
const RGB = { red: [230, 25, 25], green: [25, 200, 25], blue: [25, 25, 230] } as const;

function patchImage(colour: keyof typeof RGB, x0: number, y0: number): RgbImage {
  const data = new Uint8Array(8 * 8 * 3).fill(128);
  for (let y = y0; y < y0 + 4; y++) for (let x = x0; x < x0 + 4; x++) data.set(RGB[colour], (y * 8 + x) * 3);
  return { width: 8, height: 8, data };
}

// The stand-in's score for channel c: sigmoid(20·relu(mean of the ImageNet-normalised channel) − 5),
// the channel holding 48 grey (128) and 16 patch pixels.
function expectedScore(c: number, value: number): number {
  const mean = [0.485, 0.456, 0.406][c];
  const std = [0.229, 0.224, 0.225][c];
  const s = (48 * (128 / 255 - mean) + 16 * (value / 255 - mean)) / std / 64;
  return 1 / (1 + Math.exp(-(20 * Math.max(s, 0) - 5)));
}

function aborted(): AbortSignal {
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
}

describe('loadGroundingDino and loadSam (stand-in models)', () => {
  let paths: Awaited<ReturnType<typeof writeStandInModels>>;
  let detector: GroundingDinoDetector;
  let segmenter: SamSegmenter;
  beforeAll(async () => {
    paths = await writeStandInModels();
    detector = await loadGroundingDino(paths.groundingDino);
    segmenter = await loadSam(paths.samEncoder, paths.samDecoder);
  });
  afterAll(async () => {
    await detector?.dispose();
    await detector?.dispose();
    await segmenter?.dispose();
    await segmenter?.dispose();
    await rm(paths.dir, { recursive: true, force: true });
  });

  it('counts prompt tokens as [CLS] phrase . phrase . [SEP]', () => {
    expect(detector.maxTextLength).toBe(256);
    expect(detector.countTokens(['red'])).toBe(4);
    expect(detector.countTokens(['red', 'light blue'])).toBe(7);
    expect(detector.executionProvider).toBe('cpu');
  });

  it('finds the prompted colour, attributes it to its phrase and scales the box', async () => {
    const phrases = ['yellow', 'red', 'green', 'blue'];
    expect(await detector.detect(patchImage('red', 0, 0), { phrases })).toEqual([
      { box: [0, 0, 4, 4], phrase: 'red', score: expect.closeTo(expectedScore(0, 230), 5) },
    ]);
    expect(await detector.detect(patchImage('green', 4, 0), { phrases })).toEqual([
      { box: [4, 0, 8, 4], phrase: 'green', score: expect.closeTo(expectedScore(1, 200), 5) },
    ]);
    // Without its word in the prompt, nothing is attributed.
    expect(await detector.detect(patchImage('blue', 0, 4), { phrases: ['red', 'yellow'] })).toEqual([]);
    // A box threshold above the score drops it.
    const score = expectedScore(0, 230);
    expect(await detector.detect(patchImage('red', 0, 0), { phrases, boxThreshold: score + 1e-3 })).toEqual(
      [],
    );
  });

  it('rejects a prompt longer than the text length, and a cancelled call', async () => {
    const short = await loadGroundingDino(paths.groundingDino, { maxTextLength: 5 });
    try {
      await expect(
        short.detect(patchImage('red', 0, 0), { phrases: ['red', 'green'] }),
      ).rejects.toMatchObject({
        code: 'ND_INVALID_OPTION',
      });
    } finally {
      await short.dispose();
    }
    await expect(
      detector.detect(patchImage('red', 0, 0), { phrases: ['red'] }, { signal: aborted() }),
    ).rejects.toMatchObject({ code: 'ND_ABORTED' });
  });

  it('segments each box into a mask of exactly the box, at the image size', async () => {
    const image = patchImage('red', 0, 0);
    const boxes = [
      [0, 0, 4, 4],
      [2, 3, 7, 8],
    ] as const;
    const masks = await segmenter.segment(image, boxes);
    expect(masks.length).toBe(2);
    boxes.forEach(([x0, y0, x1, y1], j) => {
      const expected = new Uint8Array(64);
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) expected[y * 8 + x] = 1;
      expect(masks[j]).toEqual({ width: 8, height: 8, data: expected });
    });
    expect(await segmenter.segment(image, [])).toEqual([]);
    await expect(segmenter.segment(image, boxes, { signal: aborted() })).rejects.toMatchObject({
      code: 'ND_ABORTED',
    });
  });

  it('refuses models without the expected signature, saying which', async () => {
    await expect(
      loadGroundingDino(paths.samDecoder, { tokenizer: `${paths.dir}/tokenizer.json` }),
    ).rejects.toMatchObject({
      code: 'ND_MODEL_LOAD_FAILED',
      message: expect.stringContaining('pixel_values'),
    });
    await expect(loadSam(paths.samEncoder, paths.groundingDino)).rejects.toMatchObject({
      code: 'ND_MODEL_LOAD_FAILED',
      message: expect.stringContaining('point_coords'),
    });
    await expect(loadGroundingDino(`${paths.dir}/missing.onnx`)).rejects.toMatchObject({
      code: 'ND_FILE_NOT_FOUND',
    });
  });
});
