import {
  type AnnotationMask,
  ErrorCode,
  type LabelerContext,
  NeurodissectError,
  type ProbeAnnotations,
  type Tensor,
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

/** The context's activation maps `[N,K,h,w]`, or a coded error. */
export function requireMaps(context: LabelerContext, labeler: string): Tensor<'float32'> {
  const maps = context.activationMaps;
  if (maps?.dims.length !== 4) {
    throw new NeurodissectError(
      ErrorCode.ShapeMismatch,
      `${labeler} needs spatial activation maps [N,K,h,w]; layer ${context.layer} has none (a vector or token layer).`,
    );
  }
  return maps;
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

/**
 * Each unit's activation threshold `T_k`: the value at rank ⌊(1−q)(n−1)⌋ of its sorted activation
 * values over all images and positions of `maps` `[N,K,h,w]` (NetDissect's top-`quantile` cut).
 */
export function quantileThresholds(maps: Tensor<'float32'>, quantile: number): Float32Array {
  const [N, K, h, w] = maps.dims as [number, number, number, number];
  const plane = h * w;
  const thresholds = new Float32Array(K);
  const values = new Float32Array(N * plane);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < N; i++)
      values.set(maps.data.subarray((i * K + k) * plane, (i * K + k + 1) * plane), i * plane);
    const sorted = values.slice().sort();
    thresholds[k] = sorted[Math.floor((1 - quantile) * (sorted.length - 1))];
  }
  return thresholds;
}
