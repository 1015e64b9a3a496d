import { ErrorCode, isNeurodissectError } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import {
  PREPROCESS_PRESETS,
  preprocessConfigFromHuggingFace,
  preprocessConfigFromOpenClip,
} from '../src/index';

describe('preprocessing configs of CLIP model folders', () => {
  it('maps Hugging Face image processor settings, old and new style', () => {
    expect(
      preprocessConfigFromHuggingFace({
        size: 256,
        crop_size: 240,
        resample: 2,
        image_mean: [0.5, 0.5, 0.5],
        image_std: [0.25, 0.25, 0.25],
      }),
    ).toEqual({
      resizeShorter: 256,
      interpolation: 'bilinear',
      crop: 240,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
      cropRounding: 'floor',
    });
    expect(
      preprocessConfigFromHuggingFace({
        size: { shortest_edge: 224 },
        crop_size: { height: 224, width: 224 },
      }),
    ).toEqual({ ...PREPROCESS_PRESETS.clip, cropRounding: 'floor' });
    for (const bad of [{ resample: 1 }, { size: { height: 224, width: 224 } }, { do_center_crop: false }]) {
      const error = (() => {
        try {
          return preprocessConfigFromHuggingFace(bad, 'p.json');
        } catch (e) {
          return e;
        }
      })();
      expect(isNeurodissectError(error, ErrorCode.InvalidOption), JSON.stringify(bad)).toBe(true);
    }
  });

  it('maps OpenCLIP preprocess_cfg', () => {
    expect(
      preprocessConfigFromOpenClip({
        model_cfg: { vision_cfg: { image_size: 256 } },
        preprocess_cfg: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bilinear' },
      }),
    ).toEqual({
      resizeShorter: 256,
      interpolation: 'bilinear',
      crop: 256,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    });
  });
});
