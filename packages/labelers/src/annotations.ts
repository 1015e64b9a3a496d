import {
  type ActivationMapSource,
  type AnnotationMask,
  activationMapSourceOf,
  ErrorCode,
  type LabelerContext,
  NeurodissectError,
  type OperationOptions,
  type ProbeAnnotations,
} from '@neurodissect/core';

/** The context's annotations, or a coded error saying the probe set has none. */
export function requireAnnotations(context: LabelerContext, labeler: string): ProbeAnnotations {
  if (!context.annotations) {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `${labeler} needs a probe set with concept annotations (Broden or the toy world); this probe set has none.`,
    );
  }
  return context.annotations;
}

/** Pixels per label number in a mask (label 0, unlabelled, is skipped). */
export function labelAreas(mask: AnnotationMask): Map<number, number> {
  const areas = new Map<number, number>();
  for (const label of mask.labels) if (label !== 0) areas.set(label, (areas.get(label) ?? 0) + 1);
  return areas;
}

/**
 * Bilinear upsampling of an `h×w` map to `H×W` with half-pixel centres (as PIL and
 * `torch.nn.functional.interpolate(align_corners=False)`), edges clamped.
 */
export function upsampleBilinear(
  map: Float32Array,
  h: number,
  w: number,
  H: number,
  W: number,
): Float32Array {
  const out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(Math.max(((y + 0.5) * h) / H - 0.5, 0), h - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    for (let x = 0; x < W; x++) {
      const sx = Math.min(Math.max(((x + 0.5) * w) / W - 0.5, 0), w - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w - 1);
      const fx = sx - x0;
      const top = map[y0 * w + x0] * (1 - fx) + map[y0 * w + x1] * fx;
      const bottom = map[y1 * w + x0] * (1 - fx) + map[y1 * w + x1] * fx;
      out[y * W + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** The layer's maps as a source, and their units and map size (read off the first batch). */
export interface SpatialMaps {
  readonly source: ActivationMapSource;
  readonly units: number;
  readonly height: number;
  readonly width: number;
}

/**
 * The context's activation maps as a source of `[n, K, h, w]` batches, with K, h and w; a coded
 * error for a layer without spatial maps (a vector or token layer).
 */
export async function requireSpatialMaps(context: LabelerContext, labeler: string): Promise<SpatialMaps> {
  const source = activationMapSourceOf(context, labeler);
  // The pipeline's source knows its shape: no model run just to read it.
  if (source.shape) return { source, ...source.shape };
  for await (const { maps } of source.batches({ signal: context.signal })) {
    if (maps.dims.length !== 4) break;
    const [, units, height, width] = maps.dims as [number, number, number, number];
    return { source, units, height, width };
  }
  throw new NeurodissectError(
    ErrorCode.ShapeMismatch,
    `${labeler} needs spatial activation maps [N,K,h,w]; layer ${context.layer} has none (a vector or token layer).`,
  );
}

/** Float32 bits → an unsigned key with the same order as the numbers (−0 before +0). */
function orderedKey(bits: number): number {
  return (bits & 0x80000000 ? ~bits : bits | 0x80000000) >>> 0;
}

/** Inverse of {@link orderedKey}: the float32 the key stands for. */
function fromOrderedKey(key: number): number {
  const bits = key & 0x80000000 ? key & 0x7fffffff : ~key;
  return new Float32Array(new Int32Array([bits]).buffer)[0];
}

/**
 * Each unit's activation threshold `T_k`: the value at rank ⌊(1−q)(n−1)⌋ of its sorted activation
 * values over all images and positions (NetDissect's top-`quantile` cut), exact, in three passes
 * over the maps: a radix selection on the floats' bits (12, 12, then 8 bits), with `K × 4096`
 * counters, so memory does not grow with the number of images.
 */
export async function quantileThresholds(
  maps: SpatialMaps,
  quantile: number,
  options: OperationOptions & { stage?: string } = {},
): Promise<Float32Array> {
  const { source, units: K, height, width } = maps;
  const plane = height * width;
  const n = source.images * plane;
  const rank = new Float64Array(K).fill(Math.floor((1 - quantile) * (n - 1)));
  const prefix = new Uint32Array(K);
  const counts = new Float64Array(K * 4096);
  // Pass p bins the keys that share the prefix found so far: bits 31–20, then 19–8, then 7–0.
  const shifts = [20, 8, 0];
  const widths = [4096, 4096, 256];
  const stage = options.stage ?? 'thresholds';
  for (let p = 0; p < 3; p++) {
    const shift = shifts[p];
    const bins = widths[p];
    const mask = bins - 1;
    const prefixShift = shift + (p === 2 ? 8 : 12); // the bits above this pass's bin
    counts.fill(0);
    for await (const { start, maps: batch } of source.batches({ signal: options.signal })) {
      const bits = new Int32Array(batch.data.buffer, batch.data.byteOffset, batch.data.length);
      const images = batch.dims[0];
      for (let i = 0; i < images; i++) {
        for (let k = 0; k < K; k++) {
          const base = (i * K + k) * plane;
          const row = k * bins;
          const want = prefix[k];
          for (let q = 0; q < plane; q++) {
            const key = orderedKey(bits[base + q]);
            if (p === 0 || key >>> prefixShift === want) counts[row + ((key >>> shift) & mask)]++;
          }
        }
      }
      options.onProgress?.({ stage, done: p * source.images + start + images, total: 3 * source.images });
    }
    for (let k = 0; k < K; k++) {
      let below = 0;
      let bin = 0;
      while (bin < bins - 1 && below + counts[k * bins + bin] <= rank[k]) {
        below += counts[k * bins + bin];
        bin++;
      }
      rank[k] -= below;
      prefix[k] = p === 0 ? bin : p === 1 ? (prefix[k] << 12) | bin : ((prefix[k] << 8) | bin) >>> 0;
    }
  }
  return Float32Array.from(prefix, fromOrderedKey);
}
