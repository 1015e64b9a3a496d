import { type ClipModel, ErrorCode, NeurodissectError } from '@neurodissect/core';
import {
  type ClipTowerIo,
  clipTokenizerJsonFromBpe,
  createClipTokenizer,
  createSessionClipModel,
  PREPROCESS_PRESETS,
  type PreprocessConfig,
  type PreprocessPreset,
  preprocessConfigFromHuggingFace,
  resolveClipTowerIo,
  resolvePreprocessConfig,
  type SessionClipModel,
} from '@neurodissect/model-io';
import * as ort from 'onnxruntime-web';
import { describeSource, fetchOptional, type ModelSource, readSourceBytes } from './model-source';
import {
  type OpenedWebSession,
  openWebSession,
  type WebExecutionProvider,
  type WebSessionOptions,
} from './web-session';

/** The files of a CLIP model in the Hugging Face ONNX layout, each a URL, a `File` or bytes. */
export interface WebClipModelFiles {
  /** `onnx/vision_model.onnx`. */
  readonly vision: ModelSource;
  /** `onnx/text_model.onnx`. */
  readonly text: ModelSource;
  /** `tokenizer.json`, or OpenAI's BPE vocabulary (`bpe_simple_vocab_16e6.txt.gz` or `.txt`). */
  readonly tokenizer: ModelSource;
  /** `preprocessor_config.json`; OpenAI's `clip` preset without one. */
  readonly preprocessor?: ModelSource;
}

/** Options for {@link loadWebClipModel}. */
export interface WebClipModelOptions extends WebSessionOptions {
  /**
   * The model: the URL of a directory in the Hugging Face layout (`onnx/vision_model.onnx`,
   * `onnx/text_model.onnx`, `tokenizer.json`, optional `preprocessor_config.json`), or its files.
   */
  model: string | URL | WebClipModelFiles;
  /**
   * Images or texts per onnxruntime run.
   * @defaultValue 32
   */
  batchSize?: number;
  /** Overrides the preprocessing the model records. */
  preprocess?: PreprocessPreset | PreprocessConfig;
  /**
   * Overrides how an odd crop margin is split: `'half-even'` as OpenAI's CLIP preprocessing (and
   * CLIP-Dissect) does, `'floor'` as Hugging Face's image processors do (the default of a
   * `preprocessor_config.json`).
   */
  cropRounding?: PreprocessConfig['cropRounding'];
  signal?: AbortSignal;
}

/** A {@link ClipModel} on onnxruntime-web. */
export interface WebClipModel extends SessionClipModel<WebExecutionProvider> {
  /** The graph names it feeds and reads, found in the ONNX files. */
  readonly io: ClipTowerIo;
}

function filesOfDirectory(directory: string | URL): WebClipModelFiles {
  const base = String(directory).endsWith('/') ? String(directory) : `${String(directory)}/`;
  const at = (path: string) => new URL(path, new URL(base, globalThis.location?.href)).href;
  return {
    vision: at('onnx/vision_model.onnx'),
    text: at('onnx/text_model.onnx'),
    tokenizer: at('tokenizer.json'),
    preprocessor: at('preprocessor_config.json'),
  };
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function readTokenizerJson(bytes: Uint8Array, name: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = new TextDecoder().decode(bytes[0] === 0x1f && bytes[1] === 0x8b ? await gunzip(bytes) : bytes);
  } catch (cause) {
    throw new NeurodissectError(ErrorCode.InvalidFormat, `The tokenizer file ${name} is not valid gzip.`, {
      cause,
      details: { path: name },
    });
  }
  if (!text.trimStart().startsWith('{')) return clipTokenizerJsonFromBpe(text);
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new NeurodissectError(ErrorCode.InvalidFormat, `The tokenizer file ${name} is not valid JSON.`, {
      cause,
      details: { path: name },
    });
  }
}

function readJsonObject(bytes: Uint8Array, name: string): Record<string, unknown> {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new NeurodissectError(ErrorCode.InvalidFormat, `${name} is not a JSON object; restore it.`, {
      cause,
      details: { path: name },
    });
  }
}

async function readRequired(source: ModelSource, role: string, signal?: AbortSignal): Promise<Uint8Array> {
  try {
    return await readSourceBytes(source, signal ? { signal } : {});
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.MissingModelFile,
      `The CLIP model's ${role} (${describeSource(source)}) could not be read; a Hugging Face layout has onnx/vision_model.onnx, onnx/text_model.onnx and tokenizer.json.`,
      { cause, details: { path: describeSource(source), role } },
    );
  }
}

/**
 * Loads a CLIP model in the Hugging Face ONNX layout in the page. Input and output names are read
 * from the graphs as runtime-node does (`@neurodissect/model-io`); both towers run
 * on one provider, recorded as `executionProvider`. Images are preprocessed with the same
 * Pillow-exact resize as runtime-node, so embeddings match it.
 * @throws `ND_MISSING_MODEL_FILE` naming a file that cannot be read; `ND_MODEL_LOAD_FAILED` for
 * towers without the expected inputs or outputs; `ND_EXECUTION_PROVIDER_UNAVAILABLE`.
 */
export async function loadWebClipModel(options: WebClipModelOptions): Promise<WebClipModel> {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}.`);
  }
  const { signal } = options;
  const isDirectory = typeof options.model === 'string' || options.model instanceof URL;
  const files = isDirectory
    ? filesOfDirectory(options.model as string | URL)
    : (options.model as WebClipModelFiles);
  const [visionBytes, textBytes, tokenizerBytes] = await Promise.all([
    readRequired(files.vision, 'image tower', signal),
    readRequired(files.text, 'text tower', signal),
    readRequired(files.tokenizer, 'tokenizer', signal),
  ]);
  let preprocess: PreprocessConfig;
  if (options.preprocess) preprocess = resolvePreprocessConfig(options.preprocess);
  else if (!files.preprocessor) preprocess = PREPROCESS_PRESETS.clip;
  else {
    const name = describeSource(files.preprocessor);
    // In a directory the config is optional; a file the caller names must exist.
    const bytes =
      isDirectory && typeof files.preprocessor === 'string'
        ? await fetchOptional(files.preprocessor, signal)
        : await readRequired(files.preprocessor, 'preprocessor config', signal);
    preprocess = bytes
      ? preprocessConfigFromHuggingFace(readJsonObject(bytes, name), name)
      : PREPROCESS_PRESETS.clip;
  }
  if (options.cropRounding) preprocess = { ...preprocess, cropRounding: options.cropRounding };
  const visionName = describeSource(files.vision);
  const textName = describeSource(files.text);
  const io = resolveClipTowerIo({
    vision: { bytes: visionBytes, path: visionName },
    text: { bytes: textBytes, path: textName },
    preprocess,
  });
  const contextLength = io.textInput.shape[1];
  const tokenizer = createClipTokenizer({
    tokenizerJson: await readTokenizerJson(tokenizerBytes, describeSource(files.tokenizer)),
    ...(typeof contextLength === 'number' ? { contextLength } : {}),
  });

  const vision = await openWebSession(visionBytes, visionName, options);
  let text: OpenedWebSession;
  try {
    // The text tower runs where the image tower does, so one provider is recorded for both.
    text = await openWebSession(textBytes, textName, {
      executionProviders: [vision.provider],
      strict: true,
    });
  } catch (error) {
    await vision.session.release();
    throw error;
  }

  try {
    const model = await createSessionClipModel<WebExecutionProvider>({
      vision,
      text,
      io,
      tokenizer,
      preprocess,
      paths: { vision: visionName, text: textName },
      batchSize,
      createTensor: (type, data, dims) =>
        type === 'float32'
          ? new ort.Tensor('float32', data as Float32Array, [...dims])
          : type === 'int32'
            ? new ort.Tensor('int32', data as Int32Array, [...dims])
            : new ort.Tensor('int64', data as BigInt64Array, [...dims]),
      serialize: true,
    });
    return { ...model, io };
  } catch (error) {
    await Promise.all([vision.session.release(), text.session.release()]);
    throw error;
  }
}
