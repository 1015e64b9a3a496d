/** A table of the report as text cells, rendered by the Markdown and HTML writers. */
export interface ReportTable {
  title: string;
  columns: string[];
  rows: string[][];
}

/** One section of the report: a labeler (or the summary) with its tables. */
export interface ReportSection {
  title: string;
  tables: ReportTable[];
  /** Per layer, the most frequent top-1 labels as `label (count)`. */
  topLabels: { layer: string; labels: string[] }[];
}

/** Formats a number for a table: 3 significant decimals, `–` for null. */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}
