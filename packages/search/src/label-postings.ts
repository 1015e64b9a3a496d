import { normalizeLabel, type Results } from '@neurodissect/core';
import { stemLabel } from './stem-label';

/** One occurrence of a label: which neuron, which labeler, where in its ranking, with what score. */
export interface Posting {
  /** Index into `results.layers`. */
  layer: number;
  /** Index into that layer's `neurons` array. */
  neuron: number;
  /** Index into the indexed labeler ids. */
  labeler: number;
  /** 0-based position in the neuron's ranked labels for that labeler. */
  rank: number;
  score: number;
  /** The label as the labeler wrote it. */
  label: string;
}

/** Every occurrence of one distinct normalised label. */
export interface LabelEntry {
  /** The normalised label ({@link normalizeLabel}). */
  key: string;
  /** Its stem key ({@link stemLabel}). */
  stem: string;
  postings: Posting[];
}

/** The precomputed lookup tables a search index answers from. */
export interface LabelPostings {
  /** Labeler ids in document order (from `results.labelers`, then any only found on neurons). */
  labelerIds: string[];
  /** Distinct normalised label → its postings. */
  entries: Map<string, LabelEntry>;
  /** The distinct normalised labels, in first-seen order (the fuzzy and semantic scan order). */
  keys: string[];
  /** Stem key → the labels that share it. */
  byStem: Map<string, LabelEntry[]>;
  /** Per layer, unit → index into that layer's `neurons`. */
  unitIndex: Map<number, number>[];
}

/** Builds the postings of every label of every neuron, once per index. */
export function buildLabelPostings(results: Results): LabelPostings {
  const labelerIds = results.labelers.map((l) => l.id);
  const labelerIndex = new Map(labelerIds.map((id, i) => [id, i]));
  const entries = new Map<string, LabelEntry>();
  const keys: string[] = [];
  const byStem = new Map<string, LabelEntry[]>();
  // Many labels repeat across neurons; normalising each distinct raw string once keeps the build fast.
  const normalized = new Map<string, string>();
  const unitIndex = results.layers.map((layer, li) => {
    const units = new Map<number, number>();
    layer.neurons.forEach((neuron, ni) => {
      units.set(neuron.unit, ni);
      for (const [labelerId, labels] of Object.entries(neuron.labels)) {
        let labeler = labelerIndex.get(labelerId);
        if (labeler === undefined) {
          labeler = labelerIds.length;
          labelerIds.push(labelerId);
          labelerIndex.set(labelerId, labeler);
        }
        labels.forEach((scored, rank) => {
          let key = normalized.get(scored.label);
          if (key === undefined) {
            key = normalizeLabel(scored.label);
            normalized.set(scored.label, key);
          }
          if (key === '') return;
          let entry = entries.get(key);
          if (entry === undefined) {
            entry = { key, stem: stemLabel(key), postings: [] };
            entries.set(key, entry);
            keys.push(key);
            const sharing = byStem.get(entry.stem);
            if (sharing) sharing.push(entry);
            else byStem.set(entry.stem, [entry]);
          }
          entry.postings.push({
            layer: li,
            neuron: ni,
            labeler: labeler!,
            rank,
            score: scored.score,
            label: scored.label,
          });
        });
      }
    });
    return units;
  });
  return { labelerIds, entries, keys, byStem, unitIndex };
}
