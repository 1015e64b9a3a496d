import type { DissectionTarget, RgbImage, Tensor } from '@neurodissect/core';
import {
  PREPROCESS_PRESETS,
  type PreprocessConfig,
  type PreprocessPreset,
  preprocessBatch,
  resolvePreprocessConfig,
} from '@neurodissect/model-io';

/**
 * The target model's preprocessing when none is chosen, in the library and on the command line
 * alike (`neurodissect dissect` without `--preset` or `--input-size`, on an image folder):
 * torchvision's ImageNet evaluation transform, bilinear resize of the shorter side to 256, a
 * 224×224 centre crop, ImageNet's mean and std. (A Broden probe is fed whole instead, resized to
 * 224 with no crop, so its masks stay aligned: `preprocessConfigFor('imagenet', 224)`.)
 */
export const DEFAULT_TARGET_PREPROCESSING: PreprocessConfig = PREPROCESS_PRESETS.imagenet;

/**
 * A dissection target's `prepare` and `preprocessing` for a preset or config: what to spread into
 * `createDissection`'s `target` so the library preprocesses as the command line does, with the
 * same record in the Results and the same feature-cache keys.
 * @defaultValue {@link DEFAULT_TARGET_PREPROCESSING}
 */
export function targetPreprocessing(
  config: PreprocessPreset | PreprocessConfig = DEFAULT_TARGET_PREPROCESSING,
): Pick<DissectionTarget, 'prepare' | 'preprocessing'> {
  const resolved = resolvePreprocessConfig(config);
  const { resizeShorter, interpolation, crop, mean, std, cropRounding } = resolved;
  // Keyed as a dissection spec records it (the same fields in the same order).
  const description = JSON.stringify({
    resizeShorter,
    interpolation,
    crop,
    mean: [...mean],
    std: [...std],
    ...(cropRounding === undefined ? {} : { cropRounding }),
  });
  return {
    prepare: (images: readonly RgbImage[]): Tensor<'float32'> => preprocessBatch(images, resolved),
    preprocessing: description,
  };
}
