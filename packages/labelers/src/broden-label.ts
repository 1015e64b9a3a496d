import {
  type Labeler,
  type LabelerContext,
  type LayerLabels,
  originalRow,
  type ProbeAnnotations,
  throwIfAborted,
  topKPerColumn,
} from '@neurodissect/core';
import { labelAreas, requireAnnotations } from './annotations';

/** Options of {@link brodenLabel}. */
export interface BrodenLabelOptions {
  /** Top activating images per neuron that vote. @defaultValue 10 */
  topImages?: number;
  /** Labels kept per neuron. @defaultValue 10 */
  topLabels?: number;
}

/**
 * Broden-label, the annotation vote (the report, §4.2): every label present in each of a neuron's
 * top images votes, image-level labels with weight 1 and pixel labels with the fraction of the
 * image they cover; votes are summed over the images and normalised to a distribution. The score
 * is the label's share of all votes; `votes` is the number of images it appears in.
 */
export function brodenLabel(options: BrodenLabelOptions = {}): Labeler {
  const topImages = options.topImages ?? 10;
  const topLabels = options.topLabels ?? 10;
  // Each image's label weights, per annotations object.
  const weightsByAnnotations = new WeakMap<ProbeAnnotations, Map<number, Map<number, number>>>();
  return {
    id: 'broden-label',
    version: '1',
    requires: ['activations', 'annotations'],
    // A neuron's labels come from its own top images: pseudo-neurons are labelled like real ones.
    scoresFrom: 'neuron',
    options: { topImages, topLabels },
    async label(context: LabelerContext): Promise<LayerLabels> {
      const annotations = requireAnnotations(context, 'broden-label');
      const n = Math.min(topImages, context.activations.rows);
      const top = topKPerColumn(context.activations, n);
      // An image's label weights do not depend on the neurons: they are kept per image of the
      // unrestricted context, so resamples, folds and the null's pseudo-neurons decode each once.
      const base = originalRow(context, 0).context;
      const baseAnnotations = base.annotations ?? annotations;
      let known = weightsByAnnotations.get(baseAnnotations);
      if (!known) {
        known = new Map();
        weightsByAnnotations.set(baseAnnotations, known);
      }
      const rowOf = (image: number) => originalRow(context, image).row;
      for (const row of new Set(Array.from(top.indices, rowOf))) {
        if (known.has(row)) continue;
        throwIfAborted(context.signal);
        const weights = new Map<number, number>();
        for (const labels of Object.values(baseAnnotations.imageLabels(row))) {
          for (const label of labels) weights.set(label, (weights.get(label) ?? 0) + 1);
        }
        for (const mask of await baseAnnotations.masks(row, { signal: context.signal })) {
          const total = mask.width * mask.height;
          for (const [label, area] of labelAreas(mask))
            weights.set(label, (weights.get(label) ?? 0) + area / total);
        }
        known.set(row, weights);
      }
      const perImage = { get: (image: number) => known!.get(rowOf(image)) };
      return Array.from({ length: context.activations.cols }, (_, k) => {
        const sums = new Map<number, { weight: number; votes: number }>();
        let total = 0;
        for (let j = 0; j < n; j++) {
          for (const [label, weight] of perImage.get(top.indices[k * n + j])!) {
            const entry = sums.get(label) ?? { weight: 0, votes: 0 };
            entry.weight += weight;
            entry.votes += 1;
            sums.set(label, entry);
            total += weight;
          }
        }
        return [...sums.entries()]
          .sort((a, b) => b[1].weight - a[1].weight || a[0] - b[0])
          .slice(0, topLabels)
          .map(([label, { weight, votes }]) => ({
            label: annotations.labels.get(label)?.name ?? String(label),
            score: weight / total,
            votes,
          }));
      });
    },
  };
}
