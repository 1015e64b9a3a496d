import { normalizeLabel, type Results, type ResultsNeuron } from '@neurodissect/core';
import type { LabelPostings } from './label-postings';

/**
 * Options of {@link SearchIndex.similarNeurons}.
 *
 * The similarity of neurons `a` and `b` is a weighted mean of two terms in [0, 1]:
 *
 * - labels: the weighted Jaccard index of their labels,
 *   `Σ_l min(w_a(l), w_b(l)) / Σ_l max(w_a(l), w_b(l))`, where `w_n(l)` is neuron `n`'s score for
 *   label `l` (normalised text, per labeler; negative scores count as 0) and the sums run over
 *   every label of either neuron. Sharing a label that both score highly counts most.
 * - images: the Jaccard index of their top-image sets, `|A ∩ B| / |A ∪ B|`.
 *
 * `similarity = (labelWeight · labels + imageWeight · images) / (labelWeight + imageWeight)`; when
 * either neuron has no top images the image term is left out (and the label term is the
 * similarity), and likewise when either has no labels. Only neurons sharing at least one label
 * or one top image are candidates, only those with a similarity above 0 are returned, and the
 * neuron itself never is.
 */
export interface SimilarNeuronsOptions {
  /** Layers to look in. @defaultValue the neuron's own layer */
  layers?: readonly string[];
  /** Labelers whose labels are compared. @defaultValue every labeler */
  labelers?: readonly string[];
  /** How many neurons to return. @defaultValue 10 */
  limit?: number;
  /** Weight of the label term. @defaultValue 0.5 */
  labelWeight?: number;
  /** Weight of the top-image term. @defaultValue 0.5 */
  imageWeight?: number;
}

/** A neuron similar to the one asked about. */
export interface SimilarNeuron {
  layer: string;
  unit: number;
  /** The combined similarity in [0, 1]. */
  similarity: number;
  /** The weighted Jaccard index of the labels (0 when either has none). */
  labelSimilarity: number;
  /** The Jaccard index of the top images (0 when either has none). */
  imageOverlap: number;
  /** The normalised labels both neurons carry. */
  sharedLabels: string[];
  /** How many top images both neurons have. */
  sharedImages: number;
}

/** What {@link findSimilarNeurons} needs from the index. */
export interface SimilarNeuronsInput {
  results: Results;
  postings: LabelPostings;
  /** Probe image → the (layer, neuron index) pairs with it among their top images. */
  imageNeurons: Map<number, [number, number][]>;
  target: { layer: number; neuron: ResultsNeuron };
  layers: number[];
  labelers: string[];
  options: SimilarNeuronsOptions;
}

function labelWeights(neuron: ResultsNeuron, labelers: readonly string[]): Map<string, number> {
  const weights = new Map<string, number>();
  for (const labeler of labelers) {
    for (const scored of neuron.labels[labeler] ?? []) {
      const key = `${labeler}\u0000${normalizeLabel(scored.label)}`;
      weights.set(key, Math.max(weights.get(key) ?? 0, Math.max(scored.score, 0)));
    }
  }
  return weights;
}

function weightedJaccard(
  a: Map<string, number>,
  b: Map<string, number>,
): { value: number; shared: string[] } {
  let min = 0;
  let max = 0;
  const shared: string[] = [];
  for (const [key, wa] of a) {
    const wb = b.get(key);
    if (wb === undefined) {
      max += wa;
      continue;
    }
    shared.push(key.slice(key.indexOf('\u0000') + 1));
    min += Math.min(wa, wb);
    max += Math.max(wa, wb);
  }
  for (const [key, wb] of b) if (!a.has(key)) max += wb;
  return { value: max > 0 ? min / max : 0, shared: [...new Set(shared)] };
}

/** Scores every candidate that shares a label or a top image with the target; best first. */
export function findSimilarNeurons(input: SimilarNeuronsInput): SimilarNeuron[] {
  const { results, postings, imageNeurons, target, labelers, options } = input;
  const limit = options.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const labelWeight = options.labelWeight ?? 0.5;
  const imageWeight = options.imageWeight ?? 0.5;
  for (const [name, value] of [
    ['labelWeight', labelWeight],
    ['imageWeight', imageWeight],
  ] as const) {
    if (!Number.isFinite(value) || value < 0)
      throw new RangeError(`${name} must be a finite number ≥ 0, got ${value}`);
  }
  if (labelWeight + imageWeight === 0) throw new RangeError('labelWeight and imageWeight cannot both be 0');

  const wanted = new Set(input.layers);
  const wantedLabelers = new Set(labelers.map((id) => postings.labelerIds.indexOf(id)));
  const candidates = new Set<number>();
  // Layer and neuron index packed into one number: neuron counts stay far below 2^20.
  const pack = (layer: number, neuron: number) => layer * 1_048_576 + neuron;
  const self = pack(target.layer, results.layers[target.layer].neurons.indexOf(target.neuron));
  for (const labels of Object.entries(target.neuron.labels)) {
    if (!labelers.includes(labels[0])) continue;
    for (const scored of labels[1]) {
      for (const p of postings.entries.get(normalizeLabel(scored.label))?.postings ?? []) {
        if (wanted.has(p.layer) && wantedLabelers.has(p.labeler)) candidates.add(pack(p.layer, p.neuron));
      }
    }
  }
  for (const top of target.neuron.topImages) {
    for (const [layer, neuron] of imageNeurons.get(top.image) ?? []) {
      if (wanted.has(layer)) candidates.add(pack(layer, neuron));
    }
  }
  candidates.delete(self);

  const targetWeights = labelWeights(target.neuron, labelers);
  const targetImages = new Set(target.neuron.topImages.map((t) => t.image));
  const found: (SimilarNeuron & { order: number })[] = [];
  for (const packed of candidates) {
    const layer = Math.floor(packed / 1_048_576);
    const neuron = results.layers[layer].neurons[packed % 1_048_576];
    const weights = labelWeights(neuron, labelers);
    const labels = weightedJaccard(targetWeights, weights);
    const images = new Set(neuron.topImages.map((t) => t.image));
    let sharedImages = 0;
    for (const image of images) if (targetImages.has(image)) sharedImages++;
    const union = targetImages.size + images.size - sharedImages;
    const imageOverlap = union > 0 ? sharedImages / union : 0;
    const useLabels = targetWeights.size > 0 && weights.size > 0 && labelWeight > 0;
    const useImages = targetImages.size > 0 && images.size > 0 && imageWeight > 0;
    const weight = (useLabels ? labelWeight : 0) + (useImages ? imageWeight : 0);
    const similarity =
      weight === 0
        ? 0
        : ((useLabels ? labelWeight * labels.value : 0) + (useImages ? imageWeight * imageOverlap : 0)) /
          weight;
    if (similarity <= 0) continue;
    found.push({
      layer: results.layers[layer].name,
      unit: neuron.unit,
      similarity,
      labelSimilarity: labels.value,
      imageOverlap,
      sharedLabels: labels.shared,
      sharedImages,
      order: layer,
    });
  }
  found.sort((a, b) => b.similarity - a.similarity || a.order - b.order || a.unit - b.unit);
  return found.slice(0, limit).map(({ order: _order, ...neuron }) => neuron);
}
