import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, NeurodissectError } from '@neurodissect/core';
import { bundledClipVocabPath } from './clip-tokenizer-files';
import { type Interpolation, PREPROCESS_PRESETS, type PreprocessConfig } from './image-preprocess';

/** The two directory layouts CLIP models are distributed in. */
export type ClipLayout = 'huggingface' | 'openclip';

/** The files of a CLIP model directory, by role. */
export interface ClipModelFiles {
  readonly layout: ClipLayout;
  /** The image tower (`onnx/vision_model.onnx` or `visual.onnx`). */
  readonly vision: string;
  /** The text tower (`onnx/text_model.onnx` or `textual.onnx`). */
  readonly text: string;
  /** `tokenizer.json`, the directory's `bpe_simple_vocab_16e6.txt.gz`, or the bundled vocabulary. */
  readonly tokenizer: string;
  /** `preprocessor_config.json` (Hugging Face) or `open_clip_config.json` (OpenCLIP), when present. */
  readonly preprocessor?: string;
}

/** Options for {@link detectClipLayout}. */
export interface DetectClipLayoutOptions {
  /**
   * Hugging Face variant suffix: `quantized` selects `onnx/vision_model_quantized.onnx` and
   * `onnx/text_model_quantized.onnx`.
   */
  variant?: string;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds which CLIP layout `directory` holds and the path of each file it needs.
 * @throws `ND_FILE_NOT_FOUND` when the directory does not exist; `ND_MISSING_MODEL_FILE` naming
 * every file the detected layout lacks (or both layouts' files when neither is recognised).
 */
export async function detectClipLayout(
  directory: string,
  options: DetectClipLayoutOptions = {},
): Promise<ClipModelFiles> {
  try {
    if (!(await stat(directory)).isDirectory()) throw new Error('not a directory');
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `The CLIP model directory ${directory} does not exist or is not a directory; pass the folder that holds the model's ONNX files.`,
      { cause, details: { path: directory } },
    );
  }
  const suffix = options.variant ? `_${options.variant}` : '';
  const hf = {
    vision: `onnx/vision_model${suffix}.onnx`,
    text: `onnx/text_model${suffix}.onnx`,
    tokenizer: 'tokenizer.json',
    preprocessor: 'preprocessor_config.json',
  };
  const openclip = { vision: 'visual.onnx', text: 'textual.onnx' };
  const has = async (relative: string) => isFile(join(directory, relative));

  const hfPresent = await Promise.all(Object.values(hf).map(has));
  const openclipPresent = await Promise.all(Object.values(openclip).map(has));
  const hfTowers = hfPresent[0] || hfPresent[1];
  const openclipTowers = openclipPresent[0] || openclipPresent[1];

  if (hfTowers || (!openclipTowers && hfPresent.some(Boolean))) {
    const missing = Object.values(hf).filter((_, i) => !hfPresent[i]);
    if (missing.length) throw missingFiles(directory, 'Hugging Face', missing);
    return {
      layout: 'huggingface',
      vision: join(directory, hf.vision),
      text: join(directory, hf.text),
      tokenizer: join(directory, hf.tokenizer),
      preprocessor: join(directory, hf.preprocessor),
    };
  }
  if (openclipTowers) {
    const missing = Object.values(openclip).filter((_, i) => !openclipPresent[i]);
    if (missing.length) throw missingFiles(directory, 'OpenCLIP', missing);
    const vocab = join(directory, 'bpe_simple_vocab_16e6.txt.gz');
    const config = join(directory, 'open_clip_config.json');
    return {
      layout: 'openclip',
      vision: join(directory, openclip.vision),
      text: join(directory, openclip.text),
      tokenizer: (await isFile(vocab)) ? vocab : bundledClipVocabPath(),
      ...((await isFile(config)) ? { preprocessor: config } : {}),
    };
  }
  throw new NeurodissectError(
    ErrorCode.MissingModelFile,
    `The directory ${directory} holds no CLIP model: expected the Hugging Face layout (${Object.values(hf).join(', ')}) or the OpenCLIP layout (${Object.values(openclip).join(', ')}). Export the model to ONNX into it (e.g. optimum-cli export onnx).`,
    { details: { path: directory } },
  );
}

function missingFiles(directory: string, layout: string, missing: string[]): NeurodissectError {
  return new NeurodissectError(
    ErrorCode.MissingModelFile,
    `The CLIP model directory ${directory} has the ${layout} layout but lacks ${missing.join(', ')}; copy ${missing.length > 1 ? 'them' : 'it'} from the model's export into the directory.`,
    { details: { path: directory, layout, missing } },
  );
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  const text = await readFile(path, 'utf8');
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new NeurodissectError(ErrorCode.InvalidFormat, `${path} is not a JSON object; restore it.`, {
      cause,
      details: { path },
    });
  }
}

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

/** Reads the preprocessing of a detected CLIP directory (OpenAI's `clip` preset when it records none). */
export async function readClipPreprocessConfig(files: ClipModelFiles): Promise<PreprocessConfig> {
  if (!files.preprocessor) return PREPROCESS_PRESETS.clip;
  const json = await readJson(files.preprocessor);
  return files.layout === 'huggingface'
    ? preprocessConfigFromHuggingFace(json, files.preprocessor)
    : preprocessConfigFromOpenClip(json, files.preprocessor);
}
