import type { Results } from '../results/schema';

/** A related unit as shown to a reader: the unit, its correlation and its best label. */
export interface RelatedUnitView {
  readonly layer: string;
  readonly unit: number;
  readonly r: number;
  /** The unit's best label (of the first labeler that labelled it), when its layer was dissected. */
  readonly label?: string;
  /** The labeler that gave `label`. */
  readonly labeler?: string;
}

/** One neuron's relations with one other layer, ready to show. */
export interface NeuronRelationView {
  readonly layer: string;
  readonly direction: 'from' | 'to';
  readonly units: readonly RelatedUnitView[];
}

/**
 * A neuron's relations (its `relations` in the Results) with the related units' best labels looked
 * up, for the CLI and the site; empty when the neuron has none or is not in the document.
 */
export function neuronRelationViews(results: Results, layer: string, unit: number): NeuronRelationView[] {
  const neuron = results.layers.find((l) => l.name === layer)?.neurons.find((n) => n.unit === unit);
  const labelers = results.labelers.map((l) => l.id);
  return (neuron?.relations ?? []).map((relation) => {
    const other = results.layers.find((l) => l.name === relation.layer);
    return {
      layer: relation.layer,
      direction: relation.direction,
      units: relation.units.map(({ unit: related, r }) => {
        const labels = other?.neurons.find((n) => n.unit === related)?.labels ?? {};
        const labeler = labelers.find((id) => labels[id]?.[0] !== undefined);
        return {
          layer: relation.layer,
          unit: related,
          r,
          ...(labeler ? { label: labels[labeler][0].label, labeler } : {}),
        };
      }),
    };
  });
}
