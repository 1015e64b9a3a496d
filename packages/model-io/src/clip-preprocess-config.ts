import { ErrorCode, NeurodissectError } from '@neurodissect/core';
import { type Interpolation, PREPROCESS_PRESETS, type PreprocessConfig } from './image-preprocess';

// Platform-neutral (no `node:*`): runtime-web reads the same configs through this package.

function unsupported(path: string, what: string): NeurodissectError {
  return new NeurodissectError(
    ErrorCode.InvalidOption,
    `${path}: ${what} is not supported (only resize of the shorter side, square centre crop, bicubic or bilinear); pass the preprocess option to override it.`,
    { details: { path } },
  );
}

function isTriple(value: unknown): value is [number, number, number] {
  return Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number');
}

// Pillow's Image.Resampling values, which Hugging Face image processors store as `resample`.
const PIL_RESAMPLE: Readonly<Record<number, Interpolation>> = { 2: 'bilinear', 3: 'bicubic' };

/**
 * Maps a Hugging Face `preprocessor_config.json` (CLIPImageProcessor or the older
 * CLIPFeatureExtractor) onto a {@link PreprocessConfig}.
 * @throws `ND_INVALID_OPTION` for settings the Pillow-exact pipeline does not reproduce.
 */
export function preprocessConfigFromHuggingFace(
  config: Record<string, unknown>,
  path = 'preprocessor_config.json',
): PreprocessConfig {
  if (config.do_resize === false) throw unsupported(path, 'do_resize: false');
  if (config.do_center_crop === false) throw unsupported(path, 'do_center_crop: false');
  const size = config.size;
  let resizeShorter: number;
  if (typeof size === 'number') resizeShorter = size;
  else if (
    size &&
    typeof size === 'object' &&
    typeof (size as Record<string, unknown>).shortest_edge === 'number'
  )
    resizeShorter = (size as { shortest_edge: number }).shortest_edge;
  else if (size === undefined) resizeShorter = 224;
  else throw unsupported(path, `size ${JSON.stringify(size)}`);

  const cropSize = config.crop_size ?? resizeShorter;
  let crop: number;
  if (typeof cropSize === 'number') crop = cropSize;
  else if (
    cropSize &&
    typeof cropSize === 'object' &&
    typeof (cropSize as Record<string, unknown>).height === 'number' &&
    (cropSize as { height: number }).height === (cropSize as { width?: number }).width
  )
    crop = (cropSize as { height: number }).height;
  else throw unsupported(path, `crop_size ${JSON.stringify(cropSize)}`);

  const resample = config.resample ?? 3;
  const interpolation = PIL_RESAMPLE[resample as number];
  if (!interpolation) throw unsupported(path, `resample ${JSON.stringify(resample)}`);

  const rescale = config.rescale_factor;
  if (config.do_rescale === false || (typeof rescale === 'number' && Math.abs(rescale * 255 - 1) > 1e-6)) {
    throw unsupported(path, `rescale_factor ${rescale} (do_rescale ${config.do_rescale})`);
  }
  const normalize = config.do_normalize !== false;
  const mean = config.image_mean ?? PREPROCESS_PRESETS.clip.mean;
  const std = config.image_std ?? PREPROCESS_PRESETS.clip.std;
  if (!isTriple(mean) || !isTriple(std)) throw unsupported(path, 'image_mean/image_std other than 3 numbers');
  return {
    resizeShorter,
    interpolation,
    crop,
    mean: normalize ? mean : [0, 0, 0],
    std: normalize ? std : [1, 1, 1],
    cropRounding: 'floor',
  };
}

/**
 * Maps OpenCLIP's `open_clip_config.json` (`model_cfg.vision_cfg.image_size`, `preprocess_cfg`)
 * onto a {@link PreprocessConfig}; defaults are OpenAI CLIP's.
 */
export function preprocessConfigFromOpenClip(
  config: Record<string, unknown>,
  path = 'open_clip_config.json',
): PreprocessConfig {
  const modelCfg = (config.model_cfg ?? {}) as { vision_cfg?: { image_size?: unknown } };
  const cfg = (config.preprocess_cfg ?? {}) as Record<string, unknown>;
  const imageSize = modelCfg.vision_cfg?.image_size ?? 224;
  if (typeof imageSize !== 'number') throw unsupported(path, `image_size ${JSON.stringify(imageSize)}`);
  if (cfg.resize_mode !== undefined && cfg.resize_mode !== 'shortest') {
    throw unsupported(path, `resize_mode ${JSON.stringify(cfg.resize_mode)}`);
  }
  const interpolation = cfg.interpolation ?? 'bicubic';
  if (interpolation !== 'bicubic' && interpolation !== 'bilinear') {
    throw unsupported(path, `interpolation ${JSON.stringify(interpolation)}`);
  }
  const mean = cfg.mean ?? PREPROCESS_PRESETS.clip.mean;
  const std = cfg.std ?? PREPROCESS_PRESETS.clip.std;
  if (!isTriple(mean) || !isTriple(std)) throw unsupported(path, 'mean/std other than 3 numbers');
  return { resizeShorter: imageSize, interpolation, crop: imageSize, mean, std };
}
