import type { Results } from '../results/schema';
import { parseCsv } from './csv';
import {
  buildImportedResults,
  checkHeader,
  type PublishedResultsImportOptions,
  parseUnit,
  readRows,
} from './imported-results';

/** Options of {@link importMilanCsv}. */
export type MilanImportOptions = PublishedResultsImportOptions;

/** The labeler id under which imported MILAN descriptions are stored. */
export const IMPORTED_MILAN_ID = 'milan';

/**
 * Imports MILAN's descriptions (`layer,unit,description`, unit 0-based) as a Results document:
 * per neuron one label under the labeler `milan`. MILAN gives no score, so every label has score 0
 * and the labeler run records `options.scores: false`; evaluation skips its score-based tables.
 * A malformed row is an `ND_INVALID_FORMAT` error naming the file, line and problem, or (with
 * `lenient`) is reported through `onSkip` and skipped.
 */
export function importMilanCsv(text: string, options: MilanImportOptions = {}): Results {
  const source = options.source ?? 'milan.csv';
  const records = parseCsv(text, source);
  checkHeader(records, ['layer', 'unit', 'description'], source);
  const neurons = readRows(records.slice(1), source, options, (fields) => {
    if (fields.length !== 3) return `expected 3 fields (layer,unit,description), found ${fields.length}.`;
    const [layer, unitText, description] = fields as [string, string, string];
    if (layer.trim() === '') return 'the layer is empty.';
    const unit = parseUnit(unitText);
    if (unit === undefined) return `unit "${unitText}" is not a non-negative integer.`;
    if (description.trim() === '') return 'the description is empty.';
    return { layer: layer.trim(), unit, labels: [{ label: description.trim(), score: 0 }] };
  });
  return buildImportedResults(neurons, {
    kind: 'import:milan',
    source,
    options,
    labeler: { id: IMPORTED_MILAN_ID, version: 'imported', options: { scores: false } },
  });
}
