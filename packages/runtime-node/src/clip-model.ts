import { readFile } from 'node:fs/promises';
import {
  type ClipModel,
  createMatrix,
  ErrorCode,
  type Matrix,
  NeurodissectError,
  type OperationOptions,
  type RgbImage,
  type Tensor,
  throwIfAborted,
} from '@neurodissect/core';
import type { ClipTokenizer } from '@neurodissect/model-io';
import {
  type ClipTensorIo,
  ONNX_ELEMENT_TYPE,
  type PreprocessConfig,
  type PreprocessPreset,
  preprocessBatch,
  resolveClipTowerIo,
  resolvePreprocessConfig,
} from '@neurodissect/model-io';
import * as ort from 'onnxruntime-node';
import {
  type ClipLayout,
  type ClipModelFiles,
  type DetectClipLayoutOptions,
  detectClipLayout,
  readClipPreprocessConfig,
} from './clip-model-files';
import { loadClipTokenizer } from './clip-tokenizer-files';
import { type ExecutionProvider, openSession, type SessionOptions } from './target-model';

/** Options for {@link loadClipModel}. */
export interface ClipModelOptions extends SessionOptions, DetectClipLayoutOptions {
  /**
   * Images or texts per onnxruntime run.
   * @defaultValue 32
   */
  batchSize?: number;
  /**
   * Overrides the preprocessing the directory records (`preprocessor_config.json`,
   * `open_clip_config.json`; OpenAI's `clip` preset when there is none).
   */
  preprocess?: PreprocessPreset | PreprocessConfig;
  /** Overrides the tokenizer file (a `tokenizer.json` or OpenAI's BPE vocabulary). */
  tokenizer?: string;
}

/** A {@link ClipModel} on onnxruntime-node. */
export interface NodeClipModel extends ClipModel {
  readonly layout: ClipLayout;
  /** The files it was loaded from. */
  readonly files: ClipModelFiles;
  /** The provider that actually ran (after any fallback). */
  readonly executionProvider: ExecutionProvider;
  /** Providers that were tried before it and failed, with the reason. */
  readonly fallbacks: readonly { provider: ExecutionProvider; reason: string }[];
  /** What images go through before the image tower. */
  readonly preprocess: PreprocessConfig;
  readonly tokenizer: ClipTokenizer;
  /** The graph names it feeds and reads, found in the ONNX files. */
  readonly io: {
    readonly image: { readonly input: string; readonly output: string };
    readonly text: { readonly input: string; readonly attentionMask?: string; readonly output: string };
  };
  /** N×D embeddings of already preprocessed pixels `[N, 3, crop, crop]`. */
  embedPixels(pixels: Tensor<'float32'>, options?: OperationOptions): Promise<Matrix>;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `The model file ${path} could not be read; check it.`,
      {
        cause,
        details: { path },
      },
    );
  }
}

/**
 * Loads a CLIP model from a directory in the Hugging Face ONNX layout (`onnx/vision_model.onnx`,
 * `onnx/text_model.onnx`, `tokenizer.json`, `preprocessor_config.json`) or the OpenCLIP one
 * (`visual.onnx`, `textual.onnx`, optionally `bpe_simple_vocab_16e6.txt.gz` and
 * `open_clip_config.json`). Input and output names are read from the graphs: the image tower's
 * float input, the text tower's integer ids (int64 or int32) and `attention_mask` when the graph
 * has one; `image_embeds`/`text_embeds` (or `image_features`/`text_features`, or the only 2-D
 * output).
 * @throws `ND_MISSING_MODEL_FILE` naming what the layout lacks; `ND_MODEL_LOAD_FAILED` for towers
 * without the expected inputs or outputs; `ND_EXECUTION_PROVIDER_UNAVAILABLE` as for target models.
 */
export async function loadClipModel(
  directory: string,
  options: ClipModelOptions = {},
): Promise<NodeClipModel> {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}.`);
  }
  const detected = await detectClipLayout(directory, options);
  const files: ClipModelFiles = options.tokenizer ? { ...detected, tokenizer: options.tokenizer } : detected;
  const preprocess = options.preprocess
    ? resolvePreprocessConfig(options.preprocess)
    : await readClipPreprocessConfig(files);

  const [visionBytes, textBytes] = await Promise.all([readBytes(files.vision), readBytes(files.text)]);
  const { imageInput, imageOutput, textInput, maskInput, textOutput } = resolveClipTowerIo({
    vision: { bytes: visionBytes, path: files.vision },
    text: { bytes: textBytes, path: files.text },
    preprocess,
  });

  const vision = await openSession(visionBytes, files.vision, options);
  let text: Awaited<ReturnType<typeof openSession>>;
  try {
    // The text tower runs where the image tower does, so one provider is recorded for both.
    text = await openSession(textBytes, files.text, { executionProviders: [vision.provider], strict: true });
  } catch (error) {
    await vision.session.release();
    throw error;
  }
  let tokenizer: ClipTokenizer;
  try {
    // A text tower with a fixed context length (CLIP's is 77) gets sequences of that length.
    const contextLength = textInput.shape[1];
    tokenizer = await loadClipTokenizer(
      files.tokenizer,
      typeof contextLength === 'number' ? { contextLength } : {},
    );
  } catch (error) {
    await Promise.all([vision.session.release(), text.session.release()]);
    throw error;
  }

  let disposed = false;
  const assertOpen = () => {
    if (disposed) throw new Error('The CLIP model was disposed; load it again.');
  };

  const runTower = async (
    session: ort.InferenceSession,
    feeds: Record<string, ort.Tensor>,
    output: string,
    path: string,
  ): Promise<ort.Tensor> => {
    try {
      return (await session.run(feeds, [output]))[output] as ort.Tensor;
    } catch (cause) {
      throw new NeurodissectError(
        ErrorCode.ModelLoadFailed,
        `Running ${path} failed (${(cause as Error).message}).`,
        { cause, details: { path } },
      );
    }
  };

  const staticDim = (o: ClipTensorIo) => (typeof o.shape[1] === 'number' ? o.shape[1] : undefined);
  let dim = staticDim(imageOutput) ?? staticDim(textOutput) ?? 0;

  const embedTokenRows = async (texts: readonly string[]): Promise<ort.Tensor> => {
    const { ids, attentionMask } = tokenizer.encodeBatch(texts);
    const toFeed = (t: Tensor<'int64'>) =>
      textInput.elemType === ONNX_ELEMENT_TYPE.int32
        ? new ort.Tensor('int32', Int32Array.from(t.data, Number), [...t.dims])
        : new ort.Tensor('int64', t.data, [...t.dims]);
    const feeds: Record<string, ort.Tensor> = { [textInput.name]: toFeed(ids) };
    if (maskInput) feeds[maskInput.name] = toFeed(attentionMask);
    return runTower(text.session, feeds, textOutput.name, files.text);
  };
  if (!dim) dim = (await embedTokenRows([''])).dims[1];

  const checkOutput = (value: ort.Tensor, rows: number, path: string, name: string): Float32Array => {
    if (value.dims.length !== 2 || value.dims[0] !== rows || value.dims[1] !== dim) {
      throw new NeurodissectError(
        ErrorCode.ShapeMismatch,
        `${path} returned ${name} of shape [${value.dims.join(', ')}], expected [${rows}, ${dim}].`,
        { details: { path } },
      );
    }
    return value.data as Float32Array;
  };

  const embedPixels: NodeClipModel['embedPixels'] = async (pixels, runOptions = {}) => {
    assertOpen();
    throwIfAborted(runOptions.signal);
    const [n] = pixels.dims;
    const feed = new ort.Tensor('float32', pixels.data, [...pixels.dims]);
    const value = await runTower(vision.session, { [imageInput.name]: feed }, imageOutput.name, files.vision);
    return createMatrix(n, dim, checkOutput(value, n, files.vision, imageOutput.name).slice());
  };

  return {
    layout: files.layout,
    files,
    executionProvider: vision.provider,
    fallbacks: vision.fallbacks,
    preprocess,
    tokenizer,
    io: {
      image: { input: imageInput.name, output: imageOutput.name },
      text: {
        input: textInput.name,
        ...(maskInput ? { attentionMask: maskInput.name } : {}),
        output: textOutput.name,
      },
    },
    get dim() {
      return dim;
    },
    embedPixels,
    async embedImages(images: readonly RgbImage[], runOptions: OperationOptions = {}) {
      assertOpen();
      const out = createMatrix(images.length, dim);
      for (let start = 0; start < images.length; start += batchSize) {
        throwIfAborted(runOptions.signal);
        const batch = preprocessBatch(images.slice(start, start + batchSize), preprocess);
        const rows = batch.dims[0];
        const feed = new ort.Tensor('float32', batch.data, [...batch.dims]);
        const value = await runTower(
          vision.session,
          { [imageInput.name]: feed },
          imageOutput.name,
          files.vision,
        );
        out.data.set(checkOutput(value, rows, files.vision, imageOutput.name), start * dim);
        runOptions.onProgress?.({ stage: 'embed-images', done: start + rows, total: images.length });
      }
      throwIfAborted(runOptions.signal);
      return out;
    },
    async embedTexts(texts: readonly string[], runOptions: OperationOptions = {}) {
      assertOpen();
      const out = createMatrix(texts.length, dim);
      for (let start = 0; start < texts.length; start += batchSize) {
        throwIfAborted(runOptions.signal);
        const slice = texts.slice(start, start + batchSize);
        const value = await embedTokenRows(slice);
        out.data.set(checkOutput(value, slice.length, files.text, textOutput.name), start * dim);
        runOptions.onProgress?.({ stage: 'embed-texts', done: start + slice.length, total: texts.length });
      }
      throwIfAborted(runOptions.signal);
      return out;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.all([vision.session.release(), text.session.release()]);
    },
  };
}
