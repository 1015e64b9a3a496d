import { readFile } from 'node:fs/promises';
import {
  type BinaryMask,
  ErrorCode,
  NeurodissectError,
  type OperationOptions,
  type PixelBox,
  type RgbImage,
  type Segmenter,
  throwIfAborted,
} from '@neurodissect/core';
import { resizeRgb } from '@neurodissect/model-io';
import * as ort from 'onnxruntime-node';
import { type ExecutionProvider, openSession, type SessionOptions } from './target-model';

/** Options of {@link loadSam}. */
export type SamOptions = SessionOptions;

/** A {@link Segmenter} on onnxruntime-node, with the provider that ran. */
export interface SamSegmenter extends Segmenter {
  readonly executionProvider: ExecutionProvider;
}

// segment-anything's `Sam.pixel_mean` / `pixel_std`, on 0–255 values.
const MEAN = [123.675, 116.28, 103.53];
const STD = [58.395, 57.12, 57.375];
const DECODER_INPUTS = [
  'image_embeddings',
  'point_coords',
  'point_labels',
  'mask_input',
  'has_mask_input',
  'orig_im_size',
];

async function open(path: string, what: string, options: SessionOptions) {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new NeurodissectError(ErrorCode.FileNotFound, `The SAM ${what} ${path} could not be read.`, {
      cause,
      details: { path },
    });
  }
  return openSession(bytes, path, options);
}

function staticDims(session: ort.InferenceSession, name: string): readonly (number | string)[] | undefined {
  return (session.inputMetadata.find((m) => m.name === name) as { shape?: readonly (number | string)[] })
    ?.shape;
}

/**
 * Loads Segment Anything as the common encoder/decoder ONNX split: the image encoder takes one
 * input `[1,3,S,S]` float32 (the image resized so its longer side is S, normalised with SAM's
 * pixel mean/std, zero-padded right and bottom; S is read from the graph, 1024 for the released
 * models) and returns `image_embeddings`; the prompt decoder is segment-anything's
 * `scripts/export_onnx_model.py` export: inputs `image_embeddings`, `point_coords` [1,N,2],
 * `point_labels` [1,N], `mask_input` [1,1,4e,4e], `has_mask_input` [1], `orig_im_size` [2]
 * (all float32), outputs `masks` [1,C,H,W] (logits at the original size) and `iou_predictions`
 * [1,C]. A box is prompted as its two corners with labels 2 and 3 (no padding point), in the
 * resized frame; of C masks the one with the highest predicted IoU is kept, binarised at logit 0.
 *
 * Tested only against small stand-in models of this signature (no real weights are used in the
 * tests); images are resized with Pillow's bilinear filter.
 */
export async function loadSam(
  encoderPath: string,
  decoderPath: string,
  options: SamOptions = {},
): Promise<SamSegmenter> {
  const encoder = await open(encoderPath, 'encoder', options);
  const decoder = await open(decoderPath, 'decoder', { ...options, executionProviders: [encoder.provider] });
  const release = () => Promise.all([encoder.session.release(), decoder.session.release()]);
  const missing = DECODER_INPUTS.filter((n) => !decoder.session.inputNames.includes(n));
  if (!decoder.session.outputNames.includes('masks')) missing.push('masks (output)');
  if (!encoder.session.outputNames.includes('image_embeddings'))
    missing.push('image_embeddings (encoder output)');
  if (encoder.session.inputNames.length !== 1) missing.push('one encoder input');
  if (missing.length > 0) {
    await release();
    throw new NeurodissectError(
      ErrorCode.ModelLoadFailed,
      `${encoderPath} + ${decoderPath} lack ${missing.join(', ')}: they are not SAM's encoder/decoder split (encoder [1,3,S,S] → image_embeddings; decoder ${DECODER_INPUTS.join(', ')} → masks, iou_predictions).`,
      { details: { encoder: encoder.session.inputNames, decoder: decoder.session.inputNames } },
    );
  }
  const inputName = encoder.session.inputNames[0];
  const dims = staticDims(encoder.session, inputName);
  const side = typeof dims?.[3] === 'number' ? dims[3] : 1024;
  const maskDims = staticDims(decoder.session, 'mask_input');
  const maskSide = typeof maskDims?.[3] === 'number' ? maskDims[3] : 256;
  let disposed = false;

  return {
    executionProvider: encoder.provider,
    async segment(
      image: RgbImage,
      boxes: readonly PixelBox[],
      o: OperationOptions = {},
    ): Promise<BinaryMask[]> {
      throwIfAborted(o.signal);
      if (disposed) throw new NeurodissectError(ErrorCode.InvalidOption, 'This SAM model was disposed.');
      if (boxes.length === 0) return [];
      // ResizeLongestSide.get_preprocess_shape: scale the longer side to S, round half up.
      const scale = side / Math.max(image.width, image.height);
      const w = Math.floor(image.width * scale + 0.5);
      const h = Math.floor(image.height * scale + 0.5);
      const resized = resizeRgb(image, w, h, 'bilinear');
      const pixels = new Float32Array(3 * side * side);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let c = 0; c < 3; c++)
            pixels[c * side * side + y * side + x] = (resized.data[(y * w + x) * 3 + c] - MEAN[c]) / STD[c];
      const { image_embeddings: embeddings } = await encoder.session.run({
        [inputName]: new ort.Tensor('float32', pixels, [1, 3, side, side]),
      });
      const sx = w / image.width;
      const sy = h / image.height;
      const masks: BinaryMask[] = [];
      for (const [x0, y0, x1, y1] of boxes) {
        throwIfAborted(o.signal);
        const out = await decoder.session.run({
          image_embeddings: embeddings,
          point_coords: new ort.Tensor(
            'float32',
            Float32Array.of(x0 * sx, y0 * sy, x1 * sx, y1 * sy),
            [1, 2, 2],
          ),
          point_labels: new ort.Tensor('float32', Float32Array.of(2, 3), [1, 2]),
          mask_input: new ort.Tensor('float32', new Float32Array(maskSide * maskSide), [
            1,
            1,
            maskSide,
            maskSide,
          ]),
          has_mask_input: new ort.Tensor('float32', Float32Array.of(0), [1]),
          orig_im_size: new ort.Tensor('float32', Float32Array.of(image.height, image.width), [2]),
        });
        const [, C, H, W] = out.masks.dims;
        if (H !== image.height || W !== image.width)
          throw new NeurodissectError(
            ErrorCode.ShapeMismatch,
            `SAM's decoder returned ${W}×${H} masks for a ${image.width}×${image.height} image; export it with orig_im_size upscaling (return masks at the original size).`,
          );
        const iou = out.iou_predictions?.data as Float32Array | undefined;
        let best = 0;
        if (iou) for (let c = 1; c < C; c++) if (iou[c] > iou[best]) best = c;
        const logits = (out.masks.data as Float32Array).subarray(best * H * W, (best + 1) * H * W);
        masks.push({ width: W, height: H, data: Uint8Array.from(logits, (v) => (v > 0 ? 1 : 0)) });
      }
      return masks;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await release();
    },
  };
}
