import { ErrorCode, formatCsvField, NeurodissectError, parseCsv } from '@neurodissect/core';
import type {
  GroundTruth,
  GroundTruthAnnotation,
  GroundTruthEntry,
  GroundTruthOptions,
  GroundTruthSample,
} from './ground-truth-types';

export type { GroundTruthAnnotation, GroundTruthSample };

/** One row of a ground-truth CSV: `label` null for a non-interpretable neuron. */
export interface GroundTruthRow {
  layer: string;
  unit: number;
  label: string | null;
}

/** The comment prefix of the line holding {@link GroundTruthAnnotation} as JSON. */
export const ANNOTATION_COMMENT = '# neurodissect-annotation: ';

/**
 * Writes a ground truth as the CSV `eval --ground-truth` reads: the header `layer,unit,label`, one
 * row per neuron in the given order, an empty label for a non-interpretable neuron. With an
 * annotation, comment lines (`#`) before the header say in words how it was made and record it as
 * JSON for `eval`.
 */
export function formatGroundTruthCsv(
  rows: readonly GroundTruthRow[],
  annotation?: GroundTruthAnnotation,
): string {
  const lines: string[] = [];
  if (annotation !== undefined) {
    lines.push(`# ${describeAnnotation(annotation, rows.length)}`);
    lines.push(`${ANNOTATION_COMMENT}${JSON.stringify(annotation)}`);
  }
  lines.push('layer,unit,label');
  for (const row of rows)
    lines.push([row.layer, row.unit, row.label ?? ''].map((field) => formatCsvField(field)).join(','));
  return `${lines.join('\n')}\n`;
}

/** The annotation in words, e.g. "ground truth by alice: 32 neurons, blind, a sample of 8 per layer (seed 1)". */
export function describeAnnotation(annotation: GroundTruthAnnotation, neurons: number): string {
  const parts = [
    `ground truth${annotation.annotator ? ` by ${annotation.annotator}` : ''}: ${neurons} neuron${neurons === 1 ? '' : 's'}`,
  ];
  if (annotation.blindNeurons !== undefined && annotation.blindNeurons > 0)
    parts.push(
      annotation.blindNeurons === neurons
        ? "labelled blind (no labeler's labels shown)"
        : `${annotation.blindNeurons} labelled blind`,
    );
  if (annotation.shownLabeler && annotation.blindNeurons !== neurons)
    parts.push(`offered ${annotation.shownLabeler}'s top labels`);
  if (annotation.sample)
    parts.push(`a random sample of ${annotation.sample.perLayer} per layer (seed ${annotation.sample.seed})`);
  if (annotation.results)
    parts.push(`of ${annotation.results.model} dissected ${annotation.results.createdAt}`);
  return parts.join(', ');
}

/**
 * Splits a ground-truth CSV's leading comment lines (`#`) from the rest: the text with each of
 * them blanked (so line numbers stay those of the file), and the annotation its
 * {@link ANNOTATION_COMMENT} line records.
 * @throws Error with the line's problem when the annotation line is not the JSON it should be.
 */
export function splitGroundTruthComments(text: string): {
  text: string;
  annotation?: GroundTruthAnnotation;
  /** 1-based line of the annotation comment, for messages. */
  line?: number;
} {
  const lines = text.replace(/^\ufeff/, '').split(/(\r\n|\n|\r)/);
  let annotation: GroundTruthAnnotation | undefined;
  let at: number | undefined;
  // `lines` alternates content and line ends; content is at even indices.
  for (let i = 0; i < lines.length; i += 2) {
    const line = lines[i];
    if (line.trim() === '') continue;
    if (!line.startsWith('#')) break;
    if (line.startsWith(ANNOTATION_COMMENT)) {
      at = i / 2 + 1;
      annotation = readAnnotation(line.slice(ANNOTATION_COMMENT.length), at);
    }
    lines[i] = '';
  }
  return { text: lines.join(''), ...(annotation ? { annotation } : {}), ...(at ? { line: at } : {}) };
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0;

/** Checks the annotation's JSON by hand (this module is bundled into the site, without zod). */
function readAnnotation(json: string, line: number): GroundTruthAnnotation {
  const fail = (problem: string): never => {
    throw new Error(`line ${line}: the annotation comment ${problem}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return fail(`is not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('is not an object');
  const v = value as Record<string, unknown>;
  const out: GroundTruthAnnotation = {};
  if (v.annotator !== undefined) {
    if (typeof v.annotator !== 'string') fail('has an annotator that is not a string');
    out.annotator = v.annotator as string;
  }
  if (v.shownLabeler !== undefined) {
    if (typeof v.shownLabeler !== 'string') fail('has a shownLabeler that is not a string');
    out.shownLabeler = v.shownLabeler as string;
  }
  if (v.blindNeurons !== undefined) {
    if (!isCount(v.blindNeurons)) fail('has a blindNeurons that is not a count');
    out.blindNeurons = v.blindNeurons as number;
  }
  if (v.results !== undefined) {
    const r = v.results as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || typeof r.model !== 'string' || typeof r.createdAt !== 'string')
      fail('has results that are not { model, createdAt }');
    out.results = { model: r!.model as string, createdAt: r!.createdAt as string };
  }
  if (v.sample !== undefined) {
    const s = v.sample as Record<string, unknown> | null;
    if (typeof s !== 'object' || s === null) return fail('has a sample that is not an object');
    if (typeof s.seed !== 'number' || !Number.isInteger(s.seed))
      fail('has a sample seed that is not an integer');
    if (!isCount(s.perLayer) || s.perLayer === 0) fail('has a sample perLayer that is not a positive count');
    if (!Array.isArray(s.layers)) return fail('has sample layers that are not a list');
    const layers = (s.layers as unknown[]).map((entry) => {
      const e = entry as Record<string, unknown> | null;
      if (
        typeof e !== 'object' ||
        e === null ||
        typeof e.layer !== 'string' ||
        !isCount(e.drawn) ||
        !isCount(e.of) ||
        e.drawn > e.of
      )
        return fail('has a sample layer that is not { layer, drawn, of } with drawn ≤ of');
      return { layer: e.layer, drawn: e.drawn, of: e.of };
    });
    out.sample = { seed: s.seed as number, perLayer: s.perLayer as number, layers };
  }
  return out;
}

const DEFAULT_MARKERS = ['non-interpretable'];

/**
 * A ground truth from its rows: labels trimmed, an empty one or a non-interpretable marker made
 * null; a neuron listed twice is an `ND_INVALID_FORMAT` error.
 */
export function groundTruthFromRows(
  rows: readonly GroundTruthEntry[],
  source: string,
  options: Pick<GroundTruthOptions, 'nonInterpretableMarkers'> = {},
  annotation?: GroundTruthAnnotation,
): GroundTruth {
  const markers = new Set(
    (options.nonInterpretableMarkers ?? DEFAULT_MARKERS).map((m) => m.trim().toLowerCase()),
  );
  const toLabel = (raw: string | null) => {
    const label = raw?.trim() ?? '';
    return label === '' || markers.has(label.toLowerCase()) ? null : label;
  };
  const seen = new Set<string>();
  for (const entry of rows) {
    const key = `${entry.layer}\u0000${entry.unit}`;
    if (seen.has(key)) {
      throw new NeurodissectError(
        ErrorCode.InvalidFormat,
        `${source}: ${entry.layer} unit ${entry.unit} is listed twice; give each neuron one ground-truth label.`,
        { details: { source } },
      );
    }
    seen.add(key);
  }
  return {
    source,
    entries: rows.map((e) => ({ layer: e.layer, unit: e.unit, label: toLabel(e.label) })),
    ...(annotation ? { annotation } : {}),
  };
}

/**
 * Parses a ground-truth CSV (see `parseGroundTruth`, which also reads JSON): comment lines before
 * the header, the header `layer,unit,label`, one row per neuron. Needs no schema library, so the
 * site's label mode reads its files with it.
 */
export function parseGroundTruthCsv(text: string, options: GroundTruthOptions = {}): GroundTruth {
  const source = options.source ?? 'ground-truth';
  let split: ReturnType<typeof splitGroundTruthComments>;
  try {
    split = splitGroundTruthComments(text);
  } catch (error) {
    throw new NeurodissectError(ErrorCode.InvalidFormat, `${source}: ${(error as Error).message}.`, {
      cause: error,
      details: { source },
    });
  }
  return groundTruthFromRows(readCsv(split.text, source, options), source, options, split.annotation);
}

function readCsv(text: string, source: string, options: GroundTruthOptions): GroundTruthEntry[] {
  const records = parseCsv(text, source);
  const header = records[0]?.fields.map((f) => f.trim().toLowerCase());
  if (header?.[0] !== 'layer' || header[1] !== 'unit' || header[2] !== 'label') {
    const line = records[0]?.line ?? 1;
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${source}:${line}: expected the header "layer,unit,label", found "${records[0]?.fields.join(',') ?? ''}".`,
      { details: { source, line } },
    );
  }
  const entries: GroundTruthEntry[] = [];
  for (const { line, fields } of records.slice(1)) {
    const unit = Number(fields[1]);
    let problem: string | undefined;
    if (fields.length !== 3) problem = `expected 3 fields (layer,unit,label), found ${fields.length}.`;
    else if (fields[0].trim() === '') problem = 'the layer is empty.';
    else if (fields[1].trim() === '' || !Number.isInteger(unit) || unit < 0)
      problem = `unit "${fields[1]}" is not a non-negative integer.`;
    if (problem) {
      const message = `${source}:${line}: ${problem}`;
      if (!options.lenient)
        throw new NeurodissectError(ErrorCode.InvalidFormat, message, { details: { source, line } });
      options.onSkip?.(message);
      continue;
    }
    entries.push({ layer: fields[0].trim(), unit, label: fields[2] });
  }
  return entries;
}
