import type { EvalReport } from './report-schema';

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

/** The report's content as text tables, in reading order. */
export function reportSections(report: EvalReport): ReportSection[] {
  const { high, medium, low } = report.thresholds;
  const table3Columns = [
    'layer',
    'neurons',
    'mean max score',
    `high (≥${high})`,
    `medium (≥${medium})`,
    `low (≥${low})`,
    `none (<${low})`,
  ];
  const sections: ReportSection[] = [
    {
      title: `Summary${report.primaryLabeler ? ` (${report.primaryLabeler})` : ''}`,
      tables: [
        {
          title: 'Interpretability by max score (Table 3)',
          columns: table3Columns,
          rows: report.layers.map(table3Row),
        },
      ],
      topLabels: [],
    },
  ];
  for (const labeler of report.labelers) {
    const tables: ReportTable[] = [];
    const withTruth = labeler.layers.filter((l) => l.accuracy);
    if (withTruth.length > 0) {
      tables.push({
        title: 'Accuracy against the ground truth (Table 1)',
        columns: [
          'layer',
          'top-1',
          'top-3',
          'top-5',
          'incorrect',
          'non-interpretable',
          'total',
          'top-5 / interpretable',
          'missing',
        ],
        rows: withTruth.map((l) => {
          const a = l.accuracy!;
          return [
            l.layer,
            a.top1,
            a.top3,
            a.top5,
            a.incorrect,
            a.nonInterpretable,
            a.total,
            formatNumber(a.top5AccuracyInterpretable),
            a.missing,
          ].map(String);
        }),
      });
      if (labeler.scored) {
        tables.push({
          title: 'Mean max score by correctness (Table 2)',
          columns: [
            'layer',
            'top-1 correct',
            'top-3 correct',
            'top-5 correct',
            'incorrect or non-interpretable',
            'all',
            'ROC-AUC (top-1)',
          ],
          rows: withTruth.map((l) => {
            const s = l.scoreByCorrectness;
            return [
              l.layer,
              ...[s?.top1, s?.top3, s?.top5, s?.incorrectOrNonInterpretable, s?.all, l.rocAuc].map((v) =>
                formatNumber(v),
              ),
            ];
          }),
        });
      }
    }
    // The primary labeler's Table 3 is the summary's.
    if (labeler.scored && labeler.id !== report.primaryLabeler) {
      tables.push({
        title: 'Interpretability by max score (Table 3)',
        columns: table3Columns,
        rows: labeler.layers.map(table3Row),
      });
    }
    sections.push({
      title: `Labeler ${labeler.id}${labeler.scored ? '' : ' (no scores)'}`,
      tables,
      topLabels: labeler.layers.map((l) => ({
        layer: l.layer,
        labels: l.topLabels.map((t) => `${t.label} (${t.count})`),
      })),
    });
  }
  if (report.finalLayer && report.finalLayer.length > 0) {
    const models = [...new Set(report.finalLayer.flatMap((f) => Object.keys(f.textSimilarity)))];
    sections.push({
      title: "CLIP-Dissect's final-layer metrics",
      tables: [
        {
          title: 'Units as classes',
          columns: [
            'layer',
            'labeler',
            'neurons',
            'top-1 accuracy',
            'top-5 accuracy',
            'mean rank',
            'median rank',
            'not ranked',
            'ROC-AUC',
            ...models.map((m) => `cosine (${m})`),
          ],
          rows: report.finalLayer.map((f) => [
            f.layer,
            f.labeler,
            String(f.neurons),
            formatNumber(f.top1Accuracy),
            formatNumber(f.top5Accuracy),
            formatNumber(f.meanRank, 2),
            formatNumber(f.medianRank, 1),
            String(f.notRanked),
            formatNumber(f.rocAuc),
            ...models.map((m) => formatNumber(f.textSimilarity[m])),
          ]),
        },
      ],
      topLabels: [],
    });
  }
  return sections;
}

/** One layer's row of Table 3 (dashes where the labeler gives no scores). */
function table3Row(l: {
  layer: string;
  neurons: number;
  meanMaxScore: number | null;
  interpretability: { high: number; medium: number; low: number; none: number } | null;
}): string[] {
  const counts = l.interpretability;
  return [
    l.layer,
    String(l.neurons),
    formatNumber(l.meanMaxScore),
    ...(counts ? [counts.high, counts.medium, counts.low, counts.none].map(String) : ['–', '–', '–', '–']),
  ];
}
