/** The similarity functions of CLIP-Dissect, by their reference names. */
export const SIMILARITY_NAMES = ['soft_wpmi', 'wpmi', 'cos', 'cos_cubed', 'rank_reorder'] as const;

/** One of {@link SIMILARITY_NAMES}. */
export type SimilarityName = (typeof SIMILARITY_NAMES)[number];

/** Options of {@link softWpmi}. */
export interface SoftWpmiOptions {
  /**
   * Images per neuron (its top activating ones). A value above the number of images is an error.
   * @defaultValue 100, or every image when there are fewer
   */
  topK?: number;
  /** Softmax temperature on the raw cosines: `p = softmax(a·P)`. @defaultValue 10 */
  a?: number;
  /** Weight of the concept prior. @defaultValue 1 */
  lambda?: number;
  /** Added inside the log so it stays finite. @defaultValue 1e-7 */
  minProb?: number;
  /** Soft membership of the top image. @defaultValue 0.998 */
  pStart?: number;
  /** Soft membership the ramp heads towards (never reached). @defaultValue 0.97 */
  pEnd?: number;
}

/** Options of {@link wpmi}. */
export interface WpmiOptions {
  /** @defaultValue 28, or every image when there are fewer */
  topK?: number;
  /** @defaultValue 2 */
  a?: number;
  /** @defaultValue 0.6 */
  lambda?: number;
  /** @defaultValue 1e-7 */
  minProb?: number;
}

/** Options of {@link cosSimilarityCubed}. */
export interface CosCubedOptions {
  /** Column norms are clipped below at this value. @defaultValue 1e-3 */
  minNorm?: number;
}

/** Options of {@link rankReorder}. */
export interface RankReorderOptions {
  /** Exponent of the reordering error. @defaultValue 3 */
  p?: number;
  /** Fraction of the images (the most activating) used per neuron. @defaultValue 0.05 */
  topFraction?: number;
  /** Exponent of the mean-similarity scaling. @defaultValue 0.5 */
  scaleP?: number;
  /** Seed of the baseline permutations. @defaultValue 0 */
  seed?: number;
  /** Number of random permutations averaged for the baseline. @defaultValue 5 */
  baselinePermutations?: number;
}

/** Options for any similarity function, by name. */
export interface SimilarityOptionsByName {
  soft_wpmi: SoftWpmiOptions;
  wpmi: WpmiOptions;
  cos: Record<string, never>;
  cos_cubed: CosCubedOptions;
  rank_reorder: RankReorderOptions;
}

/** The reference defaults of soft-WPMI. */
export const SOFT_WPMI_DEFAULTS: Required<SoftWpmiOptions> = Object.freeze({
  topK: 100,
  a: 10,
  lambda: 1,
  minProb: 1e-7,
  pStart: 0.998,
  pEnd: 0.97,
});

/** The reference defaults of WPMI. */
export const WPMI_DEFAULTS: Required<WpmiOptions> = Object.freeze({
  topK: 28,
  a: 2,
  lambda: 0.6,
  minProb: 1e-7,
});

/** The reference defaults of cos-cubed. */
export const COS_CUBED_DEFAULTS: Required<CosCubedOptions> = Object.freeze({ minNorm: 1e-3 });

/** The reference defaults of rank-reorder (plus our seed). */
export const RANK_REORDER_DEFAULTS: Required<RankReorderOptions> = Object.freeze({
  p: 3,
  topFraction: 0.05,
  scaleP: 0.5,
  seed: 0,
  baselinePermutations: 5,
});

/** Throws a RangeError unless `value` is finite (and, if given, within [min, max]). */
export function checkNumber(name: string, value: number, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = Number.isFinite(min) || Number.isFinite(max) ? ` in [${min}, ${max}]` : '';
    throw new RangeError(`Option ${name} must be a finite number${range}, got ${String(value)}.`);
  }
  return value;
}

/** Throws a RangeError unless `value` is an integer within [min, max]. */
export function checkInteger(name: string, value: number, min: number, max = Infinity): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const upper = Number.isFinite(max);
    throw new RangeError(
      `Option ${name} must be an integer ≥ ${min}${upper ? ` and ≤ ${max}` : ''}, got ${String(value)}.`,
    );
  }
  return value;
}

/**
 * `defaults` overlaid with `options`, where an unset `topK` becomes the default capped at the
 * number of images (a small probe set uses all its images; an explicit `topK` is kept as given).
 */
export function withTopKDefault<T extends { topK: number }>(
  defaults: T,
  options: Partial<T> | undefined,
  images: number,
): T {
  const merged = { ...defaults, ...options } as T;
  if (options?.topK === undefined) merged.topK = Math.min(defaults.topK, Math.max(images, 1));
  return merged;
}
