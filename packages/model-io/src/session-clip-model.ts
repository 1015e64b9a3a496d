import {
  type ClipModel,
  createMatrix,
  disposedError,
  ErrorCode,
  type Matrix,
  NeurodissectError,
  type OperationOptions,
  type RgbImage,
  type Tensor,
  throwIfAborted,
} from '@neurodissect/core';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { ClipTokenizer } from './clip-tokenizer';
import { type ClipTowerIo, ONNX_ELEMENT_TYPE } from './clip-tower-io';
import { type PreprocessConfig, preprocessBatch } from './image-preprocess';
import type { ProviderFallback, ProviderSession } from './open-on-provider';
import { failureReason, isShapeFailure } from './open-on-provider';

/** A {@link ClipModel} on two onnxruntime sessions (Node or web). */
export interface SessionClipModel<P extends string = string> extends ClipModel {
  /** The provider that actually ran, for both towers (after any fallback). */
  readonly executionProvider: P;
  /** Providers that were tried before it and failed, with the reason. */
  readonly fallbacks: readonly ProviderFallback<P>[];
  /** What images go through before the image tower. */
  readonly preprocess: PreprocessConfig;
  readonly tokenizer: ClipTokenizer;
  /**
   * How texts are padded: `'batch'` when the text graph takes any sequence length (texts are
   * sorted by token count and each batch runs only up to its longest text), `'context'` when it
   * is fixed at the context length (77) or that was asked for.
   */
  readonly textPadding: TextPadding;
  /** N×D embeddings of already preprocessed pixels `[N, 3, crop, crop]`. */
  embedPixels(pixels: Tensor<'float32'>, options?: OperationOptions): Promise<Matrix>;
}

/** What {@link createSessionClipModel} needs from a runtime. */
export interface SessionClipModelOptions<P extends string> {
  /** The image tower's session and the text tower's, opened on the same provider. */
  vision: ProviderSession<P>;
  text: ProviderSession<P>;
  /** The towers' input and output names, read from the graphs. */
  io: ClipTowerIo;
  tokenizer: ClipTokenizer;
  preprocess: PreprocessConfig;
  /** The towers' files (or URLs), for messages. */
  paths: { vision: string; text: string };
  /** Images or texts per run. */
  batchSize: number;
  /** The runtime's own tensor. */
  createTensor(
    type: 'float32' | 'int32' | 'int64',
    data: Float32Array | Int32Array | BigInt64Array,
    dims: readonly number[],
  ): OrtTensor;
  /** Run one call at a time (onnxruntime-web sessions take no concurrent runs). @defaultValue false */
  serialize?: boolean;
  /**
   * `'batch'`: where the text graph's sequence length is dynamic, sort texts by token count and run
   * each batch only up to its longest text (with the causal mask the embeddings are those of the
   * full 77-token run, many times faster for short concepts). `'context'`: always the full
   * context length. @defaultValue 'batch' (falls back to 'context' for a fixed-length graph)
   */
  textPadding?: TextPadding;
}

/** See {@link SessionClipModelOptions.textPadding}. */
export type TextPadding = 'batch' | 'context';

/**
 * CLIP on a runtime's two tower sessions: tokenising, batching, preprocessing, output checks and
 * the embedding dimension, shared by runtime-node and runtime-web.
 */
export async function createSessionClipModel<P extends string>(
  options: SessionClipModelOptions<P>,
): Promise<SessionClipModel<P>> {
  const { vision, text, tokenizer, preprocess, paths, batchSize } = options;
  const { imageInput, imageOutput, textInput, maskInput, textOutput } = options.io;
  let disposed = false;
  const assertOpen = () => {
    if (disposed) throw disposedError('CLIP model', 'load it again');
  };
  let queue: Promise<unknown> = Promise.resolve();
  const runTower = (
    session: InferenceSession,
    feeds: Record<string, OrtTensor>,
    output: string,
    path: string,
  ): Promise<OrtTensor> => {
    const runNow = async () => {
      try {
        return (await session.run(feeds, [output]))[output] as OrtTensor;
      } catch (cause) {
        const reason = failureReason(cause);
        throw new NeurodissectError(
          isShapeFailure(reason) ? ErrorCode.ShapeMismatch : ErrorCode.RunFailed,
          `Running ${path} failed (${reason}).`,
          { cause, details: { path } },
        );
      }
    };
    if (!options.serialize) return runNow();
    const next = queue.then(runNow);
    queue = next.catch(() => undefined);
    return next;
  };

  const toFeed = (data: BigInt64Array, dims: readonly number[]) =>
    textInput.elemType === ONNX_ELEMENT_TYPE.int32
      ? options.createTensor('int32', Int32Array.from(data, Number), dims)
      : options.createTensor('int64', data, dims);
  /** Runs rows of ids (and their mask), `[rows, length]`, through the text tower. */
  const runTokens = (ids: BigInt64Array, mask: BigInt64Array, rows: number, length: number) => {
    const feeds: Record<string, OrtTensor> = { [textInput.name]: toFeed(ids, [rows, length]) };
    if (maskInput) feeds[maskInput.name] = toFeed(mask, [rows, length]);
    return runTower(text.session, feeds, textOutput.name, paths.text);
  };
  const embedTokenRows = async (texts: readonly string[]): Promise<OrtTensor> => {
    const { ids, attentionMask } = tokenizer.encodeBatch(texts);
    return runTokens(ids.data, attentionMask.data, ids.dims[0], ids.dims[1]);
  };
  // A symbolic (or absent) sequence dimension takes any length; a number is fixed.
  const textPadding: TextPadding =
    (options.textPadding ?? 'batch') === 'batch' && typeof textInput.shape[1] !== 'number'
      ? 'batch'
      : 'context';

  const staticDim = (shape: readonly (number | string)[]) =>
    typeof shape[1] === 'number' ? shape[1] : undefined;
  let dim = staticDim(imageOutput.shape) ?? staticDim(textOutput.shape) ?? 0;
  if (!dim) dim = (await embedTokenRows([''])).dims[1];

  const checkOutput = (value: OrtTensor, rows: number, path: string, name: string): Float32Array => {
    if (value.dims.length !== 2 || value.dims[0] !== rows || value.dims[1] !== dim) {
      throw new NeurodissectError(
        ErrorCode.ShapeMismatch,
        `${path} returned ${name} of shape [${value.dims.join(', ')}], expected [${rows}, ${dim}].`,
        { details: { path } },
      );
    }
    return value.data as Float32Array;
  };

  const runImages = async (pixels: Tensor<'float32'>): Promise<Float32Array> => {
    const feed = options.createTensor('float32', pixels.data, pixels.dims);
    const value = await runTower(vision.session, { [imageInput.name]: feed }, imageOutput.name, paths.vision);
    return checkOutput(value, pixels.dims[0], paths.vision, imageOutput.name);
  };

  return {
    executionProvider: vision.provider,
    fallbacks: vision.fallbacks,
    preprocess,
    tokenizer,
    textPadding,
    dim,
    async embedPixels(pixels, runOptions = {}) {
      assertOpen();
      throwIfAborted(runOptions.signal);
      return createMatrix(pixels.dims[0], dim, (await runImages(pixels)).slice());
    },
    async embedImages(images: readonly RgbImage[], runOptions: OperationOptions = {}) {
      assertOpen();
      const out = createMatrix(images.length, dim);
      for (let start = 0; start < images.length; start += batchSize) {
        throwIfAborted(runOptions.signal);
        const batch = preprocessBatch(images.slice(start, start + batchSize), preprocess);
        out.data.set(await runImages(batch), start * dim);
        runOptions.onProgress?.({ stage: 'embed-images', done: start + batch.dims[0], total: images.length });
      }
      throwIfAborted(runOptions.signal);
      return out;
    },
    async embedTexts(texts: readonly string[], runOptions: OperationOptions = {}) {
      assertOpen();
      const out = createMatrix(texts.length, dim);
      if (textPadding === 'context') {
        for (let start = 0; start < texts.length; start += batchSize) {
          throwIfAborted(runOptions.signal);
          const slice = texts.slice(start, start + batchSize);
          const value = await embedTokenRows(slice);
          out.data.set(checkOutput(value, slice.length, paths.text, textOutput.name), start * dim);
          runOptions.onProgress?.({ stage: 'embed-texts', done: start + slice.length, total: texts.length });
        }
        throwIfAborted(runOptions.signal);
        return out;
      }
      // Shortest texts first; each batch is cut to its longest text's tokens.
      const { ids, attentionMask } = tokenizer.encodeBatch(texts);
      const context = ids.dims[1];
      const lengths = new Int32Array(texts.length);
      for (let i = 0; i < texts.length; i++) {
        let n = 0;
        for (let j = 0; j < context; j++) if (attentionMask.data[i * context + j] !== 0n) n = j + 1;
        lengths[i] = Math.max(n, 1);
      }
      const order = Array.from({ length: texts.length }, (_, i) => i).sort(
        (x, y) => lengths[x] - lengths[y] || x - y,
      );
      for (let start = 0; start < texts.length; start += batchSize) {
        throwIfAborted(runOptions.signal);
        const rows = order.slice(start, start + batchSize);
        const length = lengths[rows[rows.length - 1]];
        const batchIds = new BigInt64Array(rows.length * length);
        const batchMask = new BigInt64Array(rows.length * length);
        rows.forEach((row, r) => {
          batchIds.set(ids.data.subarray(row * context, row * context + length), r * length);
          batchMask.set(attentionMask.data.subarray(row * context, row * context + length), r * length);
        });
        const value = await runTokens(batchIds, batchMask, rows.length, length);
        const data = checkOutput(value, rows.length, paths.text, textOutput.name);
        rows.forEach((row, r) => {
          out.data.set(data.subarray(r * dim, (r + 1) * dim), row * dim);
        });
        runOptions.onProgress?.({ stage: 'embed-texts', done: start + rows.length, total: texts.length });
      }
      throwIfAborted(runOptions.signal);
      return out;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await queue;
      await Promise.all([vision.session.release(), text.session.release()]);
    },
  };
}
