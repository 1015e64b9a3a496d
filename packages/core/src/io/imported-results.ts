import { ErrorCode, NeurodissectError } from '../errors';
import { createResults } from '../results/create';
import type { LabelerRun, Results, ResultsLayer, ScoredLabel } from '../results/schema';
import type { CsvRecord } from './csv';

/** Options every published-results importer takes. */
export interface PublishedResultsImportOptions {
  /** The file, for messages and the run parameters. */
  source?: string;
  /** Report and skip malformed rows instead of failing on the first one. @defaultValue false */
  lenient?: boolean;
  /** Receives one `file:line: problem` message per skipped row (lenient mode). */
  onSkip?: (message: string) => void;
  /** Model name recorded in the Results. @defaultValue 'resnet50 (imported)' */
  model?: string;
  /** Tool version recorded in the Results. @defaultValue '0.0.0' */
  toolVersion?: string;
  /** Creation time recorded in the Results (ISO 8601). @defaultValue now */
  createdAt?: string;
}

/** One imported neuron before it is placed in its layer. */
export interface ImportedNeuron {
  layer: string;
  unit: number;
  labels: ScoredLabel[];
}

/** Throws an {@link ErrorCode.InvalidFormat} error naming the file and line. */
export function formatError(source: string, line: number, problem: string): NeurodissectError {
  return new NeurodissectError(ErrorCode.InvalidFormat, `${source}:${line}: ${problem}`, {
    details: { source, line },
  });
}

/**
 * Maps data rows through `read`, which returns a neuron or a problem string. A problem fails the
 * import, or (lenient) is reported through `onSkip` and the row skipped. Repeated neurons are
 * problems too.
 */
export function readRows(
  records: readonly CsvRecord[],
  source: string,
  options: PublishedResultsImportOptions,
  read: (fields: string[]) => ImportedNeuron | string,
): ImportedNeuron[] {
  const neurons: ImportedNeuron[] = [];
  const seen = new Set<string>();
  for (const { line, fields } of records) {
    let result = read(fields);
    if (typeof result !== 'string') {
      const key = `${result.layer}\u0000${result.unit}`;
      if (seen.has(key)) result = `${result.layer} unit ${result.unit} appears twice.`;
      else seen.add(key);
    }
    if (typeof result === 'string') {
      if (!options.lenient) throw formatError(source, line, result);
      options.onSkip?.(`${source}:${line}: ${result}`);
      continue;
    }
    neurons.push(result);
  }
  return neurons;
}

/** Parses a non-negative integer field, or returns `undefined`. */
export function parseUnit(text: string): number | undefined {
  const value = Number(text);
  return text.trim() === '' || !Number.isInteger(value) || value < 0 ? undefined : value;
}

/** Parses a finite number field, or returns `undefined`. */
export function parseScore(text: string): number | undefined {
  const value = Number(text);
  return text.trim() === '' || !Number.isFinite(value) ? undefined : value;
}

/**
 * Checks that the header is `expected` (case-insensitive), or with `prefix` starts with it; throws
 * a line-1 error otherwise.
 */
export function checkHeader(
  records: readonly CsvRecord[],
  expected: readonly string[],
  source: string,
  prefix = false,
): string[] {
  const header = records[0]?.fields.map((f) => f.trim().toLowerCase());
  if (
    !header ||
    expected.some((name, i) => header[i] !== name) ||
    (!prefix && header.length !== expected.length)
  ) {
    const wanted = prefix
      ? `a header starting "${expected.join(',')}"`
      : `the header "${expected.join(',')}"`;
    throw formatError(
      source,
      1,
      `expected ${wanted}, found "${records[0]?.fields.join(',') ?? ''}"; is this the right import format?`,
    );
  }
  return header;
}

/** Builds the Results document of an import: layers in order of first appearance, units sorted. */
export function buildImportedResults(
  neurons: readonly ImportedNeuron[],
  init: { kind: string; labeler: LabelerRun; source: string; options: PublishedResultsImportOptions },
): Results {
  const byLayer = new Map<string, ImportedNeuron[]>();
  for (const neuron of neurons) {
    const list = byLayer.get(neuron.layer);
    if (list) list.push(neuron);
    else byLayer.set(neuron.layer, [neuron]);
  }
  const layers: ResultsLayer[] = [...byLayer].map(([name, list]) => {
    const sorted = [...list].sort((a, b) => a.unit - b.unit);
    return {
      name,
      units: sorted.length === 0 ? 0 : sorted[sorted.length - 1].unit + 1,
      neurons: sorted.map((n) => ({ unit: n.unit, topImages: [], labels: { [init.labeler.id]: n.labels } })),
    };
  });
  const { options } = init;
  return createResults({
    run: {
      tool: { name: 'neurodissect', version: options.toolVersion ?? '0.0.0' },
      createdAt: options.createdAt ?? new Date().toISOString(),
      kind: init.kind,
      parameters: { files: [init.source] },
    },
    model: { name: options.model ?? 'resnet50 (imported)' },
    probe: { name: 'unknown', images: [] },
    concepts: { name: 'unknown', size: 0 },
    labelers: [init.labeler],
    layers,
  });
}
