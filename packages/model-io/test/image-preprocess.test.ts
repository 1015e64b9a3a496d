import type { RgbImage } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import {
  PREPROCESS_PRESETS,
  preprocessBatch,
  preprocessConfigFor,
  preprocessImage,
  resizedSize,
} from '../src/index';

// Parity with torchvision/PIL on real images needs a decoder, so it is tested where the images are
// decoded (runtime-node's image-preprocess test, runtime-web's browser test); these cases need none.

/** A `width × height` image whose pixels differ (a gradient per channel). */
function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x % 256, y % 256, (x + y) % 256], (y * width + x) * 3);
  }
  return { width, height, data };
}

describe('preprocessImage', () => {
  it('splits an odd crop margin as torchvision (round half to even) or Hugging Face (floor) do', () => {
    // 227×224: no resize (shorter side is already 224), a 3-pixel horizontal margin. Pixel (x, y)
    // has red = x, so the first cropped column's red value is the left offset.
    const width = 227;
    const data = new Uint8Array(width * 224 * 3);
    for (let p = 0; p < width * 224; p++) data[p * 3] = p % width;
    const unnormalised = { ...PREPROCESS_PRESETS.clip, mean: [0, 0, 0], std: [1, 1, 1] } as const;
    const firstRed = (cropRounding: 'half-even' | 'floor') =>
      Math.round(
        preprocessImage({ width, height: 224, data }, { ...unnormalised, cropRounding }).data[0] * 255,
      );
    expect(firstRed('half-even')).toBe(2); // round(1.5) = 2
    expect(firstRed('floor')).toBe(1); // 3 // 2 = 1
  });

  it('resizes the shorter side as torchvision does, truncating the longer one', () => {
    expect(resizedSize(640, 480, 256)).toEqual([341, 256]);
    expect(resizedSize(480, 640, 224)).toEqual([224, 298]);
    expect(resizedSize(300, 300, 224)).toEqual([224, 224]);
  });

  it('keeps a uniform image uniform, normalised per channel', () => {
    const image = { width: 300, height: 200, data: new Uint8Array(300 * 200 * 3).fill(200) };
    const tensor = preprocessImage(image, 'imagenet');
    expect(tensor.dims).toEqual([3, 224, 224]);
    const { mean, std } = PREPROCESS_PRESETS.imagenet;
    for (let c = 0; c < 3; c++) {
      const plane = tensor.data.subarray(c * 224 * 224, (c + 1) * 224 * 224);
      const expected = (200 / 255 - mean[c]) / std[c];
      expect(plane.every((v) => Math.abs(v - expected) < 1e-6)).toBe(true);
    }
  });

  it('batches images into [N, 3, crop, crop] identical to single preprocessing', () => {
    const a = gradient(300, 240);
    const b = gradient(200, 260);
    const config = preprocessConfigFor('clip', 64);
    const batch = preprocessBatch([a, b], config);
    expect(batch.dims).toEqual([2, 3, 64, 64]);
    expect(batch.data.subarray(0, 3 * 64 * 64)).toEqual(preprocessImage(a, config).data);
    expect(batch.data.subarray(3 * 64 * 64)).toEqual(preprocessImage(b, config).data);
  });

  it('refuses RGB data of the wrong length and an unknown preset', () => {
    expect(() => preprocessImage({ width: 4, height: 4, data: new Uint8Array(47) }, 'clip')).toThrow(
      /47 bytes, expected 4×4×3/,
    );
    expect(() => preprocessImage(gradient(4, 4), 'nope' as 'clip')).toThrow(
      /Unknown preprocessing preset "nope"/,
    );
  });
});
