import { ErrorCode, NeurodissectError } from '../errors';

/** A parsed CSV record with the 1-based line on which it starts. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * Parses RFC 4180 CSV: quoted fields may hold commas, quotes (`""`) and newlines; CRLF or LF line
 * ends; a BOM is stripped. Blank lines are skipped.
 * @param source a name for the file, used in messages.
 */
export function parseCsv(text: string, source?: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let field = '';
  let recordLine = 1;
  let quoted = false;
  let fieldStarted = false;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted))
      records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      fieldStarted = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (quoted) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${source ?? 'CSV'}:${recordLine}: a quoted field is never closed.`,
      { details: { source, line: recordLine } },
    );
  }
  if (field !== '' || fields.length > 0 || fieldStarted) endRecord();
  return records;
}

/** Quotes a CSV field when it needs it. */
export function formatCsvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Formats rows as CSV with LF line ends and a final newline. */
export function formatCsv(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map((row) => row.map(formatCsvField).join(',')).join('\n') + (rows.length > 0 ? '\n' : '');
}
