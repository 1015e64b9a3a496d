import { ErrorCode, NeurodissectError } from '../errors';
import { formatCsv, parseCsv } from './csv';

/** One row of CLIP-Dissect's `descriptions.csv`. */
export interface NeuronDescription {
  layer: string;
  /** 0-based unit (channel) index. */
  unit: number;
  description: string;
  similarity: number;
}

const HEADER = ['layer', 'unit', 'description', 'similarity'] as const;

/**
 * Parses CLIP-Dissect's `descriptions.csv` (`layer,unit,description,similarity`). A malformed row
 * is an {@link ErrorCode.InvalidFormat} error naming the file, line and problem.
 */
export function parseDescriptionsCsv(text: string, source = 'descriptions.csv'): NeuronDescription[] {
  const records = parseCsv(text, source);
  const header = records[0]?.fields.map((f) => f.trim().toLowerCase());
  if (!header || HEADER.some((name, i) => header[i] !== name)) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${source}:1: expected the header "${HEADER.join(',')}", found "${records[0]?.fields.join(',') ?? ''}".`,
      { details: { source, line: 1 } },
    );
  }
  return records.slice(1).map(({ line, fields }) => {
    const fail = (problem: string) =>
      new NeurodissectError(ErrorCode.InvalidFormat, `${source}:${line}: ${problem}`, {
        details: { source, line },
      });
    if (fields.length !== 4) throw fail(`expected 4 fields, found ${fields.length}.`);
    const [layer, unitText, description, similarityText] = fields as [string, string, string, string];
    const unit = Number(unitText);
    if (unitText.trim() === '' || !Number.isInteger(unit) || unit < 0) {
      throw fail(`unit "${unitText}" is not a non-negative integer.`);
    }
    const similarity = Number(similarityText);
    if (similarityText.trim() === '' || Number.isNaN(similarity)) {
      throw fail(`similarity "${similarityText}" is not a number.`);
    }
    if (layer.trim() === '') throw fail('the layer is empty.');
    return { layer: layer.trim(), unit, description: description.trim(), similarity };
  });
}

/** Formats rows as CLIP-Dissect's `descriptions.csv`. */
export function formatDescriptionsCsv(rows: readonly NeuronDescription[]): string {
  return formatCsv([HEADER, ...rows.map((r) => [r.layer, r.unit, r.description, r.similarity])]);
}
