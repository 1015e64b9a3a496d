import { ErrorCode, NeurodissectError } from '../errors';
import { formatCsv, parseCsv } from './csv';

/** One row of CLIP-Dissect's `descriptions.csv`. */
export interface NeuronDescription {
  layer: string;
  /** 0-based unit (channel) index. */
  unit: number;
  description: string;
  similarity: number;
  /** The top label's p-value against the layer's permutation null (column `p_value`). */
  pValue?: number;
  /** Its Benjamini–Hochberg q-value within the layer (column `q_value`). */
  qValue?: number;
}

const HEADER = ['layer', 'unit', 'description', 'similarity'] as const;
const TRUST_HEADER = ['p_value', 'q_value'] as const;

/**
 * Parses CLIP-Dissect's `descriptions.csv` (`layer,unit,description,similarity`, and neurodissect's
 * optional `p_value,q_value`). A malformed row is an {@link ErrorCode.InvalidFormat} error naming
 * the file, line and problem.
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
  const withTrust = header.length === 6 && TRUST_HEADER.every((name, i) => header[4 + i] === name);
  const width = withTrust ? 6 : 4;
  return records.slice(1).map(({ line, fields }) => {
    const fail = (problem: string) =>
      new NeurodissectError(ErrorCode.InvalidFormat, `${source}:${line}: ${problem}`, {
        details: { source, line },
      });
    if (fields.length !== width) throw fail(`expected ${width} fields, found ${fields.length}.`);
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
    const row: NeuronDescription = { layer: layer.trim(), unit, description: description.trim(), similarity };
    if (withTrust) {
      const [p, q] = fields.slice(4).map((text, i) => {
        if (text.trim() === '') return undefined;
        const value = Number(text);
        if (Number.isNaN(value) || value < 0 || value > 1)
          throw fail(`${TRUST_HEADER[i]} "${text}" is not a number in [0, 1].`);
        return value;
      });
      if (p !== undefined) row.pValue = p;
      if (q !== undefined) row.qValue = q;
    }
    return row;
  });
}

/**
 * Formats rows as CLIP-Dissect's `descriptions.csv`; when the rows carry p- and q-values, two more
 * columns `p_value,q_value` follow (empty for a row without them).
 */
export function formatDescriptionsCsv(rows: readonly NeuronDescription[]): string {
  const withTrust = rows.some((r) => r.pValue !== undefined);
  const cell = (v: number | undefined) => (v === undefined ? '' : v);
  return formatCsv([
    withTrust ? [...HEADER, ...TRUST_HEADER] : HEADER,
    ...rows.map((r) =>
      withTrust
        ? [r.layer, r.unit, r.description, r.similarity, cell(r.pValue), cell(r.qValue)]
        : [r.layer, r.unit, r.description, r.similarity],
    ),
  ]);
}
