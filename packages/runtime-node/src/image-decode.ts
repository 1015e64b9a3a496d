import { readFile } from 'node:fs/promises';
import { ErrorCode, NeurodissectError, type RgbImage, type Tensor } from '@neurodissect/core';
import { type PreprocessConfig, type PreprocessPreset, preprocessImage } from '@neurodissect/model-io';
import sharp from 'sharp';

/** Options for {@link decodeImage}. */
export interface DecodeImageOptions {
  /** Name used in error messages when `input` is bytes (e.g. the file or URL it came from). */
  name?: string;
}

/**
 * Decodes an image file (or its bytes) to 8-bit RGB, as Pillow's `convert('RGB')` does before the
 * reference pipelines resize: EXIF orientation applied, greyscale and palette expanded, CMYK and
 * other colour spaces converted to sRGB, 16-bit reduced to 8-bit, alpha dropped (not composited).
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
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: 2 ** 28 })
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

/** Decodes an image file and preprocesses it into a float32 CHW tensor `[3, crop, crop]`. */
export async function loadPreprocessedImage(
  path: string,
  preset: PreprocessPreset | PreprocessConfig,
): Promise<Tensor<'float32'>> {
  return preprocessImage(await decodeImage(path), preset);
}
