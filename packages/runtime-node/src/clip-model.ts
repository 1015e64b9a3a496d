import { readFile } from 'node:fs/promises';
import { type ClipModel, ErrorCode, NeurodissectError } from '@neurodissect/core';
import type { ClipTokenizer } from '@neurodissect/model-io';
import {
  createSessionClipModel,
  type PreprocessConfig,
  type PreprocessPreset,
  resolveClipTowerIo,
  resolvePreprocessConfig,
  type SessionClipModel,
  type TextPadding,
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
  /**
   * Overrides how an odd crop margin is split: `'half-even'` as OpenAI's CLIP preprocessing (and
   * CLIP-Dissect) does, `'floor'` as Hugging Face's image processors do. The folder's own
   * processor decides by default (Hugging Face layout: floor; OpenCLIP layout: half-even).
   */
  cropRounding?: PreprocessConfig['cropRounding'];
  /** Overrides the tokenizer file (a `tokenizer.json` or OpenAI's BPE vocabulary). */
  tokenizer?: string;
  /**
   * `'batch'`: texts sorted by token count, each batch run only up to its longest text, where the
   * text graph's sequence length is dynamic (the Hugging Face exports). `'context'`: always 77.
   * @defaultValue 'batch'
   */
  textPadding?: TextPadding;
}

/** A {@link ClipModel} on onnxruntime-node. */
export interface NodeClipModel extends SessionClipModel<ExecutionProvider> {
  readonly layout: ClipLayout;
  /** The files it was loaded from. */
  readonly files: ClipModelFiles;
  /** The graph names it feeds and reads, found in the ONNX files. */
  readonly io: {
    readonly image: { readonly input: string; readonly output: string };
    readonly text: { readonly input: string; readonly attentionMask?: string; readonly output: string };
  };
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
  const recorded = options.preprocess
    ? resolvePreprocessConfig(options.preprocess)
    : await readClipPreprocessConfig(files);
  const preprocess = options.cropRounding ? { ...recorded, cropRounding: options.cropRounding } : recorded;

  const [visionBytes, textBytes] = await Promise.all([readBytes(files.vision), readBytes(files.text)]);
  const towerIo = resolveClipTowerIo({
    vision: { bytes: visionBytes, path: files.vision },
    text: { bytes: textBytes, path: files.text },
    preprocess,
  });
  const { imageInput, imageOutput, textInput, maskInput, textOutput } = towerIo;

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

  try {
    const model = await createSessionClipModel<ExecutionProvider>({
      vision,
      text,
      io: towerIo,
      tokenizer,
      preprocess,
      paths: { vision: files.vision, text: files.text },
      batchSize,
      textPadding: options.textPadding,
      createTensor: (type, data, dims) =>
        type === 'float32'
          ? new ort.Tensor('float32', data as Float32Array, [...dims])
          : type === 'int32'
            ? new ort.Tensor('int32', data as Int32Array, [...dims])
            : new ort.Tensor('int64', data as BigInt64Array, [...dims]),
    });
    return {
      ...model,
      layout: files.layout,
      files,
      io: {
        image: { input: imageInput.name, output: imageOutput.name },
        text: {
          input: textInput.name,
          ...(maskInput ? { attentionMask: maskInput.name } : {}),
          output: textOutput.name,
        },
      },
    };
  } catch (error) {
    await Promise.all([vision.session.release(), text.session.release()]);
    throw error;
  }
}
