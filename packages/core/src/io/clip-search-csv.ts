import { ErrorCode, NeurodissectError } from '../errors';
import { createResults } from '../results/create';
import type { ImageEntry, Results, ResultsLayer } from '../results/schema';
import { parseCsv } from './csv';

/** One per-layer CSV of the report's website (clip-search). */
export interface ClipSearchLayerFile {
  /** The layer name, e.g. `layer4` (from the file name `layer4.csv`). */
  layer: string;
  text: string;
  /** The file, for messages. */
  source?: string;
}

/** Options of {@link importClipSearchCsv}. */
export interface ClipSearchImportOptions {
  /** Report and skip malformed rows instead of failing. @defaultValue false */
  lenient?: boolean;
  /** Receives one message per skipped row (lenient mode). */
  onSkip?: (message: string) => void;
  /** Model name recorded in the Results. @defaultValue 'resnet50 (imported from clip-search)' */
  model?: string;
  /** Tool version recorded in the Results. @defaultValue '0.0.0' */
  toolVersion?: string;
  /** Creation time recorded in the Results (ISO 8601). @defaultValue now */
  createdAt?: string;
}

/** The labeler id under which imported CLIP-Dissect labels are stored. */
export const IMPORTED_CLIP_DISSECT_ID = 'clip-dissect';

/**
 * Imports the report website's per-layer CSVs (header `,0,1,…,39`; column 0 the neuron, 1-10 the
 * top-10 labels, 11-20 their scores, 21-40 top image paths) as one Results document: per neuron
 * the ranked labels under labeler `clip-dissect` and the top images, most activating first (paths
 * as given). The CSV holds no activation values, so the top images carry none.
 */
export function importClipSearchCsv(
  files: readonly ClipSearchLayerFile[],
  options: ClipSearchImportOptions = {},
): Results {
  const images: ImageEntry[] = [];
  const imageIndex = new Map<string, number>();
  const layers: ResultsLayer[] = [];
  for (const file of files) {
    const source = file.source ?? `${file.layer}.csv`;
    const records = parseCsv(file.text, source);
    const header = records[0]?.fields;
    if (!header || header.length < 21 || header[0] !== '' || header[1] !== '0') {
      throw new NeurodissectError(
        ErrorCode.InvalidFormat,
        `${source}:1: expected the clip-search header ",0,1,…,39" (neuron, 10 labels, 10 scores, image paths).`,
        { details: { source, line: 1 } },
      );
    }
    const neurons: ResultsLayer['neurons'] = [];
    const seen = new Set<number>();
    for (const { line, fields } of records.slice(1)) {
      const problem = checkRow(fields, header.length, seen);
      if (problem) {
        const message = `${source}:${line}: ${problem}`;
        if (!options.lenient)
          throw new NeurodissectError(ErrorCode.InvalidFormat, message, { details: { source, line } });
        options.onSkip?.(message);
        continue;
      }
      const unit = Number(fields[0]);
      seen.add(unit);
      const labels = fields
        .slice(1, 11)
        .map((label, i) => ({ label: label.trim(), score: Number(fields[11 + i]) }));
      const topImages = fields
        .slice(21)
        .filter((path) => path.trim() !== '')
        .map((path) => {
          let index = imageIndex.get(path);
          if (index === undefined) {
            index = images.length;
            imageIndex.set(path, index);
            images.push({ id: path, uri: path });
          }
          return { image: index };
        });
      neurons.push({ unit, topImages, labels: { [IMPORTED_CLIP_DISSECT_ID]: labels } });
    }
    neurons.sort((a, b) => a.unit - b.unit);
    const units = neurons.length === 0 ? 0 : neurons[neurons.length - 1].unit + 1;
    layers.push({ name: file.layer, units, neurons });
  }
  return createResults({
    run: {
      tool: { name: 'neurodissect', version: options.toolVersion ?? '0.0.0' },
      createdAt: options.createdAt ?? new Date().toISOString(),
      kind: 'import:clip-search',
      parameters: { files: files.map((f) => f.source ?? `${f.layer}.csv`) },
    },
    model: { name: options.model ?? 'resnet50 (imported from clip-search)' },
    probe: { name: 'broden1_224', images },
    concepts: { name: '20k', size: 0 },
    labelers: [{ id: IMPORTED_CLIP_DISSECT_ID, version: 'imported', options: { similarity: 'soft_wpmi' } }],
    layers,
  });
}

function checkRow(fields: string[], width: number, seen: Set<number>): string | undefined {
  if (fields.length !== width) return `expected ${width} fields, found ${fields.length}`;
  const unit = Number(fields[0]);
  if (fields[0].trim() === '' || !Number.isInteger(unit) || unit < 0)
    return `neuron "${fields[0]}" is not a non-negative integer`;
  if (seen.has(unit)) return `neuron ${unit} appears twice`;
  for (let i = 0; i < 10; i++) {
    if (fields[1 + i].trim() === '') return `label ${i + 1} is empty`;
    const score = fields[11 + i];
    if (score.trim() === '' || !Number.isFinite(Number(score)))
      return `score ${i + 1} "${score}" is not a number`;
  }
  return undefined;
}
