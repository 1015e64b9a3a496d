import { groundTruthLines } from './annotation-tables';
import type { Figure } from './figures';
import type { EvalReport } from './report-schema';
import { type ReportTable, reportSections, scaleLines } from './report-tables';

/** Options of {@link formatHtmlReport}. */
export interface HtmlReportOptions {
  /** Figures to inline (as SVG data URIs in `<img>`, so they cannot run script). @defaultValue [] */
  figures?: readonly Figure[];
  /** The page title. @defaultValue 'neurodissect evaluation report' */
  title?: string;
  /**
   * The site built from the same Results (`neurodissect site --report`): each layer's heading links
   * to its page there and, with `units`, each neuron to its own. @defaultValue no links
   */
  site?: {
    /** The site's `index.html`, relative to the report or absolute. */
    href: string;
    /** Per layer, the units the site shows. */
    units?: Record<string, readonly number[]>;
  };
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function htmlTable(table: ReportTable): string {
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = table.rows
    .map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<h4>${escapeHtml(table.title)}</h4>\n<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function svgDataUri(svg: string): string {
  // Percent-encoding leaves no `"`, `<` or `>`, so the URI is safe inside a double-quoted attribute.
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

function figureHtml(figure: Figure): string {
  const title = escapeHtml(figure.title);
  return `<figure><img src="${svgDataUri(figure.svg)}" alt="${title}"><figcaption>${title}</figcaption></figure>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}thead{background:#f3f3f3}figure{display:inline-block;margin:.5rem}
figcaption{font-size:.85rem;color:#555}ul.labels li{margin:.2rem 0}`;

/**
 * The report as one self-contained HTML page: the tables per labeler, the most frequent labels and
 * the figures inlined. Every label and name is escaped as text; the page has no script.
 */
export function formatHtmlReport(report: EvalReport, options: HtmlReportOptions = {}): string {
  const title = options.title ?? 'neurodissect evaluation report';
  const figures = options.figures ?? [];
  const parts: string[] = [`<h1>${escapeHtml(title)}</h1>`, '<ul>'];
  parts.push(`<li>model: ${escapeHtml(report.source.model)}</li>`);
  parts.push(
    `<li>results: ${escapeHtml(report.source.kind)}, created ${escapeHtml(report.source.createdAt)}</li>`,
  );
  for (const line of scaleLines(report)) parts.push(`<li>${escapeHtml(line)}</li>`);
  parts.push(
    report.groundTruth
      ? `<li>ground truth: ${escapeHtml(report.groundTruth.source)} (${report.groundTruth.neurons} neurons, ${report.groundTruth.nonInterpretable} non-interpretable)</li>`
      : '<li>ground truth: none (score-only tables)</li>',
  );
  for (const line of groundTruthLines(report)) parts.push(`<li>${escapeHtml(line)}</li>`);
  parts.push('</ul>');
  const sections = reportSections(report);
  sections.forEach((section, index) => {
    parts.push(`<section>\n<h2>${escapeHtml(section.title)}</h2>`);
    for (const table of section.tables) parts.push(htmlTable(table));
    // Section 0 is the summary; sections 1… follow report.labelers.
    const labeler = index >= 1 ? report.labelers[index - 1] : undefined;
    if (labeler) {
      for (const { layer, labels } of section.topLabels) {
        const site = options.site;
        const page = (path: string) => escapeHtml(`${site!.href}#/${path}`);
        const name = encodeURIComponent(layer);
        parts.push(
          site
            ? `<h3><a href="${page(`layer/${name}`)}">${escapeHtml(layer)}</a></h3>`
            : `<h3>${escapeHtml(layer)}</h3>`,
        );
        const units = site?.units?.[layer];
        if (units && units.length > 0 && index === 1)
          parts.push(
            `<p class="units">Neurons: ${units.map((u) => `<a href="${page(`neuron/${name}/${u}`)}">${u}</a>`).join(' ')}</p>`,
          );
        if (labels.length > 0)
          parts.push(`<p>Most frequent top-1 labels: ${escapeHtml(labels.join(', '))}</p>`);
        for (const figure of figures.filter((f) => f.labeler === labeler.id && f.layer === layer))
          parts.push(figureHtml(figure));
      }
    }
    parts.push('</section>');
  });
  const crossLayer = figures.filter((f) => f.layer === undefined);
  if (crossLayer.length > 0)
    parts.push(`<section>\n<h2>Across layers</h2>\n${crossLayer.map(figureHtml).join('\n')}\n</section>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${parts.join('\n')}
</body>
</html>
`;
}
