import { annotationSections } from './annotation-tables';
import { formatNumber, type ReportSection, type ReportTable } from './report-table';

export { formatNumber, type ReportSection, type ReportTable };

import type { EvalReport, Interpretability, Quantiles, ReportScoreScale } from './report-schema';

/** The report's content as text tables, in reading order. */
export function reportSections(report: EvalReport): ReportSection[] {
  const primaryScale = report.labelers.find((l) => l.id === report.primaryLabeler)?.scale;
  const sections: ReportSection[] = [
    {
      title: `Summary${report.primaryLabeler ? ` (${report.primaryLabeler})` : ''}`,
      tables: primaryScale ? [table3(primaryScale, report.layers)] : [],
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
      tables.push(table3(labeler.scale, labeler.layers));
    }
    const trusted = labeler.layers.filter((l) => l.significant != null || l.heldOut || l.stability);
    if (trusted.length > 0) tables.push(trustTable(trusted));
    sections.push({
      title: `Labeler ${labeler.id}${labeler.scored ? '' : ' (no scores)'}`,
      tables,
      topLabels: labeler.layers.map((l) => ({
        layer: l.layer,
        labels: l.topLabels.map((t) => `${t.label} (${t.count})`),
      })),
    });
  }
  sections.push(...annotationSections(report));
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

/**
 * How far the labels can be believed, per layer (docs/trust.md): neurons significant against the
 * permutation null, held-out correlation beside random labels', stability (with a ground truth:
 * for top-1-correct labels and the others).
 */
function trustTable(layers: EvalReport['labelers'][number]['layers']): ReportTable {
  return {
    title: 'How far to trust the labels (significance, held-out quality, stability)',
    columns: [
      'layer',
      'significant (q < 0.05)',
      'held-out r',
      'random labels r',
      'annotations r',
      'annotations AUPRC',
      'stability',
      'stability, top-1 correct',
      'stability, others',
    ],
    rows: layers.map((l) => [
      l.layer,
      l.significant == null ? '–' : `${l.significant} of ${l.tested ?? l.neurons}`,
      formatNumber(l.heldOut?.correlation),
      formatNumber(l.heldOut?.baseline),
      formatNumber(l.heldOut?.annotations?.correlation),
      formatNumber(l.heldOut?.annotations?.auprc),
      formatNumber(l.stability?.top1, 2),
      formatNumber(l.stability?.byCorrectness?.top1Correct, 2),
      formatNumber(l.stability?.byCorrectness?.incorrectOrNonInterpretable, 2),
    ]),
  };
}

/** What Table 3 reads of a layer. */
interface Table3Layer {
  layer: string;
  neurons: number;
  meanMaxScore: number | null;
  interpretability: Interpretability | null;
  quantiles: Quantiles | null;
}

/**
 * Table 3 on a labeler's own scale: neurons per level of their max score; for a scale without
 * published thresholds, the max score's quantiles instead (dashes where there are no scores).
 */
function table3(scale: ReportScoreScale, layers: readonly Table3Layer[]): ReportTable {
  const head = (l: Table3Layer) => [l.layer, String(l.neurons), formatNumber(l.meanMaxScore)];
  if (scale.levels.length === 0) {
    return {
      title: `Max score quantiles (${scale.name}: no published thresholds)`,
      columns: ['layer', 'neurons', 'mean max score', 'p10', 'p25', 'median', 'p75', 'p90'],
      rows: layers.map((l) => {
        const q = l.quantiles;
        return [
          ...head(l),
          ...(q ? [q.p10, q.p25, q.p50, q.p75, q.p90] : Array(5).fill(null)).map((v) => formatNumber(v)),
        ];
      }),
    };
  }
  const last = scale.levels[scale.levels.length - 1];
  return {
    title: `Interpretability by max score (Table 3; ${scale.name})`,
    columns: [
      'layer',
      'neurons',
      'mean max score',
      ...scale.levels.map((level) => `${level.name} (≥${level.threshold})`),
      `none (<${last.threshold})`,
    ],
    rows: layers.map((l) => {
      const counts = l.interpretability;
      return [
        ...head(l),
        ...(counts ? [...counts.levels, counts.none].map(String) : Array(scale.levels.length + 1).fill('–')),
      ];
    }),
  };
}

/** One line per labeler: its score, the thresholds Table 3 uses and their source. */
export function scaleLines(report: EvalReport): string[] {
  return report.labelers.map((labeler) => {
    if (!labeler.scored) return `${labeler.id}: no scores`;
    const { name, levels, source } = labeler.scale;
    if (levels.length === 0)
      return `${labeler.id}: ${name}; no published thresholds, so the max score's quantiles are shown`;
    const at = levels.map((level) => `${level.name} ≥ ${level.threshold}`).join(', ');
    return `${labeler.id}: ${name}; ${at}${source ? ` (${source})` : ''}`;
  });
}
