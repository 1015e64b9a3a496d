import { type Labeler, type LabelerContext, type LayerLabels, throwIfAborted } from '@neurodissect/core';
import {
  labelAreas,
  quantileThresholds,
  requireAnnotations,
  requireMaps,
  upsampleBilinear,
} from './annotations';

/** Options of {@link netDissect}. */
export interface NetDissectOptions {
  /** A unit's threshold is the top `quantile` of all its activation values. @defaultValue 0.005 */
  quantile?: number;
  /** A unit is a detector of its best concept when the IoU reaches this. @defaultValue 0.04 */
  threshold?: number;
  /** Labels kept per detector. @defaultValue 10 */
  topLabels?: number;
}

/**
 * Network Dissection's IoU (Bau et al.): unit k's threshold `T_k` is the top `quantile` of all its
 * activation values over the probe set (the value at rank ⌊(1−q)(n−1)⌋ of the sorted values); each
 * map is upsampled bilinearly to the mask resolution and thresholded; for each concept c,
 * `IoU = Σ|M∩L_c| / Σ|M∪L_c|` over the images annotated in c's category (an image-level label
 * covers the whole image). Units whose best IoU is below `threshold` get no labels
 * (non-interpretable); detectors get their concepts ranked by IoU.
 */
export function netDissect(options: NetDissectOptions = {}): Labeler {
  const quantile = options.quantile ?? 0.005;
  const threshold = options.threshold ?? 0.04;
  const topLabels = options.topLabels ?? 10;
  if (!(quantile > 0 && quantile < 1)) throw new RangeError(`quantile must be in (0, 1), got ${quantile}.`);
  return {
    id: 'netdissect',
    version: '1',
    requires: ['activation-maps', 'annotations'],
    options: { quantile, threshold, topLabels },
    async label(context: LabelerContext): Promise<LayerLabels> {
      const annotations = requireAnnotations(context, 'netdissect');
      const maps = requireMaps(context, 'netdissect');
      const [N, K, h, w] = maps.dims as [number, number, number, number];
      const plane = h * w;
      const thresholds = quantileThresholds(maps, quantile);
      // Per unit: Σ|M| over images annotated in each category, Σ|M∩L_c| and Σ|L_c| per concept.
      const maskArea = Array.from({ length: K }, () => new Map<string, number>());
      const inter = Array.from({ length: K }, () => new Map<number, number>());
      const labelArea = new Map<number, number>();
      let size: [number, number] = [112, 112];
      for (let i = 0; i < N; i++) {
        throwIfAborted(context.signal);
        const masks = await annotations.masks(i, { signal: context.signal });
        if (masks.length > 0) size = [masks[0].height, masks[0].width];
        const [H, W] = size;
        const categories = new Set(masks.map((m) => m.category));
        const imageLabels = annotations.imageLabels(i);
        for (const [category, labels] of Object.entries(imageLabels))
          if (labels.length > 0) categories.add(category);
        const areas = masks.map((mask) => labelAreas(mask));
        for (const a of areas)
          for (const [label, area] of a) labelArea.set(label, (labelArea.get(label) ?? 0) + area);
        for (const labels of Object.values(imageLabels))
          for (const label of labels) labelArea.set(label, (labelArea.get(label) ?? 0) + H * W);
        for (let k = 0; k < K; k++) {
          const up = upsampleBilinear(
            maps.data.subarray((i * K + k) * plane, (i * K + k + 1) * plane),
            h,
            w,
            H,
            W,
          );
          let on = 0;
          for (let p = 0; p < up.length; p++) if (up[p] > thresholds[k]) on++;
          for (const category of categories) maskArea[k].set(category, (maskArea[k].get(category) ?? 0) + on);
          if (on === 0) continue;
          masks.forEach((mask) => {
            for (let p = 0; p < up.length; p++) {
              const label = mask.labels[p];
              if (label !== 0 && up[p] > thresholds[k]) inter[k].set(label, (inter[k].get(label) ?? 0) + 1);
            }
          });
          for (const labels of Object.values(imageLabels))
            for (const label of labels) inter[k].set(label, (inter[k].get(label) ?? 0) + on);
        }
        context.onProgress?.({ stage: 'netdissect', done: i + 1, total: N });
      }
      return Array.from({ length: K }, (_, k) => {
        const ranked = [...inter[k].entries()]
          .map(([label, intersection]) => {
            const info = annotations.labels.get(label);
            const union =
              (maskArea[k].get(info?.category ?? '') ?? 0) + (labelArea.get(label) ?? 0) - intersection;
            return { label: info?.name ?? String(label), score: union > 0 ? intersection / union : 0 };
          })
          .sort((a, b) => b.score - a.score || a.label.localeCompare(b.label));
        return ranked.length > 0 && ranked[0].score >= threshold ? ranked.slice(0, topLabels) : [];
      });
    },
  };
}
