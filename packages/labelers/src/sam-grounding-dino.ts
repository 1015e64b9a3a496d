import {
  type Detector,
  ErrorCode,
  type Labeler,
  type LabelerContext,
  type LayerLabels,
  NeurodissectError,
  type OperationOptions,
  type RgbImage,
  type ScoredLabel,
  type Segmenter,
  throwIfAborted,
  topKPerColumn,
} from '@neurodissect/core';
import { quantileThresholds, requireSpatialMaps, upsampleBilinear } from './annotations';

/** Options of {@link samGroundingDino}. */
export interface SamGroundingDinoOptions {
  /** The open-vocabulary detector (e.g. runtime-node's `loadGroundingDino`). */
  detector: Detector;
  /** The box-promptable segmenter (e.g. runtime-node's `loadSam`). */
  segmenter: Segmenter;
  /** Reads probe image `index` (e.g. `(i, o) => probe.read(i, o)`): a labeler's context holds no images. */
  read(index: number, options?: OperationOptions): Promise<RgbImage>;
  /** Top activating images per neuron that are detected and segmented. @defaultValue 10 */
  topImages?: number;
  /** The detector keeps boxes whose best phrase score exceeds this. @defaultValue 0.35 (Grounding DINO's demo) */
  boxThreshold?: number;
  /** The detector attributes a box to a phrase whose score exceeds this. @defaultValue 0.25 (Grounding DINO's demo) */
  textThreshold?: number;
  /** A unit's activation threshold is the top `quantile` of its values, as NetDissect. @defaultValue 0.005 */
  quantile?: number;
  /** Labels kept per neuron. @defaultValue 10 */
  topLabels?: number;
}

/**
 * Splits `concepts` into consecutive chunks whose prompt fits the detector's text length.
 * @throws NeurodissectError `ND_INVALID_OPTION` when one concept alone does not fit.
 */
export function chunkPrompts(concepts: readonly string[], detector: Detector): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  for (const concept of concepts) {
    if (detector.countTokens([concept]) > detector.maxTextLength) {
      throw new NeurodissectError(
        ErrorCode.InvalidOption,
        `sam-grounding-dino: the concept "${concept}" alone takes more than the detector's ${detector.maxTextLength} tokens; shorten it or drop it from the concept set.`,
      );
    }
    if (current.length > 0 && detector.countTokens([...current, concept]) > detector.maxTextLength) {
      chunks.push(current);
      current = [];
    }
    current.push(concept);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** One image's detections: per concept index, the union of its masks and how many boxes. */
interface ImageSegments {
  readonly width: number;
  readonly height: number;
  readonly masks: Map<number, Uint8Array>;
}

/**
 * SAM + Grounding-DINO (the report, §4.1, made measurable): each of a neuron's top images is
 * prompted to the detector with the concept set, in chunks that fit its text length; each box is
 * segmented; a concept's mask in an image is the union of the masks of its boxes. A concept's score
 * for unit k is NetDissect's IoU between those masks and the unit's thresholded activation map
 * (upsampled bilinearly to the image, threshold = the top `quantile` of the unit's values over the
 * probe set), summed over the unit's top images: `Σ|M_k ∩ L_c| / Σ|M_k ∪ L_c|`. `votes` is the
 * number of top images in which the concept was detected. Concepts never detected get no label.
 *
 * The detector and segmenter are handles passed in through the options, so this labeler stays
 * runtime-agnostic; only the plain-JSON options are recorded in the Results.
 */
export function samGroundingDino(options: SamGroundingDinoOptions): Labeler {
  const topImages = options.topImages ?? 10;
  const boxThreshold = options.boxThreshold ?? 0.35;
  const textThreshold = options.textThreshold ?? 0.25;
  const quantile = options.quantile ?? 0.005;
  const topLabels = options.topLabels ?? 10;
  const { detector, segmenter, read } = options;
  if (!detector || !segmenter || typeof read !== 'function')
    throw new TypeError('samGroundingDino needs a detector, a segmenter and a read(index) function.');
  for (const [name, value] of Object.entries({ topImages, topLabels }))
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${name} must be a positive integer, got ${value}.`);
  for (const [name, value] of Object.entries({ boxThreshold, textThreshold }))
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${value}.`);
  if (!(quantile > 0 && quantile < 1)) throw new RangeError(`quantile must be in (0, 1), got ${quantile}.`);

  return {
    id: 'sam-grounding-dino',
    version: '1',
    requires: ['activations', 'activation-maps'],
    mapQuantiles: [quantile],
    options: { topImages, boxThreshold, textThreshold, quantile, topLabels },
    async label(context: LabelerContext): Promise<LayerLabels> {
      throwIfAborted(context.signal);
      const maps = await requireSpatialMaps(context, 'sam-grounding-dino');
      const { units: K, height: h, width: w } = maps;
      const N = maps.source.images;
      if (N !== context.activations.rows || K !== context.activations.cols)
        throw new NeurodissectError(
          ErrorCode.ShapeMismatch,
          `sam-grounding-dino: the activation maps are [${N}, ${K}, ${h}, ${w}] but the activations ${context.activations.rows}×${context.activations.cols}; pass maps of the same layer.`,
        );
      const conceptIndex = new Map(context.concepts.map((c, m) => [c, m]));
      const chunks = chunkPrompts(context.concepts, detector);
      // From the pipeline (its features pass, or one pass of its own), else three passes here.
      const thresholdOptions = {
        signal: context.signal,
        stage: 'sam-grounding-dino: thresholds',
        onProgress: context.onProgress,
      };
      const thresholds =
        (await maps.source.quantileThresholds?.(quantile, {
          ...thresholdOptions,
          onProgress: (event) => context.onProgress?.({ ...event, stage: thresholdOptions.stage }),
        })) ?? (await quantileThresholds(maps, quantile, thresholdOptions));
      const n = Math.min(topImages, N);
      const top = topKPerColumn(context.activations, n);
      const images = [...new Set(top.indices)].sort((a, b) => a - b);
      const plane = h * w;
      // One more pass keeps only each unit's maps of its own top images (K × n planes).
      const planes = new Map<number, Float32Array>();
      const slotsOf = new Map<number, number[]>();
      top.indices.forEach((image, slot) => {
        slotsOf.set(image, [...(slotsOf.get(image) ?? []), slot]);
      });
      for await (const { start, maps: batch } of maps.source.batches({ signal: context.signal })) {
        for (let b = 0; b < batch.dims[0]; b++) {
          for (const slot of slotsOf.get(start + b) ?? []) {
            const k = Math.floor(slot / n);
            planes.set(slot, batch.data.slice((b * K + k) * plane, (b * K + k + 1) * plane));
          }
        }
      }
      const segments = new Map<number, ImageSegments>();
      const signal = context.signal;
      for (const [done, index] of images.entries()) {
        throwIfAborted(signal);
        const image = await read(index, { signal });
        const found = new Map<number, Uint8Array>();
        for (const phrases of chunks) {
          const detections = (
            await detector.detect(image, { phrases, boxThreshold, textThreshold }, { signal })
          ).filter((d) => conceptIndex.has(d.phrase) && phrases.includes(d.phrase));
          if (detections.length === 0) continue;
          const masks = await segmenter.segment(
            image,
            detections.map((d) => d.box),
            { signal },
          );
          detections.forEach((detection, j) => {
            const m = conceptIndex.get(detection.phrase)!;
            const union = found.get(m) ?? new Uint8Array(image.width * image.height);
            const mask = masks[j];
            if (mask.width !== image.width || mask.height !== image.height)
              throw new NeurodissectError(
                ErrorCode.ShapeMismatch,
                `sam-grounding-dino: the segmenter returned a ${mask.width}×${mask.height} mask for a ${image.width}×${image.height} image; it must return masks at the image's resolution.`,
              );
            for (let p = 0; p < union.length; p++) union[p] |= mask.data[p];
            found.set(m, union);
          });
        }
        segments.set(index, { width: image.width, height: image.height, masks: found });
        context.onProgress?.({ stage: 'sam-grounding-dino', done: done + 1, total: images.length });
      }
      return Array.from({ length: K }, (_, k) => {
        let activeArea = 0;
        const inter = new Map<number, number>();
        const area = new Map<number, number>();
        const votes = new Map<number, number>();
        for (let j = 0; j < n; j++) {
          const index = top.indices[k * n + j];
          const { width, height, masks } = segments.get(index)!;
          const up = upsampleBilinear(planes.get(k * n + j)!, h, w, height, width);
          for (let p = 0; p < up.length; p++) if (up[p] > thresholds[k]) activeArea++;
          for (const [m, mask] of masks) {
            let i = 0;
            let a = 0;
            for (let p = 0; p < mask.length; p++) {
              if (mask[p] === 0) continue;
              a++;
              if (up[p] > thresholds[k]) i++;
            }
            inter.set(m, (inter.get(m) ?? 0) + i);
            area.set(m, (area.get(m) ?? 0) + a);
            votes.set(m, (votes.get(m) ?? 0) + 1);
          }
        }
        const ranked: ScoredLabel[] = [...votes.keys()].map((m) => {
          const union = activeArea + area.get(m)! - inter.get(m)!;
          return {
            label: context.concepts[m],
            concept: m,
            score: union > 0 ? inter.get(m)! / union : 0,
            votes: votes.get(m)!,
          };
        });
        return ranked
          .sort((a, b) => b.score - a.score || b.votes! - a.votes! || a.concept! - b.concept!)
          .slice(0, topLabels);
      });
    },
  };
}
