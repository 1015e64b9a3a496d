import {
  type AnnotationMask,
  type Labeler,
  type LabelerContext,
  type LayerLabels,
  type ProbeAnnotations,
  throwIfAborted,
} from '@neurodissect/core';
import {
  labelAreas,
  quantileThresholds,
  requireAnnotations,
  requireSpatialMaps,
  upsampleBilinear,
} from './annotations';

/** Options of {@link netDissect}. */
export interface NetDissectOptions {
  /** A unit's threshold is the top `quantile` of all its activation values. @defaultValue 0.005 */
  quantile?: number;
  /** A unit is a detector of its best concept when the IoU reaches this. @defaultValue 0.04 */
  threshold?: number;
  /** Labels kept per unit. @defaultValue 10 */
  topLabels?: number;
  /**
   * The annotation categories whose labels compete (e.g. `['object', 'part', 'scene', 'texture',
   * 'color']`, which is Network Dissection's own default: it leaves out `material`).
   * @defaultValue every category of the probe set
   */
  categories?: readonly string[];
  /**
   * Which images add a unit's active area to the union of a category's concepts:
   * `'touched'` — only images where the active area touches a label of that category (Network
   * Dissection's tally); `'annotated'` — every image annotated with any label of that category (an
   * upper bound on the union, so IoUs come out lower; up to about 0.007 apart on Broden).
   * @defaultValue 'touched'
   */
  union?: 'touched' | 'annotated';
}

/**
 * Network Dissection's IoU (Bau et al.): unit k's threshold `T_k` is the top `quantile` of all its
 * activation values over the probe set (the value at rank ⌊(1−q)(n−1)⌋ of the sorted values); each
 * map is upsampled bilinearly to the mask resolution and thresholded; for each concept c,
 * `IoU = Σ|M∩L_c| / Σ|M∪L_c|` over the images annotated in c's category (an image-level label
 * covers the whole image), where a unit's active area counts toward the union of category c only
 * in images where it touches a label whose category is c (Network Dissection's tally). Every unit
 * gets its concepts ranked by IoU (none when it never overlaps a label); it is a detector when its
 * best IoU reaches `threshold` (`scoreScaleOf` gives that level to reports). The maps are streamed
 * ({@link LabelerContext.activationMapSource}): memory does not grow with the number of images.
 * In the pipeline the thresholds come from its features pass (`mapQuantiles`), so the labeler
 * reads the maps once, to tally; maps given otherwise take three more passes (an exact radix
 * selection). Its progress counts the images of every pass.
 */
export function netDissect(options: NetDissectOptions = {}): Labeler {
  const quantile = options.quantile ?? 0.005;
  const threshold = options.threshold ?? 0.04;
  const topLabels = options.topLabels ?? 10;
  if (!(quantile > 0 && quantile < 1)) throw new RangeError(`quantile must be in (0, 1), got ${quantile}.`);
  const chosen = options.categories === undefined ? undefined : new Set(options.categories);
  const use = (category: string) => (chosen ? chosen.has(category) : true);
  const union = options.union ?? 'touched';
  if (union !== 'touched' && union !== 'annotated')
    throw new RangeError(`union must be 'touched' or 'annotated', got ${String(union)}.`);
  return {
    id: 'netdissect',
    version: '1',
    requires: ['activation-maps', 'annotations'],
    mapQuantiles: [quantile],
    options: {
      quantile,
      threshold,
      topLabels,
      ...(options.categories === undefined ? {} : { categories: [...options.categories] }),
      ...(union === 'touched' ? {} : { union }),
    },
    async label(context: LabelerContext): Promise<LayerLabels> {
      const annotations = requireAnnotations(context, 'netdissect');
      const maps = await requireSpatialMaps(context, 'netdissect');
      const { source, units: K, height: h, width: w } = maps;
      const N = source.images;
      const plane = h * w;
      // Each unit's exact threshold: from the pipeline (found during its features pass, or in one
      // pass of its own), else in three passes here (a radix selection); then one pass to tally.
      // Progress counts the images of every pass.
      const report = (done: number, passes: number) =>
        context.onProgress?.({ stage: 'netdissect', done, total: passes * N });
      let ownPass = false;
      const given = await source.quantileThresholds?.(quantile, {
        signal: context.signal,
        onProgress: (event) => {
          ownPass = true;
          report(event.done, 2);
        },
      });
      const thresholds =
        given ??
        (await quantileThresholds(maps, quantile, {
          signal: context.signal,
          onProgress: (event) => report(event.done, 4),
        }));
      const passes = given ? (ownPass ? 2 : 1) : 4;
      const offset = (passes - 1) * N;
      // Per image: its mask size, and Σ|L_c| per concept, once per probe set (the same for every
      // layer and unit): taken during the first tally, which then decodes every image's masks once.
      const census = annotationCensus(annotations, N, use);
      // Per unit: Σ|M| over images annotated in each category and Σ|M∩L_c| per concept. A map whose
      // maximum is not above the threshold gives an empty mask (bilinear values never exceed the
      // largest sample), so only images where some unit fires are decoded and upsampled.
      const maskArea = Array.from({ length: K }, () => new Map<string, number>());
      const inter = Array.from({ length: K }, () => new Map<number, number>());
      for await (const { start, maps: batch } of source.batches({ signal: context.signal })) {
        for (let b = 0; b < batch.dims[0]; b++) {
          throwIfAborted(context.signal);
          const i = start + b;
          const all = census.complete ? undefined : await annotations.masks(i, { signal: context.signal });
          if (all) census.add(i, all);
          const active: number[] = [];
          for (let k = 0; k < K; k++) {
            const base = (b * K + k) * plane;
            let max = Number.NEGATIVE_INFINITY;
            for (let p = 0; p < plane; p++) if (batch.data[base + p] > max) max = batch.data[base + p];
            if (max > thresholds[k]) active.push(k);
          }
          if (active.length === 0) continue;
          const { height: H, width: W } = census.images[i];
          const masks = (all ?? (await annotations.masks(i, { signal: context.signal }))).filter((m) =>
            use(m.category),
          );
          const imageLabels = Object.fromEntries(
            Object.entries(annotations.imageLabels(i)).filter(([category]) => use(category)),
          );
          // The looser rule's categories depend on the image only.
          const annotated = union === 'annotated' ? annotatedCategories(masks, imageLabels) : undefined;
          const grid = bilinearGrid(h, w, H, W);
          const pixels = new Int32Array(H * W);
          for (const k of active) {
            const on = activePixels(
              batch.data.subarray((b * K + k) * plane, (b * K + k + 1) * plane),
              grid,
              thresholds[k],
              pixels,
            );
            if (on === 0) continue;
            // The active area counts toward a category's union only where it touches a label of
            // that (primary) category, pixel-level or image-level, as Network Dissection tallies.
            const hits = new Map<number, number>();
            for (const mask of masks) {
              for (let j = 0; j < on; j++) {
                const label = mask.labels[pixels[j]];
                if (label !== 0) hits.set(label, (hits.get(label) ?? 0) + 1);
              }
            }
            for (const labels of Object.values(imageLabels))
              for (const label of labels) hits.set(label, (hits.get(label) ?? 0) + on);
            const touched = new Set<string>();
            for (const [label, count] of hits) {
              inter[k].set(label, (inter[k].get(label) ?? 0) + count);
              const category = annotations.labels.get(label)?.category;
              if (category !== undefined) touched.add(category);
            }
            const counted = annotated ?? touched;
            for (const category of counted) maskArea[k].set(category, (maskArea[k].get(category) ?? 0) + on);
          }
        }
        report(offset + start + batch.dims[0], passes);
      }
      const labelArea = census.finish().labelArea;
      return Array.from({ length: K }, (_, k) => {
        const ranked = [...inter[k].entries()]
          .map(([label, intersection]) => {
            const info = annotations.labels.get(label);
            const union =
              (maskArea[k].get(info?.category ?? '') ?? 0) + (labelArea.get(label) ?? 0) - intersection;
            return { label: info?.name ?? String(label), score: union > 0 ? intersection / union : 0 };
          })
          .sort((a, b) => b.score - a.score || a.label.localeCompare(b.label));
        // Every unit gets its best labels; it is a detector when the best reaches `threshold`.
        return ranked.slice(0, topLabels);
      });
    },
  };
}

/** Where each pixel of an `H×W` upsampling of an `h×w` map samples it (half-pixel centres, clamped). */
interface BilinearGrid {
  readonly h: number;
  readonly w: number;
  readonly H: number;
  readonly W: number;
  readonly y0: Int32Array;
  readonly y1: Int32Array;
  readonly fy: Float64Array;
  readonly x0: Int32Array;
  readonly x1: Int32Array;
  readonly fx: Float64Array;
}

let lastGrid: BilinearGrid | undefined;

/** The sampling grid of {@link upsampleBilinear}, computed once per pair of sizes. */
function bilinearGrid(h: number, w: number, H: number, W: number): BilinearGrid {
  if (lastGrid && lastGrid.h === h && lastGrid.w === w && lastGrid.H === H && lastGrid.W === W)
    return lastGrid;
  const axis = (n: number, N: number) => {
    const i0 = new Int32Array(N);
    const i1 = new Int32Array(N);
    const f = new Float64Array(N);
    for (let o = 0; o < N; o++) {
      const s = Math.min(Math.max(((o + 0.5) * n) / N - 0.5, 0), n - 1);
      i0[o] = Math.floor(s);
      i1[o] = Math.min(i0[o] + 1, n - 1);
      f[o] = s - i0[o];
    }
    return [i0, i1, f] as const;
  };
  const [y0, y1, fy] = axis(h, H);
  const [x0, x1, fx] = axis(w, W);
  lastGrid = { h, w, H, W, y0, y1, fy, x0, x1, fx };
  return lastGrid;
}

/**
 * The pixels (row-major indices into `out`) where the bilinear upsampling of `map` on `grid` is
 * above `threshold`, exactly as {@link upsampleBilinear} followed by `> threshold` (the same
 * float64 arithmetic, rounded to float32); returns how many. A pixel whose four source samples are
 * all at most the threshold is skipped: their convex combination cannot exceed it, and its float64
 * rounding error is far below half a float32 ulp.
 */
function activePixels(map: Float32Array, grid: BilinearGrid, threshold: number, out: Int32Array): number {
  const { w, H, W, y0, y1, fy, x0, x1, fx } = grid;
  let count = 0;
  for (let y = 0; y < H; y++) {
    const top = y0[y] * w;
    const bottom = y1[y] * w;
    const ty = fy[y];
    for (let x = 0; x < W; x++) {
      const a = map[top + x0[x]];
      const b = map[top + x1[x]];
      const c = map[bottom + x0[x]];
      const d = map[bottom + x1[x]];
      if (!(a > threshold || b > threshold || c > threshold || d > threshold)) continue;
      const tx = fx[x];
      const upper = a * (1 - tx) + b * tx;
      const lower = c * (1 - tx) + d * tx;
      if (Math.fround(upper * (1 - ty) + lower * ty) > threshold) out[count++] = y * W + x;
    }
  }
  return count;
}

/** The categories an image has any label of (pixel-level or image-level). */
function annotatedCategories(
  masks: readonly { category: string; labels: ArrayLike<number> }[],
  imageLabels: Record<string, readonly number[]>,
): Set<string> {
  const categories = new Set<string>();
  for (const mask of masks) {
    for (let p = 0; p < mask.labels.length; p++) {
      if (mask.labels[p] !== 0) {
        categories.add(mask.category);
        break;
      }
    }
  }
  for (const [category, labels] of Object.entries(imageLabels))
    if (labels.length > 0) categories.add(category);
  return categories;
}

/** What NetDissect needs of the annotations, independent of the layer. */
interface AnnotationCensus {
  images: { height: number; width: number }[];
  /** Σ over images of the pixels each label covers (an image-level label covers the whole image). */
  labelArea: Map<number, number>;
}

// Per annotations object, per category selection.
const censuses = new WeakMap<ProbeAnnotations, Map<string, AnnotationCensus>>();

/**
 * The census of `images` images, once per annotations object, probe size and category selection:
 * the one known, else one being built as the caller hands it every image's masks in order.
 */
function annotationCensus(
  annotations: ProbeAnnotations,
  images: number,
  use: (category: string) => boolean,
): AnnotationCensus & {
  complete: boolean;
  add(index: number, masks: readonly AnnotationMask[]): void;
  finish(): AnnotationCensus;
} {
  const selection = [...new Set([...annotations.labels.values()].map((l) => l.category))]
    .filter(use)
    .sort()
    .join(',');
  const byKey = censuses.get(annotations) ?? new Map<string, AnnotationCensus>();
  censuses.set(annotations, byKey);
  const known = byKey.get(selection);
  const census: AnnotationCensus =
    known && known.images.length === images ? known : { images: [], labelArea: new Map() };
  let size: [number, number] = [112, 112];
  return {
    ...census,
    complete: census === known,
    add(index, all) {
      if (all.length > 0) size = [all[0].height, all[0].width];
      const [height, width] = size;
      for (const mask of all) {
        if (!use(mask.category)) continue;
        for (const [label, area] of labelAreas(mask))
          census.labelArea.set(label, (census.labelArea.get(label) ?? 0) + area);
      }
      for (const [category, labels] of Object.entries(annotations.imageLabels(index))) {
        if (!use(category)) continue;
        for (const label of labels)
          census.labelArea.set(label, (census.labelArea.get(label) ?? 0) + height * width);
      }
      census.images.push({ height, width });
    },
    finish() {
      if (census !== known) byKey.set(selection, census);
      return census;
    },
  };
}
