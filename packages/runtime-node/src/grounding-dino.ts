import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import {
  type Detection,
  type Detector,
  type DetectorPrompt,
  ErrorCode,
  NeurodissectError,
  type OperationOptions,
  type RgbImage,
  throwIfAborted,
} from '@neurodissect/core';
import { resizeRgb } from '@neurodissect/model-io';
import * as ort from 'onnxruntime-node';
import { type ExecutionProvider, openSession, type SessionOptions } from './target-model';

/** Options of {@link loadGroundingDino}. */
export interface GroundingDinoOptions extends SessionOptions {
  /**
   * The BERT `tokenizer.json` of the export.
   * @defaultValue `tokenizer.json` beside the model, else one folder up (Hugging Face's `onnx/model.onnx` layout)
   */
  tokenizer?: string;
  /** The longest prompt in tokens, special tokens included. @defaultValue 256 (`max_text_len`) */
  maxTextLength?: number;
  /**
   * Resize for exports whose `pixel_values` height and width are dynamic (Hugging Face's
   * `GroundingDinoImageProcessor`); static dimensions in the graph win.
   * @defaultValue `{ shortestEdge: 800, longestEdge: 1333 }`
   */
  resize?: { shortestEdge: number; longestEdge: number };
  /** Default box threshold when a prompt gives none. @defaultValue 0.35 */
  boxThreshold?: number;
  /** Default text threshold when a prompt gives none. @defaultValue 0.25 */
  textThreshold?: number;
}

/** A {@link Detector} on onnxruntime-node, with the provider that ran. */
export interface GroundingDinoDetector extends Detector {
  readonly executionProvider: ExecutionProvider;
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const REQUIRED_INPUTS = ['pixel_values', 'input_ids', 'attention_mask', 'token_type_ids'];

async function readTokenizer(path: string, explicit: string | undefined): Promise<Record<string, unknown>> {
  const candidates = explicit
    ? [explicit]
    : [join(dirname(path), 'tokenizer.json'), join(dirname(dirname(path)), 'tokenizer.json')];
  for (const candidate of candidates) {
    let text: string;
    try {
      text = await readFile(candidate, 'utf8');
    } catch {
      continue;
    }
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (cause) {
      throw new NeurodissectError(
        ErrorCode.InvalidFormat,
        `The tokenizer file ${candidate} is not valid JSON.`,
        {
          cause,
          details: { path: candidate },
        },
      );
    }
  }
  throw new NeurodissectError(
    ErrorCode.MissingModelFile,
    `No tokenizer.json found for ${path} (looked at ${candidates.join(', ')}); pass options.tokenizer.`,
    { details: { candidates } },
  );
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Loads a Grounding DINO ONNX export with Hugging Face's `GroundingDinoForObjectDetection`
 * signature (as `optimum` and the `onnx-community/grounding-dino-*` repositories export it):
 * inputs `pixel_values` [B,3,H,W] float32 (ImageNet mean/std), `input_ids`, `attention_mask`,
 * `token_type_ids` [B,T] int64 and, when the graph has it, `pixel_mask` [B,H,W] int64; outputs
 * `logits` [B,Q,T′] (T′ ≥ T: the model pads to `max_text_len`) and `pred_boxes` [B,Q,4]
 * (cx, cy, w, h normalised to the image). The prompt is `[CLS] phrase₁ . phrase₂ . … [SEP]`
 * tokenised with the export's BERT `tokenizer.json`. Post-processing follows
 * `post_process_grounded_object_detection`: a query is kept when its best token probability
 * (sigmoid) exceeds the box threshold; it is attributed to the phrase with the highest token
 * probability, when that exceeds the text threshold (ties go to the higher mean over the phrase's
 * tokens); boxes are scaled to the image's pixels.
 *
 * Tested only against small stand-in models of this signature (no real weights are used in the
 * tests); images are resized with Pillow's bilinear filter.
 */
export async function loadGroundingDino(
  path: string,
  options: GroundingDinoOptions = {},
): Promise<GroundingDinoDetector> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `The Grounding DINO model ${path} could not be read.`,
      {
        cause,
        details: { path },
      },
    );
  }
  const tokenizer = new Tokenizer(await readTokenizer(path, options.tokenizer), {});
  const { session, provider } = await openSession(bytes, path, options);
  const missing = [...REQUIRED_INPUTS.filter((n) => !session.inputNames.includes(n))];
  for (const name of ['logits', 'pred_boxes']) if (!session.outputNames.includes(name)) missing.push(name);
  if (missing.length > 0) {
    await session.release();
    throw new NeurodissectError(
      ErrorCode.ModelLoadFailed,
      `${path} lacks ${missing.join(', ')}: it is not a Grounding DINO export with Hugging Face's signature (inputs pixel_values, input_ids, attention_mask, token_type_ids[, pixel_mask]; outputs logits, pred_boxes).`,
      { details: { inputs: session.inputNames, outputs: session.outputNames } },
    );
  }
  const hasPixelMask = session.inputNames.includes('pixel_mask');
  const pixelDims = (
    session.inputMetadata.find((m) => m.name === 'pixel_values') as { shape?: readonly (number | string)[] }
  )?.shape;
  const staticSize =
    typeof pixelDims?.[2] === 'number' && typeof pixelDims?.[3] === 'number'
      ? [pixelDims[3] as number, pixelDims[2] as number]
      : undefined;
  const resize = options.resize ?? { shortestEdge: 800, longestEdge: 1333 };
  const maxTextLength = options.maxTextLength ?? 256;
  const [cls, sep] = tokenizer.encode('', { add_special_tokens: true }).ids;
  const dot = tokenizer.encode('.', { add_special_tokens: false }).ids;
  const idsOf = (phrase: string) => tokenizer.encode(phrase, { add_special_tokens: false }).ids;
  const countTokens = (phrases: readonly string[]) =>
    2 + phrases.reduce((n, phrase) => n + idsOf(phrase).length + dot.length, 0);
  let disposed = false;

  const targetSize = (image: RgbImage): [number, number] => {
    if (staticSize) return staticSize as [number, number];
    const short = Math.min(image.width, image.height);
    const long = Math.max(image.width, image.height);
    let size = resize.shortestEdge;
    if ((long / short) * size > resize.longestEdge) size = Math.round((resize.longestEdge * short) / long);
    return image.width <= image.height
      ? [size, Math.round((size * image.height) / image.width)]
      : [Math.round((size * image.width) / image.height), size];
  };

  return {
    executionProvider: provider,
    maxTextLength,
    countTokens,
    async detect(image: RgbImage, prompt: DetectorPrompt, o: OperationOptions = {}): Promise<Detection[]> {
      throwIfAborted(o.signal);
      if (disposed)
        throw new NeurodissectError(ErrorCode.InvalidOption, 'This Grounding DINO model was disposed.');
      const tokens = countTokens(prompt.phrases);
      if (tokens > maxTextLength)
        throw new NeurodissectError(
          ErrorCode.InvalidOption,
          `The prompt takes ${tokens} tokens, more than Grounding DINO's ${maxTextLength}; split the phrases (countTokens helps).`,
        );
      const ids: number[] = [cls];
      const spans: [number, number][] = [];
      for (const phrase of prompt.phrases) {
        const start = ids.length;
        ids.push(...idsOf(phrase));
        spans.push([start, ids.length]);
        ids.push(...dot);
      }
      ids.push(sep);
      const T = ids.length;
      const [W, H] = targetSize(image);
      const resized = resizeRgb(image, W, H, 'bilinear');
      const pixels = new Float32Array(3 * H * W);
      for (let p = 0; p < H * W; p++)
        for (let c = 0; c < 3; c++)
          pixels[c * H * W + p] = (resized.data[p * 3 + c] / 255 - MEAN[c]) / STD[c];
      const int64 = (values: number[] | bigint[], dims: number[]) =>
        new ort.Tensor(
          'int64',
          BigInt64Array.from(values as number[], (v) => BigInt(v)),
          dims,
        );
      const feeds: Record<string, ort.Tensor> = {
        pixel_values: new ort.Tensor('float32', pixels, [1, 3, H, W]),
        input_ids: int64(ids, [1, T]),
        attention_mask: int64(new Array(T).fill(1), [1, T]),
        token_type_ids: int64(new Array(T).fill(0), [1, T]),
      };
      if (hasPixelMask)
        feeds.pixel_mask = new ort.Tensor('int64', new BigInt64Array(H * W).fill(1n), [1, H, W]);
      const out = await session.run(feeds);
      throwIfAborted(o.signal);
      const logits = out.logits;
      const boxes = out.pred_boxes.data as Float32Array;
      const [, Q, Tpad] = logits.dims;
      if (Tpad < T)
        throw new NeurodissectError(
          ErrorCode.ShapeMismatch,
          `Grounding DINO returned logits for ${Tpad} tokens but the prompt has ${T}; lower maxTextLength to the export's max_text_len.`,
        );
      const data = logits.data as Float32Array;
      const boxThreshold = prompt.boxThreshold ?? options.boxThreshold ?? 0.35;
      const textThreshold = prompt.textThreshold ?? options.textThreshold ?? 0.25;
      const detections: Detection[] = [];
      for (let q = 0; q < Q; q++) {
        const row = data.subarray(q * Tpad, q * Tpad + T);
        let score = 0;
        for (let t = 0; t < T; t++) score = Math.max(score, sigmoid(row[t]));
        if (!(score > boxThreshold)) continue;
        // The phrase with the highest token probability; ties (phrases sharing a word, "blue" and
        // "light blue") go to the phrase whose tokens score highest on average.
        let best = -1;
        let bestMax = textThreshold;
        let bestMean = 0;
        spans.forEach(([a, b], j) => {
          let max = 0;
          let sum = 0;
          for (let t = a; t < b; t++) {
            max = Math.max(max, sigmoid(row[t]));
            sum += sigmoid(row[t]);
          }
          const mean = sum / Math.max(b - a, 1);
          if (max > bestMax || (best >= 0 && max === bestMax && mean > bestMean)) {
            best = j;
            bestMax = max;
            bestMean = mean;
          }
        });
        if (best < 0) continue;
        const [cx, cy, w, h] = boxes.subarray(q * 4, q * 4 + 4);
        const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max);
        detections.push({
          box: [
            clamp((cx - w / 2) * image.width, image.width),
            clamp((cy - h / 2) * image.height, image.height),
            clamp((cx + w / 2) * image.width, image.width),
            clamp((cy + h / 2) * image.height, image.height),
          ],
          phrase: prompt.phrases[best],
          score,
        });
      }
      return detections.sort((a, b) => b.score - a.score);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}
