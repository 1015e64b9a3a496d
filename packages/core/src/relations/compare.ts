import { ErrorCode, NeurodissectError } from '../errors';
import type { MatmulKernel } from '../math/matmul';
import { sha256 } from '../platform';
import { type OperationOptions, throwIfAborted } from '../progress';
import type { Results, ResultsLayer, ResultsNeuron } from '../results/schema';
import type { Matrix } from '../tensor';
import { bestMatches, correlateLayers } from './correlate';

/** The format tag of a {@link Comparison}. */
export const COMPARISON_FORMAT = 'neurodissect.comparison';

/** One dissection to compare: its Results and its layers' summaries over the probe set. */
export interface ComparedDissection {
  readonly results: Results;
  /** A layer's `N × K` summaries, one row per image of `results.probe.images`, in order. */
  activations(layer: string): Promise<Matrix>;
}

/** Options of {@link compareDissections}. */
export interface CompareOptions extends OperationOptions {
  /** The correlation from which two matched units count as the same one. @defaultValue 0.5 */
  threshold?: number;
  matmul?: MatmulKernel;
}

/** A unit of the first model matched to its best-correlated unit of a layer of the second. */
export interface ComparedMatch {
  readonly unitA: number;
  readonly unitB: number;
  readonly r: number;
  /** Each is the other's best-correlated unit. */
  readonly mutual: boolean;
}

/** One layer of the first model against one of the second. */
export interface LayerPairComparison {
  readonly a: string;
  readonly b: string;
  /** Every unit of `a` (with a usable summary) and its best match in `b`. */
  readonly matches: ComparedMatch[];
  /** The layers' linear CKA. */
  readonly cka: number;
}

/** Each labeler's best label of a unit in each model (absent where it has none). */
export type LabelsSideBySide = Record<string, { a?: string; b?: string }>;

/** A unit of the first model and the same unit of the second (same architecture only). */
export interface UnitComparison {
  readonly layer: string;
  readonly unit: number;
  /**
   * The unit of the second model it is: its mutual best match in the same layer when they
   * correlate at least the threshold and more than the unit of the same index does (a unit that
   * moved), else the unit of the same index.
   */
  readonly counterpart: number;
  /** The correlation of the unit and its counterpart. */
  readonly r: number;
  readonly labels: LabelsSideBySide;
  /** Whether some labeler's best label differs between the unit and its counterpart. */
  readonly labelChanged: boolean;
  /**
   * Label drift: the label changed and so did the unit (`r` below {@link UNCHANGED_R}). A unit
   * whose activations are unchanged can still get another label from labelers that weigh each
   * concept against the whole layer (soft-WPMI's `p(c)`), when other units changed.
   */
  readonly drift: boolean;
}

/** The correlation from which a unit and its counterpart count as unchanged. */
export const UNCHANGED_R = 0.999;

/** A unit both models have: a mutual best match at least the threshold. */
export interface SharedUnit {
  readonly layerA: string;
  readonly unitA: number;
  readonly layerB: string;
  readonly unitB: number;
  readonly r: number;
  readonly labels: LabelsSideBySide;
}

/** A concept one model has a detector for and the other has none. */
export interface ConceptOnlyIn {
  readonly labeler: string;
  readonly concept: string;
  readonly units: readonly { layer: string; unit: number }[];
}

/** What {@link compareDissections} finds (written as `compare.json` by `neurodissect compare`). */
export interface Comparison {
  readonly format: typeof COMPARISON_FORMAT;
  readonly version: 1;
  readonly a: { name: string; hash?: string; layers: { name: string; units: number }[] };
  readonly b: { name: string; hash?: string; layers: { name: string; units: number }[] };
  readonly probe: { name: string; hash: string; images: number };
  readonly threshold: number;
  /** Both have the same layers with the same numbers of units: unit i of A is unit i of B. */
  readonly sameArchitecture: boolean;
  /** Every layer of A against every layer of B. */
  readonly layers: LayerPairComparison[];
  /** Same architecture: every unit against its counterpart. */
  readonly units: UnitComparison[];
  /** The units of {@link Comparison.units} whose label changed. */
  readonly drift: UnitComparison[];
  /** Each unit of A that has a mutual match at least the threshold in some layer of B: its best one. */
  readonly shared: SharedUnit[];
  /** Per labeler both ran: how many shared units got the same best label. */
  readonly agreement: { labeler: string; shared: number; agree: number; share: number }[];
  /** Concepts only A (`onlyA`) or only B (`onlyB`) has a detector for (a unit whose best label it is, and significant where tested). */
  readonly onlyA: ConceptOnlyIn[];
  readonly onlyB: ConceptOnlyIn[];
}

/**
 * Why two dissections cannot be compared (other probe sets), or `undefined` when they can.
 * Compared are dissections of one probe set: the same probe hash and the same readable images.
 */
export function comparisonRefusal(a: Results, b: Results): string | undefined {
  const ha = a.probe.hash;
  const hb = b.probe.hash;
  if (ha === undefined || hb === undefined)
    return `the probe set of ${ha === undefined ? 'A' : 'B'} has no hash (imported results?); compare dissections made by neurodissect dissect`;
  if (ha !== hb)
    return `the two dissections were made on different probe sets (A: ${ha}, B: ${hb}); dissect both on the same probe set`;
  const ids = (r: Results) => r.probe.images.map((image) => image.id).join('\n');
  if (ids(a) !== ids(b))
    return 'the two dissections could read different images of the probe set; compare dissections that read the same images';
  return undefined;
}

/**
 * The feature-store key under which `neurodissect dissect` (the pipeline) keeps a layer's
 * summaries of the dissection `results` describes; `undefined` when the Results lack the model's
 * or the probe set's hash.
 */
export async function summaryFeatureKey(results: Results, layer: string): Promise<string | undefined> {
  const { hash } = results.model;
  const probe = results.probe.hash;
  if (hash === undefined || probe === undefined) return undefined;
  const { summary = 'auto', preprocessing } = results.run.parameters as {
    summary?: string;
    preprocessing?: unknown;
  };
  const parts = {
    kind: 'activations',
    model: hash,
    layer,
    summary,
    probe,
    preprocessing: typeof preprocessing === 'string' ? preprocessing : JSON.stringify(preprocessing),
  };
  return (await sha256(JSON.stringify(parts))).slice('sha256:'.length);
}

const round = (r: number) => Math.round(r * 1e4) / 1e4;

function bestLabels(neuron: ResultsNeuron | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, ranked] of Object.entries(neuron?.labels ?? {})) if (ranked[0]) out[id] = ranked[0].label;
  return out;
}

function sideBySide(a: ResultsNeuron | undefined, b: ResultsNeuron | undefined): LabelsSideBySide {
  const la = bestLabels(a);
  const lb = bestLabels(b);
  const out: LabelsSideBySide = {};
  for (const id of new Set([...Object.keys(la), ...Object.keys(lb)]))
    out[id] = {
      ...(la[id] !== undefined ? { a: la[id] } : {}),
      ...(lb[id] !== undefined ? { b: lb[id] } : {}),
    };
  return out;
}

const neuronOf = (layer: ResultsLayer, unit: number) => layer.neurons.find((n) => n.unit === unit);

/** Labelers both ran, by id. */
const commonLabelers = (a: Results, b: Results) =>
  a.labelers.map((l) => l.id).filter((id) => b.labelers.some((l) => l.id === id));

/** The concepts a model has a detector for, per labeler: best labels, significant where tested. */
function detectors(results: Results, labeler: string): Map<string, { layer: string; unit: number }[]> {
  const out = new Map<string, { layer: string; unit: number }[]>();
  for (const layer of results.layers) {
    for (const neuron of layer.neurons) {
      const best = neuron.labels[labeler]?.[0];
      if (!best) continue;
      const q = neuron.trust?.[labeler]?.significance?.q;
      if (q !== undefined && !(q < 0.05)) continue;
      const units = out.get(best.label) ?? [];
      units.push({ layer: layer.name, unit: neuron.unit });
      out.set(best.label, units);
    }
  }
  return out;
}

/**
 * Compares two dissections of one probe set: each layer of A against each layer of B (every unit
 * of A's layer to its best-correlated unit of B's, whether the match is mutual, and the layers'
 * linear CKA); when both are the same architecture, every unit against its counterpart, with
 * label drift; the units both models share with their labels side by side, how often their labels
 * agree per labeler, and the concepts only one model has a detector for.
 * @throws `ND_INVALID_OPTION` when they were made on different probe sets (the message names both hashes).
 */
export async function compareDissections(
  a: ComparedDissection,
  b: ComparedDissection,
  options: CompareOptions = {},
): Promise<Comparison> {
  const refusal = comparisonRefusal(a.results, b.results);
  if (refusal) throw new NeurodissectError(ErrorCode.InvalidOption, `Cannot compare: ${refusal}.`);
  const threshold = options.threshold ?? 0.5;
  if (!(threshold >= -1 && threshold <= 1))
    throw new RangeError(`threshold must be between -1 and 1, got ${threshold}.`);
  const ra = a.results;
  const rb = b.results;
  const shape = (r: Results) => r.layers.map((l) => ({ name: l.name, units: l.units }));
  const sameArchitecture = JSON.stringify(shape(ra)) === JSON.stringify(shape(rb)) && ra.layers.length > 0;
  const labelers = commonLabelers(ra, rb);
  const layers: LayerPairComparison[] = [];
  const units: UnitComparison[] = [];
  const shared = new Map<string, SharedUnit>();
  const total = ra.layers.length * rb.layers.length;
  for (const layerA of ra.layers) {
    const za = await a.activations(layerA.name);
    for (const layerB of rb.layers) {
      throwIfAborted(options.signal);
      const { r, cka } = await correlateLayers(za, await b.activations(layerB.name), {
        cka: true,
        matmul: options.matmul,
        signal: options.signal,
      });
      const matches = bestMatches(r).map((m) => ({ ...m, r: round(m.r) }));
      layers.push({ a: layerA.name, b: layerB.name, matches, cka: round(cka ?? Number.NaN) });
      for (const m of matches) {
        if (!m.mutual || m.r < threshold) continue;
        const key = `${layerA.name}\n${m.unitA}`;
        if ((shared.get(key)?.r ?? Number.NEGATIVE_INFINITY) >= m.r) continue;
        shared.set(key, {
          layerA: layerA.name,
          unitA: m.unitA,
          layerB: layerB.name,
          unitB: m.unitB,
          r: m.r,
          labels: sideBySide(neuronOf(layerA, m.unitA), neuronOf(layerB, m.unitB)),
        });
      }
      if (sameArchitecture && layerA.name === layerB.name) {
        const byUnit = new Map(matches.map((m) => [m.unitA, m]));
        for (let unit = 0; unit < layerA.units; unit++) {
          const same = round(r.data[unit * r.cols + unit]);
          const moved = byUnit.get(unit);
          // Followed to its mutual best match only where that is the stronger one.
          const counterpart =
            moved?.mutual && moved.r >= threshold && !(same >= moved.r) ? moved.unitB : unit;
          const rc = r.data[unit * r.cols + counterpart];
          const labels = sideBySide(neuronOf(layerA, unit), neuronOf(layerB, counterpart));
          const labelChanged = labelers.some((id) => labels[id] && labels[id].a !== labels[id].b);
          const drift = labelChanged && !(round(rc) >= UNCHANGED_R);
          units.push({ layer: layerA.name, unit, counterpart, r: round(rc), labels, labelChanged, drift });
        }
      }
      options.onProgress?.({ stage: 'compare', done: layers.length, total });
    }
  }
  const sharedUnits = [...shared.values()];
  const agreement = labelers.map((labeler) => {
    const both = sharedUnits.filter(
      (s) => s.labels[labeler]?.a !== undefined && s.labels[labeler]?.b !== undefined,
    );
    const agree = both.filter((s) => s.labels[labeler].a === s.labels[labeler].b).length;
    return { labeler, shared: both.length, agree, share: both.length > 0 ? round(agree / both.length) : 0 };
  });
  const onlyIn = (first: Results, second: Results): ConceptOnlyIn[] =>
    labelers.flatMap((labeler) => {
      const other = detectors(second, labeler);
      return [...detectors(first, labeler)]
        .filter(([concept]) => !other.has(concept))
        .map(([concept, where]) => ({ labeler, concept, units: where }));
    });
  const model = (r: Results) => ({
    name: r.model.name,
    ...(r.model.hash ? { hash: r.model.hash } : {}),
    layers: shape(r),
  });
  return {
    format: COMPARISON_FORMAT,
    version: 1,
    a: model(ra),
    b: model(rb),
    probe: { name: ra.probe.name, hash: ra.probe.hash!, images: ra.probe.images.length },
    threshold,
    sameArchitecture,
    layers,
    units,
    drift: units.filter((u) => u.drift),
    shared: sharedUnits,
    agreement,
    onlyA: onlyIn(ra, rb),
    onlyB: onlyIn(rb, ra),
  };
}
