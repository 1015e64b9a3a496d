import { stemLabel } from '@neurodissect/search';
import type { Agreement } from './annotation-schema';
import { type GroundTruth, type GroundTruthEntry, truthByLayer } from './ground-truth';
import { createLabelMatcher, type LabelMatcher } from './label-matcher';

/** Options of {@link annotatorAgreement} and {@link agreedGroundTruth}. */
export interface AgreementOptions {
  /** Synonym groups count as the same label. @defaultValue createLabelMatcher() */
  matcher?: LabelMatcher;
  /** The layers to report, in order. @defaultValue every layer either file names, first file first */
  layers?: readonly string[];
}

/** The name a ground truth's annotator goes by: the one its header comment gives, else its file's name. */
export function annotatorName(truth: GroundTruth): string {
  return truth.annotation?.annotator ?? truth.source.split(/[\\/]/).pop() ?? truth.source;
}

/**
 * Whether two annotators' labels name the same concept: equal after the matcher's synonym groups
 * and the word stems concept search uses (`stripes` and `striped` agree).
 */
export function sameAnnotation(a: string, b: string, matcher: LabelMatcher = createLabelMatcher()): boolean {
  return matcher.matches(a, b) || stemLabel(matcher.canonical(a)) === stemLabel(matcher.canonical(b));
}

function layerOrder(truths: readonly GroundTruth[], given?: readonly string[]): string[] {
  if (given) return [...given];
  const names = new Set<string>();
  for (const truth of truths) for (const entry of truth.entries) names.add(entry.layer);
  return [...names];
}

/**
 * Agreement of two annotators per layer, over the neurons both labelled: Cohen's
 * κ = (p_o − p_e) / (1 − p_e) on interpretable vs non-interpretable (p_o the observed agreement,
 * p_e the agreement expected from each annotator's own share of interpretable neurons), and the
 * share of neurons both call interpretable that they give the same label ({@link sameAnnotation}).
 */
export function annotatorAgreement(
  first: GroundTruth,
  second: GroundTruth,
  options: AgreementOptions = {},
): Agreement[] {
  const matcher = options.matcher ?? createLabelMatcher();
  const a = truthByLayer(first);
  const b = truthByLayer(second);
  return layerOrder([first, second], options.layers).map((layer) => {
    const mine = a.get(layer) ?? new Map<number, string | null>();
    const theirs = b.get(layer) ?? new Map<number, string | null>();
    let bothInterpretable = 0;
    let bothNonInterpretable = 0;
    let onlyFirst = 0;
    let onlySecond = 0;
    let sameLabel = 0;
    for (const [unit, label] of mine) {
      if (!theirs.has(unit)) continue;
      const other = theirs.get(unit) ?? null;
      if (label !== null && other !== null) {
        bothInterpretable++;
        if (sameAnnotation(label, other, matcher)) sameLabel++;
      } else if (label !== null) onlyFirst++;
      else if (other !== null) onlySecond++;
      else bothNonInterpretable++;
    }
    const n = bothInterpretable + bothNonInterpretable + onlyFirst + onlySecond;
    const observed = n === 0 ? null : (bothInterpretable + bothNonInterpretable) / n;
    const firstYes = (bothInterpretable + onlyFirst) / n;
    const secondYes = (bothInterpretable + onlySecond) / n;
    const expected = n === 0 ? null : firstYes * secondYes + (1 - firstYes) * (1 - secondYes);
    const kappa =
      observed === null || expected === null || expected === 1
        ? null
        : (observed - expected) / (1 - expected);
    return {
      layer,
      annotators: [annotatorName(first), annotatorName(second)],
      neurons: n,
      bothInterpretable,
      bothNonInterpretable,
      onlyFirst,
      onlySecond,
      observed,
      expected,
      kappa,
      sameLabel,
      labelAgreement: bothInterpretable === 0 ? null : sameLabel / bothInterpretable,
    };
  });
}

/**
 * The neurons every annotator labelled and on which they all agree: all non-interpretable, or all
 * interpretable with the same label ({@link sameAnnotation}); the label is the first file's.
 */
export function agreedGroundTruth(
  truths: readonly GroundTruth[],
  options: AgreementOptions = {},
): GroundTruth {
  if (truths.length === 0) throw new RangeError('agreedGroundTruth needs at least one ground truth');
  const matcher = options.matcher ?? createLabelMatcher();
  const others = truths.slice(1).map(truthByLayer);
  const entries: GroundTruthEntry[] = truths[0].entries.filter(({ layer, unit, label }) =>
    others.every((other) => {
      const units = other.get(layer);
      if (!units?.has(unit)) return false;
      const theirs = units.get(unit) ?? null;
      return label === null || theirs === null ? label === theirs : sameAnnotation(label, theirs, matcher);
    }),
  );
  return {
    source: `agreed neurons of ${truths.map((t) => t.source).join(', ')}`,
    entries: entries.map((e) => ({ ...e })),
  };
}
