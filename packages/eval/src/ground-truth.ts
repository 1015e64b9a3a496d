import { ErrorCode, NeurodissectError, parseCsv } from '@neurodissect/core';
import { z } from 'zod';
import { type GroundTruthAnnotation, splitGroundTruthComments } from './ground-truth-csv';

/** The ground truth of one neuron. */
export interface GroundTruthEntry {
  layer: string;
  /** 0-based unit index. */
  unit: number;
  /** The concept the neuron detects, or `null` when it is not interpretable. */
  label: string | null;
}

/** A ground truth: one entry per neuron that was annotated. */
export interface GroundTruth {
  entries: GroundTruthEntry[];
  /** Where it came from, for messages and the report. */
  source: string;
  /** How it was made (annotator, blind mode, sample), from the CSV's header comment. */
  annotation?: GroundTruthAnnotation;
}

/** Options of {@link parseGroundTruth}. */
export interface GroundTruthOptions {
  /** The file, for messages. @defaultValue 'ground-truth' */
  source?: string;
  /** `csv` or `json`; by default JSON when the text starts with `[` or `{`, else CSV. */
  format?: 'csv' | 'json';
  /**
   * Labels that mean "non-interpretable" (compared case-insensitively), besides the empty label.
   * @defaultValue ['non-interpretable']
   */
  nonInterpretableMarkers?: readonly string[];
  /** Report and skip malformed CSV rows instead of failing. @defaultValue false */
  lenient?: boolean;
  /** Receives one `file:line: problem` message per skipped row (lenient mode). */
  onSkip?: (message: string) => void;
}

/** A ground-truth entry in JSON: `label` null, empty or a marker means non-interpretable. */
export const GroundTruthEntrySchema = z.object({
  layer: z.string().min(1),
  unit: z.number().int().nonnegative(),
  label: z.string().nullable(),
});

/** A ground truth in JSON: an array of entries, or `{ "neurons": [...] }`. */
export const GroundTruthJsonSchema = z.union([
  z.array(GroundTruthEntrySchema),
  z.object({ neurons: z.array(GroundTruthEntrySchema) }),
]);

const DEFAULT_MARKERS = ['non-interpretable'];

/**
 * Parses a ground truth: CSV `layer,unit,label` (unit 0-based; an empty label or a marker means
 * non-interpretable) or JSON (see {@link GroundTruthJsonSchema}). Problems are `ND_INVALID_FORMAT`
 * errors naming the file and line (CSV) or JSON path; a neuron listed twice is a problem. Comment
 * lines (`#`) before the CSV's header are skipped; the one the site's label mode writes
 * (see {@link formatGroundTruthCsv}) becomes {@link GroundTruth.annotation}.
 */
export function parseGroundTruth(text: string, options: GroundTruthOptions = {}): GroundTruth {
  const source = options.source ?? 'ground-truth';
  const markers = new Set(
    (options.nonInterpretableMarkers ?? DEFAULT_MARKERS).map((m) => m.trim().toLowerCase()),
  );
  const toLabel = (raw: string | null) => {
    const label = raw?.trim() ?? '';
    return label === '' || markers.has(label.toLowerCase()) ? null : label;
  };
  const format = options.format ?? (/^\s*[[{]/.test(text.replace(/^\ufeff/, '')) ? 'json' : 'csv');
  let annotation: GroundTruthAnnotation | undefined;
  let entries: GroundTruthEntry[];
  if (format === 'json') entries = readJson(text, source);
  else {
    let split: ReturnType<typeof splitGroundTruthComments>;
    try {
      split = splitGroundTruthComments(text);
    } catch (error) {
      throw new NeurodissectError(ErrorCode.InvalidFormat, `${source}: ${(error as Error).message}.`, {
        cause: error,
        details: { source },
      });
    }
    annotation = split.annotation;
    entries = readCsv(split.text, source, options);
  }
  const seen = new Set<string>();
  for (const entry of entries) {
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
    entries: entries.map((e) => ({ layer: e.layer, unit: e.unit, label: toLabel(e.label) })),
    ...(annotation ? { annotation } : {}),
  };
}

function readJson(text: string, source: string): GroundTruthEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${source}: not valid JSON (${(error as Error).message}).`,
      {
        cause: error,
        details: { source },
      },
    );
  }
  const parsed = GroundTruthJsonSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}; expected [{ "layer", "unit", "label" }, …].`,
      { details: { source, issues: parsed.error.issues } },
    );
  }
  const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.neurons;
  return list.map((e) => ({ layer: e.layer.trim(), unit: e.unit, label: e.label }));
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

/** A ground truth's labels per layer and unit. */
export function truthByLayer(truth: GroundTruth | undefined): Map<string, Map<number, string | null>> {
  const layers = new Map<string, Map<number, string | null>>();
  for (const entry of truth?.entries ?? []) {
    let units = layers.get(entry.layer);
    if (!units) {
      units = new Map();
      layers.set(entry.layer, units);
    }
    units.set(entry.unit, entry.label);
  }
  return layers;
}
