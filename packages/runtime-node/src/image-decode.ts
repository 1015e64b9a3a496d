import { readFile } from 'node:fs/promises';
import { ErrorCode, NeurodissectError, type RgbImage, type Tensor } from '@neurodissect/core';
import { type PreprocessConfig, type PreprocessPreset, preprocessImage } from '@neurodissect/model-io';
import sharp from 'sharp';

/** The most pixels an image may have, by default, before it is decoded: 50 megapixels. */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/** Options for {@link decodeImage}. */
export interface DecodeImageOptions {
  /** Name used in error messages when `input` is bytes (e.g. the file or URL it came from). */
  name?: string;
  /**
   * The most pixels (width × height) an image may have: a larger one is refused from its header,
   * before any pixel is decoded (a small file can hold a huge image). @defaultValue {@link DEFAULT_MAX_PIXELS}
   */
  maxPixels?: number;
}

/**
 * Decodes an image file (or its bytes) to 8-bit RGB, as Pillow's `convert('RGB')` does before the
 * reference pipelines resize: EXIF orientation applied, greyscale and palette expanded, CMYK and
 * other colour spaces converted to sRGB, 16-bit reduced to 8-bit, alpha dropped (not composited).
 * An image of more than `maxPixels` is refused before it is decoded.
 * @throws {@link @neurodissect/core!NeurodissectError | NeurodissectError} `ND_FILE_NOT_FOUND` for a missing
 * file, `ND_IMAGE_DECODE_FAILED` for a corrupt or non-image one; both name the file.
 */
export async function decodeImage(
  input: string | Uint8Array,
  options: DecodeImageOptions = {},
): Promise<RgbImage> {
  const name = options.name ?? (typeof input === 'string' ? input : 'image bytes');
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    try {
      bytes = await readFile(input);
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
      throw new NeurodissectError(
        missing ? ErrorCode.FileNotFound : ErrorCode.ImageDecodeFailed,
        missing
          ? `The image ${name} does not exist; check the path.`
          : `The image ${name} could not be read.`,
        { cause, details: { path: name } },
      );
    }
  } else {
    bytes = input;
  }
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const header = await sharp(bytes)
    .metadata()
    .catch(() => undefined);
  if (
    header?.width !== undefined &&
    header.height !== undefined &&
    header.width * header.height > maxPixels
  ) {
    throw new NeurodissectError(
      ErrorCode.ImageDecodeFailed,
      `The image ${name} is ${header.width}×${header.height} (${megapixels(header.width * header.height)} megapixels), more than the ${megapixels(maxPixels)} megapixels allowed; shrink it, or raise the limit (--max-pixels).`,
      { details: { path: name } },
    );
  }
  try {
    const { data, info } = await sharp(bytes, {
      failOn: 'error',
      limitInputPixels: Math.max(1, Math.floor(maxPixels)),
    })
      .autoOrient()
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`decoded to ${info.channels} channels instead of 3`);
    }
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.ImageDecodeFailed,
      `The image ${name} could not be decoded (${(cause as Error).message}); it is corrupt, truncated or not an image — replace or remove it.`,
      { cause, details: { path: name } },
    );
  }
}

function megapixels(pixels: number): string {
  const mp = pixels / 1e6;
  return mp >= 10 ? mp.toFixed(0) : mp.toPrecision(2);
}

/** Decodes an image file and preprocesses it into a float32 CHW tensor `[3, crop, crop]`. */
export async function loadPreprocessedImage(
  path: string,
  preset: PreprocessPreset | PreprocessConfig,
): Promise<Tensor<'float32'>> {
  return preprocessImage(await decodeImage(path), preset);
}
