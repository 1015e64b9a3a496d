import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, NeurodissectError } from '@neurodissect/core';
import {
  PREPROCESS_PRESETS,
  type PreprocessConfig,
  preprocessConfigFromHuggingFace,
  preprocessConfigFromOpenClip,
} from '@neurodissect/model-io';
import { bundledClipVocabPath } from './clip-tokenizer-files';

export { preprocessConfigFromHuggingFace, preprocessConfigFromOpenClip } from '@neurodissect/model-io';

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

/** Reads the preprocessing of a detected CLIP directory (OpenAI's `clip` preset when it records none). */
export async function readClipPreprocessConfig(files: ClipModelFiles): Promise<PreprocessConfig> {
  if (!files.preprocessor) return PREPROCESS_PRESETS.clip;
  const json = await readJson(files.preprocessor);
  return files.layout === 'huggingface'
    ? preprocessConfigFromHuggingFace(json, files.preprocessor)
    : preprocessConfigFromOpenClip(json, files.preprocessor);
}
