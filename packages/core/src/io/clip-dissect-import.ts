import type { Results } from '../results/schema';
import { IMPORTED_CLIP_DISSECT_ID } from './clip-search-csv';
import { parseCsv } from './csv';
import {
  buildImportedResults,
  checkHeader,
  type PublishedResultsImportOptions,
  parseScore,
  parseUnit,
  readRows,
} from './imported-results';

/** Options of {@link importClipDissectCsv}. */
export type ClipDissectImportOptions = PublishedResultsImportOptions;

/**
 * Imports CLIP-Dissect's `descriptions.csv` (`layer,unit,description,similarity`, unit 0-based) as
 * a Results document: per neuron one label, the description, scored by its similarity, under the
 * labeler `clip-dissect`. A malformed row is an `ND_INVALID_FORMAT` error naming the file, line and
 * problem, or (with `lenient`) is reported through `onSkip` and skipped.
 */
export function importClipDissectCsv(text: string, options: ClipDissectImportOptions = {}): Results {
  const source = options.source ?? 'descriptions.csv';
  const records = parseCsv(text, source);
  checkHeader(records, ['layer', 'unit', 'description', 'similarity'], source);
  const neurons = readRows(records.slice(1), source, options, (fields) => {
    if (fields.length !== 4)
      return `expected 4 fields (layer,unit,description,similarity), found ${fields.length}.`;
    const [layer, unitText, description, similarityText] = fields as [string, string, string, string];
    if (layer.trim() === '') return 'the layer is empty.';
    const unit = parseUnit(unitText);
    if (unit === undefined) return `unit "${unitText}" is not a non-negative integer.`;
    if (description.trim() === '') return 'the description is empty.';
    const similarity = parseScore(similarityText);
    if (similarity === undefined) return `similarity "${similarityText}" is not a number.`;
    return { layer: layer.trim(), unit, labels: [{ label: description.trim(), score: similarity }] };
  });
  return buildImportedResults(neurons, {
    kind: 'import:clip-dissect',
    source,
    options,
    labeler: { id: IMPORTED_CLIP_DISSECT_ID, version: 'imported', options: { source: 'descriptions.csv' } },
  });
}
