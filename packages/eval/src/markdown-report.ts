import { groundTruthLines } from './annotation-tables';
import type { Figure } from './figures';
import type { EvalReport } from './report-schema';
import { type ReportTable, reportSections, scaleLines } from './report-tables';

/** Options of {@link formatMarkdownReport}. */
export interface MarkdownReportOptions {
  /** Figures to link (by their `file`, relative to the report). @defaultValue [] */
  figures?: readonly Figure[];
}

/** Escapes text for a Markdown table cell or list item: no emphasis, code, links, cell breaks or HTML survive. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/</g, '&lt;')
    .replace(/\r?\n/g, ' ');
}

function markdownTable(table: ReportTable): string {
  const line = (cells: string[]) => `| ${cells.map(escapeMarkdown).join(' | ')} |`;
  return [
    `#### ${escapeMarkdown(table.title)}`,
    '',
    line(table.columns),
    `|${table.columns.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...table.rows.map(line),
    '',
  ].join('\n');
}

/** The report as Markdown: the tables per labeler, the most frequent labels, and links to the SVG figures. */
export function formatMarkdownReport(report: EvalReport, options: MarkdownReportOptions = {}): string {
  const out: string[] = ['# neurodissect evaluation report', ''];
  out.push(`- model: ${escapeMarkdown(report.source.model)}`);
  out.push(
    `- results: ${escapeMarkdown(report.source.kind)}, created ${escapeMarkdown(report.source.createdAt)}`,
  );
  for (const line of scaleLines(report)) out.push(`- ${escapeMarkdown(line)}`);
  out.push(
    report.groundTruth
      ? `- ground truth: ${escapeMarkdown(report.groundTruth.source)} (${report.groundTruth.neurons} neurons, ${report.groundTruth.nonInterpretable} non-interpretable)`
      : '- ground truth: none (score-only tables)',
  );
  for (const line of groundTruthLines(report)) out.push(`- ${escapeMarkdown(line)}`);
  out.push('');
  const figures = options.figures ?? [];
  for (const section of reportSections(report)) {
    out.push(`## ${escapeMarkdown(section.title)}`, '');
    for (const table of section.tables) out.push(markdownTable(table));
    if (section.topLabels.length > 0) {
      out.push('#### Most frequent top-1 labels', '');
      for (const { layer, labels } of section.topLabels)
        out.push(`- **${escapeMarkdown(layer)}**: ${labels.map(escapeMarkdown).join(', ')}`);
      out.push('');
    }
  }
  if (figures.length > 0) {
    out.push('## Figures', '');
    for (const figure of figures)
      out.push(`![${escapeMarkdown(figure.title)}](${encodeURI(figure.file)})`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
