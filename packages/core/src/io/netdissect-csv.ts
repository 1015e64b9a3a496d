import type { Results, ScoredLabel } from '../results/schema';
import { parseCsv } from './csv';
import {
  buildImportedResults,
  checkHeader,
  formatError,
  type PublishedResultsImportOptions,
  parseScore,
  parseUnit,
  readRows,
} from './imported-results';

/** Options of {@link importNetDissectCsv}. */
export interface NetDissectImportOptions extends PublishedResultsImportOptions {
  /** The layer the tally describes (the tally itself does not say). */
  layer: string;
  /**
   * Keep Broden's category suffixes (`grey-c`, `kitchen-s`) in labels; by default the `-c`/`-s`
   * suffix is dropped so the label reads as a word. @defaultValue false
   */
  keepCategorySuffix?: boolean;
}

/** The labeler id under which imported Network Dissection labels are stored. */
export const IMPORTED_NETDISSECT_ID = 'netdissect';

/**
 * Imports a Network Dissection tally (`unit,category,label,score,<category>-label,…,<category>-iou`;
 * unit 1-based, converted to 0-based) as a Results document for one layer, under the labeler
 * `netdissect`: per neuron the tally's label first (scored by its IoU), then each category's best
 * label by IoU. A malformed row is an `ND_INVALID_FORMAT` error naming the file, line and problem,
 * or (with `lenient`) is reported through `onSkip` and skipped.
 */
export function importNetDissectCsv(text: string, options: NetDissectImportOptions): Results {
  const source = options.source ?? 'tally.csv';
  if (options.layer.trim() === '')
    throw new TypeError('importNetDissectCsv: options.layer must name the layer');
  const records = parseCsv(text, source);
  const header = checkHeader(records, ['unit', 'category', 'label', 'score'], source, true);
  const categories: { labelColumn: number; iouColumn: number }[] = [];
  header.forEach((name, column) => {
    const match = /^(.+)-label$/.exec(name);
    if (!match) return;
    const iouColumn = header.indexOf(`${match[1]}-iou`);
    if (iouColumn < 0)
      throw formatError(source, 1, `column "${name}" has no matching "${match[1]}-iou" column.`);
    categories.push({ labelColumn: column, iouColumn });
  });
  const clean = (label: string) =>
    options.keepCategorySuffix ? label.trim() : label.trim().replace(/-[cs]$/, '');
  const neurons = readRows(records.slice(1), source, options, (fields) => {
    if (fields.length !== header.length) return `expected ${header.length} fields, found ${fields.length}.`;
    const unit = parseUnit(fields[0]);
    if (unit === undefined || unit < 1)
      return `unit "${fields[0]}" is not a positive integer (the tally counts units from 1).`;
    const label = fields[2].trim();
    if (label === '') return 'the label is empty.';
    const score = parseScore(fields[3]);
    if (score === undefined) return `score "${fields[3]}" is not a number.`;
    const others: ScoredLabel[] = [];
    for (const { labelColumn, iouColumn } of categories) {
      const other = fields[labelColumn].trim();
      if (other === '') continue;
      const iou = parseScore(fields[iouColumn]);
      if (iou === undefined) return `${header[iouColumn]} "${fields[iouColumn]}" is not a number.`;
      others.push({ label: clean(other), score: iou });
    }
    others.sort((a, b) => b.score - a.score);
    const labels: ScoredLabel[] = [{ label: clean(label), score }];
    for (const other of others) if (!labels.some((l) => l.label === other.label)) labels.push(other);
    return { layer: options.layer.trim(), unit: unit - 1, labels };
  });
  return buildImportedResults(neurons, {
    kind: 'import:netdissect',
    source,
    options,
    labeler: { id: IMPORTED_NETDISSECT_ID, version: 'imported', options: { score: 'iou' } },
  });
}
