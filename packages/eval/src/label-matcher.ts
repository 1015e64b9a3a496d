import { normalizeLabel } from '@neurodissect/core';

/** Decides whether a predicted label names the same concept as a ground-truth label. */
export interface LabelMatcher {
  /** The form labels are compared in: the normalised label, or its synonym group's first member. */
  canonical(label: string): string;
  /** True when both labels normalise to the same concept (directly or through a synonym group). */
  matches(predicted: string, truth: string): boolean;
}

/** Options of {@link createLabelMatcher}. */
export interface LabelMatcherOptions {
  /** Groups of labels that count as the same concept (see {@link parseSynonyms}). @defaultValue [] */
  synonyms?: readonly (readonly string[])[];
}

/**
 * Creates a matcher that compares labels after core's `normalizeLabel` (case, whitespace and `_`
 * insensitive) and treats every label of a synonym group as the group's first member. A label in
 * two groups joins them into one.
 */
export function createLabelMatcher(options: LabelMatcherOptions = {}): LabelMatcher {
  // Union-find over normalised labels, so overlapping groups merge.
  const parent = new Map<string, string>();
  const find = (label: string): string => {
    let root = label;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    return root;
  };
  for (const group of options.synonyms ?? []) {
    const members = group.map(normalizeLabel).filter((m) => m !== '');
    if (members.length === 0) continue;
    const root = find(members[0]);
    if (!parent.has(root)) parent.set(root, root);
    for (const member of members.slice(1)) {
      const other = find(member);
      if (other !== root) parent.set(other, root);
    }
  }
  const canonical = (label: string) => find(normalizeLabel(label));
  return { canonical, matches: (predicted, truth) => canonical(predicted) === canonical(truth) };
}

/**
 * Parses a synonym file: one group per line, members separated by commas (the layout of
 * CLIP-Dissect's `imagenet_labels.txt`, e.g. `tench, Tinca tinca`). Blank lines and lines starting
 * with `#` are ignored.
 */
export function parseSynonyms(text: string): string[][] {
  return text
    .split(/\r\n|\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) =>
      line
        .split(',')
        .map((member) => member.trim())
        .filter((member) => member !== ''),
    )
    .filter((group) => group.length > 0);
}
