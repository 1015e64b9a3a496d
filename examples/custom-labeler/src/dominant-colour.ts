import {
  ErrorCode,
  type Labeler,
  type LabelerContext,
  type LayerLabels,
  NeurodissectError,
  type OperationOptions,
  type RgbImage,
  throwIfAborted,
  topKPerColumn,
} from '@neurodissect/core';

/** Named colours this labeler knows (sRGB). Only those that are in the concept set are used. */
export const PALETTE: Readonly<Record<string, readonly [number, number, number]>> = {
  black: [0, 0, 0],
  white: [255, 255, 255],
  grey: [128, 128, 128],
  red: [220, 30, 30],
  orange: [240, 140, 20],
  yellow: [235, 225, 30],
  green: [30, 190, 40],
  blue: [30, 40, 220],
  purple: [130, 40, 170],
  pink: [240, 130, 190],
  brown: [130, 80, 30],
};

/** Options of {@link dominantColour}. */
export interface DominantColourOptions {
  /** Reads probe image `index` (e.g. `probe.read.bind(probe)`); images are not part of a labeler's context. */
  read(index: number, options?: OperationOptions): Promise<RgbImage>;
  /** Top activating images per neuron that are looked at. @defaultValue 10 */
  topImages?: number;
  /** A pixel counts for a colour within this RGB distance of it. @defaultValue 80 */
  radius?: number;
}

/**
 * Labels a neuron with the colours that cover its top images: a colour's score is the mean
 * fraction of pixels within `radius` of it over the neuron's `topImages` images; `votes` is the
 * number of those images where it appears. Only colours of {@link PALETTE} that are in the concept
 * set can be labels.
 */
export function dominantColour(options: DominantColourOptions): Labeler {
  const topImages = options.topImages ?? 10;
  const radius = options.radius ?? 80;
  return {
    id: 'dominant-colour',
    version: '1',
    requires: ['activations'],
    options: { topImages, radius },
    async label(context: LabelerContext): Promise<LayerLabels> {
      const colours = context.concepts
        .map((name, concept) => ({ name, concept, rgb: PALETTE[name.toLowerCase()] }))
        .filter((c) => c.rgb !== undefined);
      if (colours.length === 0)
        throw new NeurodissectError(
          ErrorCode.InvalidOption,
          `dominant-colour found no colour names in the concept set; add some of: ${Object.keys(PALETTE).join(', ')}.`,
        );
      const n = Math.min(topImages, context.activations.rows);
      const top = topKPerColumn(context.activations, n);
      const coverage = new Map<number, Float64Array>(); // image → fraction of pixels per colour
      for (const index of new Set(top.indices)) {
        throwIfAborted(context.signal);
        const image = await options.read(index, { signal: context.signal });
        const counts = new Float64Array(colours.length);
        for (let p = 0; p < image.data.length; p += 3) {
          colours.forEach(({ rgb }, c) => {
            const d = Math.hypot(
              image.data[p] - rgb[0],
              image.data[p + 1] - rgb[1],
              image.data[p + 2] - rgb[2],
            );
            if (d <= radius) counts[c] += 3 / image.data.length;
          });
        }
        coverage.set(index, counts);
      }
      return Array.from({ length: context.activations.cols }, (_, k) => {
        const images = Array.from(top.indices.subarray(k * n, (k + 1) * n), (i) => coverage.get(i)!);
        return colours
          .map(({ name, concept }, c) => ({
            label: name,
            concept,
            score: images.reduce((sum, counts) => sum + counts[c], 0) / n,
            votes: images.filter((counts) => counts[c] > 0).length,
          }))
          .filter((entry) => entry.votes > 0)
          .sort((a, b) => b.score - a.score || a.concept - b.concept);
      });
    },
  };
}
