import { ErrorCode, NeurodissectError, type RgbImage, type Tensor } from '@neurodissect/core';
import { type PreprocessConfig, type PreprocessPreset, preprocessImage } from '@neurodissect/model-io';
import { describeSource, type ModelSource, readSourceBytes } from './model-source';

/** Options for {@link decodeImage}. */
export interface DecodeImageOptions {
  /** Name used in error messages. @defaultValue the URL or file name */
  name?: string;
  signal?: AbortSignal;
}

/**
 * Decodes an image (a URL, a picked `File`/`Blob`, or bytes) to 8-bit RGB in the browser with
 * `createImageBitmap` and an `OffscreenCanvas`, as Pillow's `convert('RGB')` does before the
 * reference pipelines resize: EXIF orientation applied, no colour-space conversion, alpha dropped.
 * Works in pages and Web Workers. Resizing is left to the Pillow-exact preprocessing shared with
 * runtime-node, so preprocessed tensors match runtime-node's.
 * @throws `ND_FILE_NOT_FOUND` for a URL that cannot be fetched; `ND_IMAGE_DECODE_FAILED` for
 * bytes the browser cannot decode.
 */
export async function decodeImage(input: ModelSource, options: DecodeImageOptions = {}): Promise<RgbImage> {
  const name = options.name ?? describeSource(input);
  const blob =
    input instanceof Blob
      ? input
      : new Blob([
          (await readSourceBytes(input, {
            name,
            ...(options.signal ? { signal: options.signal } : {}),
          })) as BlobPart,
        ]);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
      imageOrientation: 'from-image',
    });
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.ImageDecodeFailed,
      `The image ${name} could not be decoded (${(cause as Error).message}); it is corrupt, truncated or not an image — replace or remove it.`,
      { cause, details: { path: name } },
    );
  }
  try {
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('no 2D canvas context');
    context.drawImage(bitmap, 0, 0);
    const rgba = context.getImageData(0, 0, width, height).data;
    const data = new Uint8Array(width * height * 3);
    for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
      data[o] = rgba[i];
      data[o + 1] = rgba[i + 1];
      data[o + 2] = rgba[i + 2];
    }
    return { width, height, data };
  } finally {
    bitmap.close();
  }
}

/** Decodes an image and preprocesses it into a float32 CHW tensor `[3, crop, crop]`. */
export async function loadPreprocessedImage(
  input: ModelSource,
  preset: PreprocessPreset | PreprocessConfig,
  options: DecodeImageOptions = {},
): Promise<Tensor<'float32'>> {
  return preprocessImage(await decodeImage(input, options), preset);
}
