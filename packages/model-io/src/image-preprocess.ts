// Platform-neutral (no `node:*`, no sharp): decoding is the runtime's job, this takes decoded
// 8-bit RGB. Resampling reproduces Pillow's `Image.resize` (separable convolution with an
// antialiasing kernel scaled by the reduction factor, 22-bit fixed-point weights, a uint8 rounding
// between the horizontal and vertical passes) because the reference pipelines (OpenAI CLIP,
// torchvision on PIL images) resize with Pillow; libvips' kernels differ visibly on fine textures.
import type { RgbImage, Tensor } from '@neurodissect/core';

/** Interpolation kernels, as Pillow defines them. */
export type Interpolation = 'bicubic' | 'bilinear';

/** A resize → centre-crop → normalise pipeline. */
export interface PreprocessConfig {
  /** The shorter side is resized to this length, keeping the aspect ratio. */
  readonly resizeShorter: number;
  readonly interpolation: Interpolation;
  /** Side of the square centre crop. */
  readonly crop: number;
  /** Per-channel mean and standard deviation applied to values in [0, 1]. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /**
   * How an odd crop margin is split: `half-even` as torchvision's `CenterCrop` (Python's `round`),
   * `floor` as Hugging Face image processors (`(size - crop) // 2`).
   * @defaultValue `'half-even'`
   */
  readonly cropRounding?: 'half-even' | 'floor';
}

/** Named presets. */
export type PreprocessPreset = 'clip' | 'imagenet';

/** The presets: `clip` is OpenAI CLIP's; `imagenet` is torchvision's ResNet evaluation transform. */
export const PREPROCESS_PRESETS: Readonly<Record<PreprocessPreset, PreprocessConfig>> = {
  clip: {
    resizeShorter: 224,
    interpolation: 'bicubic',
    crop: 224,
    mean: [0.48145466, 0.4578275, 0.40821073],
    std: [0.26862954, 0.26130258, 0.27577711],
  },
  imagenet: {
    resizeShorter: 256,
    interpolation: 'bilinear',
    crop: 224,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  },
};

/**
 * A preset's config; with `inputSize`, the shorter side is resized to it and an `inputSize`²
 * centre crop taken (for models trained at another resolution), keeping the preset's
 * normalisation.
 */
export function preprocessConfigFor(preset: PreprocessPreset, inputSize?: number): PreprocessConfig {
  const config = resolvePreprocessConfig(preset);
  return inputSize === undefined ? config : { ...config, resizeShorter: inputSize, crop: inputSize };
}

/** Resolves a preset name or returns the config as is. */
export function resolvePreprocessConfig(preset: PreprocessPreset | PreprocessConfig): PreprocessConfig {
  if (typeof preset !== 'string') return preset;
  const config = PREPROCESS_PRESETS[preset];
  if (!config) {
    throw new RangeError(
      `Unknown preprocessing preset "${preset}"; use one of: ${Object.keys(PREPROCESS_PRESETS).join(', ')}.`,
    );
  }
  return config;
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

function bilinear(x: number): number {
  x = Math.abs(x);
  return x < 1 ? 1 - x : 0;
}

interface Coefficients {
  /** First source index per output index. */
  readonly start: Int32Array;
  /** Number of taps per output index. */
  readonly count: Int32Array;
  /** Fixed-point weights, `ksize` per output index. */
  readonly weights: Float64Array;
  readonly ksize: number;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc (Resample.c), for the full source range.
function coefficients(inSize: number, outSize: number, interpolation: Interpolation): Coefficients {
  const [filter, support0] = interpolation === 'bicubic' ? [bicubic, 2] : [bilinear, 1];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = support0 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww === 0 ? k[x] : k[x] / ww;
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, ksize };
}

function clip8(sum: number): number {
  const v = Math.floor(sum / ONE);
  return v < 0 ? 0 : Math.min(v, 255);
}

/**
 * Resizes 8-bit RGB to `width × height` as Pillow's `Image.resize` does (horizontal pass, then
 * vertical; a pass is skipped when its size does not change).
 */
export function resizeRgb(
  image: RgbImage,
  width: number,
  height: number,
  interpolation: Interpolation,
): RgbImage {
  let current = image;
  if (width !== current.width) {
    const c = coefficients(current.width, width, interpolation);
    const src = current.data;
    const out = new Uint8Array(width * current.height * 3);
    for (let y = 0; y < current.height; y++) {
      const row = y * current.width * 3;
      for (let xx = 0; xx < width; xx++) {
        let r = ONE / 2;
        let g = ONE / 2;
        let b = ONE / 2;
        const base = xx * c.ksize;
        const x0 = c.start[xx];
        for (let x = 0; x < c.count[xx]; x++) {
          const w = c.weights[base + x];
          const p = row + (x0 + x) * 3;
          r += src[p] * w;
          g += src[p + 1] * w;
          b += src[p + 2] * w;
        }
        const o = (y * width + xx) * 3;
        out[o] = clip8(r);
        out[o + 1] = clip8(g);
        out[o + 2] = clip8(b);
      }
    }
    current = { width, height: current.height, data: out };
  }
  if (height !== current.height) {
    const c = coefficients(current.height, height, interpolation);
    const src = current.data;
    const w3 = current.width * 3;
    const out = new Uint8Array(w3 * height);
    for (let yy = 0; yy < height; yy++) {
      const base = yy * c.ksize;
      const y0 = c.start[yy];
      for (let i = 0; i < w3; i++) {
        let s = ONE / 2;
        for (let y = 0; y < c.count[yy]; y++) s += src[(y0 + y) * w3 + i] * c.weights[base + y];
        out[yy * w3 + i] = clip8(s);
      }
    }
    current = { width: current.width, height, data: out };
  }
  return current;
}

/**
 * The size torchvision's `Resize(size)` gives: shorter side `size`, longer side scaled and
 * truncated.
 */
export function resizedSize(width: number, height: number, shorter: number): [number, number] {
  if (width <= height) return [shorter, Math.trunc((shorter * height) / width)];
  return [Math.trunc((shorter * width) / height), shorter];
}

// Python's round(): half to even, as torchvision's CenterCrop uses.
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Preprocesses one decoded image into a float32 CHW tensor `[3, crop, crop]`.
 * @param preset `clip`, `imagenet` or a {@link PreprocessConfig}.
 */
export function preprocessImage(
  image: RgbImage,
  preset: PreprocessPreset | PreprocessConfig,
): Tensor<'float32'> {
  const config = resolvePreprocessConfig(preset);
  const out = new Float32Array(3 * config.crop * config.crop);
  preprocessInto(image, config, out, 0);
  return { dtype: 'float32', dims: [3, config.crop, config.crop], data: out };
}

/** Preprocesses images into one `[N, 3, crop, crop]` batch. */
export function preprocessBatch(
  images: readonly RgbImage[],
  preset: PreprocessPreset | PreprocessConfig,
): Tensor<'float32'> {
  const config = resolvePreprocessConfig(preset);
  const plane = 3 * config.crop * config.crop;
  const out = new Float32Array(images.length * plane);
  images.forEach((image, i) => {
    preprocessInto(image, config, out, i * plane);
  });
  return { dtype: 'float32', dims: [images.length, 3, config.crop, config.crop], data: out };
}

function preprocessInto(image: RgbImage, config: PreprocessConfig, out: Float32Array, offset: number): void {
  if (image.data.length !== image.width * image.height * 3) {
    throw new RangeError(
      `RGB image data has ${image.data.length} bytes, expected ${image.width}×${image.height}×3.`,
    );
  }
  const [w, h] = resizedSize(image.width, image.height, config.resizeShorter);
  const resized = resizeRgb(image, w, h, config.interpolation);
  const size = config.crop;
  // Crops larger than the image are padded with zeros by torchvision; the presets never need it.
  const splitMargin = config.cropRounding === 'floor' ? Math.floor : roundHalfEven;
  const top = splitMargin((h - size) / 2);
  const left = splitMargin((w - size) / 2);
  for (let c = 0; c < 3; c++) {
    const mean = config.mean[c];
    const std = config.std[c];
    const plane = offset + c * size * size;
    for (let y = 0; y < size; y++) {
      const sy = top + y;
      for (let x = 0; x < size; x++) {
        const sx = left + x;
        const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        const value = inside ? resized.data[(sy * w + sx) * 3 + c] / 255 : 0;
        out[plane + y * size + x] = (value - mean) / std;
      }
    }
  }
}
