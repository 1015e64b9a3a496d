import { createRandom, randomPermutation } from '@neurodissect/core';
import type { GroundTruth, GroundTruthAnnotation, GroundTruthRow } from '@neurodissect/eval';
import type { SiteManifest } from '../site-data';

// Label mode's state, apart from the page and the browser's storage: one annotator's decisions on
// one Results document, the sample they label, and the undo history.

/** What an annotator decided for one neuron. */
export interface LabelDecision {
  /** The neuron's label; null when it is not interpretable. */
  label: string | null;
  /** How: one of the offered labels, an own word, or non-interpretable. */
  how: 'offered' | 'own' | 'non-interpretable';
  /** Decided in blind mode (no labeler's labels shown). */
  blind: boolean;
}

/** The random sample of neurons an annotator labels, in the order they are shown. */
export interface LabelSample {
  seed: number;
  perLayer: number;
  /** Per layer, the drawn units in their drawn order. */
  units: Record<string, number[]>;
}

/** One annotator's labelling of one Results document: what label mode stores after every decision. */
export interface LabelSession {
  /** The Results document's identity ({@link resultsIdentity}). */
  identity: string;
  annotator: string;
  /** Decisions by {@link neuronKey}. */
  decisions: Record<string, LabelDecision>;
  /** Decisions in the order made, each with what it replaced, for undo. */
  history: { layer: string; unit: number; previous: LabelDecision | null }[];
  /** Per layer, the unit shown last: opening the layer again continues there. */
  current: Record<string, number>;
  sample?: LabelSample;
}

/** The key of a neuron in {@link LabelSession.decisions}. */
export function neuronKey(layer: string, unit: number): string {
  return `${layer}\u0000${unit}`;
}

/** A 64-bit FNV-1a hash of a text, as 16 hex digits (no crypto: file:// pages may lack it). */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * prime) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * The identity of the Results document a site shows: a hash of what tells two documents apart
 * (model, run, probe set, concept set, labelers, layers and their neurons). A site rebuilt from
 * the same document has the same identity, so its labels are found again.
 */
export function resultsIdentity(manifest: SiteManifest): string {
  return fnv1a64(
    JSON.stringify([
      manifest.model,
      manifest.run.kind,
      manifest.run.createdAt,
      manifest.run.tool,
      manifest.probe,
      manifest.concepts,
      manifest.labelers.map((l) => [l.id, l.version]),
      manifest.layers.map((l) => [l.name, l.units, l.unitList]),
    ]),
  );
}

/** The labeler whose top labels label mode offers: the first with scores. */
export function primaryLabeler(manifest: SiteManifest): string | undefined {
  return (manifest.labelers.find((l) => l.options.scores !== false) ?? manifest.labelers[0])?.id;
}

/** A new, empty session. */
export function createLabelSession(identity: string, annotator: string): LabelSession {
  return { identity, annotator, decisions: {}, history: [], current: {} };
}

/**
 * Draws `perLayer` neurons of each layer at random (all of a smaller layer): the same seed and
 * layers give the same sample, in the same order, on every machine.
 */
export function drawSample(
  layers: readonly { name: string; unitList: readonly number[] }[],
  perLayer: number,
  seed: number,
): LabelSample {
  if (!Number.isInteger(perLayer) || perLayer < 1)
    throw new RangeError(`the sample size must be a positive whole number, got ${perLayer}`);
  if (!Number.isInteger(seed)) throw new RangeError(`the seed must be a whole number, got ${seed}`);
  const random = createRandom(seed);
  const units: Record<string, number[]> = {};
  for (const layer of layers) {
    const order = randomPermutation(layer.unitList.length, random);
    units[layer.name] = Array.from(order.slice(0, perLayer), (i) => layer.unitList[i]);
  }
  return { seed, perLayer, units };
}

/** The units of a layer in the order label mode shows them: the sample's, else ascending. */
export function labelOrder(
  session: LabelSession,
  layer: { name: string; unitList: readonly number[] },
): number[] {
  return session.sample ? [...(session.sample.units[layer.name] ?? [])] : [...layer.unitList];
}

/** The first unit of `order` after `after` (wrapping round) that has no decision; undefined when all have one. */
export function nextUnlabelled(
  session: LabelSession,
  layer: string,
  order: readonly number[],
  after?: number,
): number | undefined {
  const start = after === undefined ? 0 : order.indexOf(after) + 1;
  for (let i = 0; i < order.length; i++) {
    const unit = order[(start + i) % order.length];
    if (session.decisions[neuronKey(layer, unit)] === undefined) return unit;
  }
  return undefined;
}

/** The session with a decision for one neuron (replacing any earlier one, which undo restores). */
export function decide(
  session: LabelSession,
  layer: string,
  unit: number,
  decision: LabelDecision,
): LabelSession {
  const key = neuronKey(layer, unit);
  return {
    ...session,
    decisions: { ...session.decisions, [key]: decision },
    history: [...session.history, { layer, unit, previous: session.decisions[key] ?? null }],
  };
}

/** The session without its last decision, and the neuron it was about; undefined when there is none. */
export function undo(
  session: LabelSession,
): { session: LabelSession; layer: string; unit: number } | undefined {
  const last = session.history[session.history.length - 1];
  if (last === undefined) return undefined;
  const decisions = { ...session.decisions };
  const key = neuronKey(last.layer, last.unit);
  if (last.previous === null) delete decisions[key];
  else decisions[key] = last.previous;
  return {
    session: { ...session, decisions, history: session.history.slice(0, -1) },
    layer: last.layer,
    unit: last.unit,
  };
}

/** How many of a layer's neurons (in label order) have a decision. */
export function labelledCount(session: LabelSession, layer: string, order: readonly number[]): number {
  return order.filter((unit) => session.decisions[neuronKey(layer, unit)] !== undefined).length;
}

/**
 * The ground truth to export: one row per decided neuron (only the sample's, when there is one),
 * layer by layer in the site's order, units ascending; and the annotation its header records.
 */
export function exportRows(
  session: LabelSession,
  manifest: SiteManifest,
): { rows: GroundTruthRow[]; annotation: GroundTruthAnnotation } {
  const rows: GroundTruthRow[] = [];
  let blind = 0;
  for (const layer of manifest.layers) {
    const units = [...labelOrder(session, layer)].sort((a, b) => a - b);
    for (const unit of units) {
      const decision = session.decisions[neuronKey(layer.name, unit)];
      if (decision === undefined) continue;
      rows.push({ layer: layer.name, unit, label: decision.label });
      if (decision.blind) blind++;
    }
  }
  const shown = primaryLabeler(manifest);
  const sample = session.sample;
  const annotation: GroundTruthAnnotation = {
    annotator: session.annotator,
    blindNeurons: blind,
    ...(shown !== undefined && blind < rows.length ? { shownLabeler: shown } : {}),
    ...(sample
      ? {
          sample: {
            seed: sample.seed,
            perLayer: sample.perLayer,
            layers: manifest.layers.map((l) => ({
              layer: l.name,
              drawn: sample.units[l.name]?.length ?? 0,
              of: l.unitList.length,
            })),
          },
        }
      : {}),
    results: { model: manifest.model.name, createdAt: manifest.run.createdAt },
  };
  return { rows, annotation };
}

/**
 * The session continued from a ground-truth file: its decisions replace the session's for the
 * same neurons (and are not undone by undo), and its sample, when it has one, becomes the
 * session's. Rows naming neurons the site does not have are counted, not kept.
 */
export function importGroundTruth(
  session: LabelSession,
  truth: GroundTruth,
  manifest: SiteManifest,
): { session: LabelSession; imported: number; unknown: number } {
  const units = new Map(manifest.layers.map((l) => [l.name, new Set(l.unitList)]));
  const blindAll =
    truth.annotation?.blindNeurons !== undefined && truth.annotation.blindNeurons === truth.entries.length;
  const decisions = { ...session.decisions };
  let imported = 0;
  let unknown = 0;
  for (const entry of truth.entries) {
    if (!units.get(entry.layer)?.has(entry.unit)) {
      unknown++;
      continue;
    }
    decisions[neuronKey(entry.layer, entry.unit)] = {
      label: entry.label,
      how: entry.label === null ? 'non-interpretable' : 'own',
      blind: blindAll,
    };
    imported++;
  }
  const given = truth.annotation?.sample;
  const sample = given ? drawSample(manifest.layers, given.perLayer, given.seed) : session.sample;
  return {
    session: { ...session, decisions, history: [], ...(sample ? { sample } : {}) },
    imported,
    unknown,
  };
}
