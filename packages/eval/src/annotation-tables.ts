import type { ProportionReport } from './annotation-schema';
import type { EvalReport } from './report-schema';
import { formatNumber, type ReportSection, type ReportTable } from './report-table';

/** A proportion as `0.375 [0.137, 0.694]` (the estimate and its 95% interval), `–` when there is none. */
export function formatProportion(p: ProportionReport | null): string {
  return p === null ? '–' : `${formatNumber(p.estimate)} [${formatNumber(p.low)}, ${formatNumber(p.high)}]`;
}

/** What the report says about how its ground truth was made: blind, sampled, several annotators. */
export function groundTruthLines(report: EvalReport): string[] {
  const a = report.annotation;
  if (!a) return [];
  const lines: string[] = [];
  if (a.blind) {
    lines.push(
      "labelled blind: no labeler's labels or scores were shown, so every labeler is judged against labels none of them suggested",
    );
  } else {
    for (const annotator of a.annotators) {
      if (annotator.shownLabeler === null || annotator.blindNeurons === annotator.neurons) continue;
      lines.push(
        `${annotator.name} was offered ${annotator.shownLabeler}'s top labels${annotator.blindNeurons ? ` for ${annotator.neurons - annotator.blindNeurons} of ${annotator.neurons} neurons` : ''}: the ground truth may favour ${annotator.shownLabeler} over the other labelers`,
      );
    }
  }
  for (const annotator of a.annotators) {
    const s = annotator.sample;
    if (!s) continue;
    lines.push(
      `${annotator.name} labelled a random sample of ${s.perLayer} neurons per layer (seed ${s.seed}; ${s.layers.map((l) => `${l.layer} ${l.drawn} of ${l.of}`).join(', ')}): accuracies are estimates, given with 95% Wilson intervals`,
    );
  }
  if (a.basis === 'agreed') {
    lines.push(
      `${a.annotators.length} annotators (${a.annotators.map((x) => x.name).join(', ')}): Tables 1-2 judge the ${report.groundTruth?.neurons ?? 0} neurons every one of them labelled and agreed on; their agreement and Table 1 against each follow`,
    );
  }
  return lines;
}

/** The report's ground-truth section: the annotators, Table 1 with intervals, agreement, per-annotator tables. */
export function annotationSections(report: EvalReport): ReportSection[] {
  const a = report.annotation;
  if (!a) return [];
  const tables: ReportTable[] = [
    {
      title: 'Annotators',
      columns: ['annotator', 'file', 'neurons', 'non-interpretable', 'labelled blind', 'sample'],
      rows: a.annotators.map((x) => [
        x.name,
        x.source,
        String(x.neurons),
        String(x.nonInterpretable),
        x.blindNeurons === null ? '–' : String(x.blindNeurons),
        x.sample ? `${x.sample.perLayer} per layer (seed ${x.sample.seed})` : 'none',
      ]),
    },
  ];
  if (a.intervals.length > 0) {
    const sampled = a.intervals.some((i) => i.sample !== null);
    tables.push({
      title: `Table 1 as shares with 95% Wilson intervals${a.basis === 'agreed' ? ' (agreed neurons)' : ''}`,
      columns: [
        'labeler',
        'layer',
        sampled ? 'sample' : 'judged',
        'top-1',
        'top-3',
        'top-5',
        'non-interpretable',
        'top-5 / interpretable',
      ],
      rows: a.intervals.map((i) => [
        i.labeler,
        i.layer,
        i.sample ? `${i.sample.judged} of ${i.sample.of}` : String(i.top1?.trials ?? 0),
        ...[i.top1, i.top3, i.top5, i.nonInterpretable, i.top5Interpretable].map(formatProportion),
      ]),
    });
  }
  if (a.agreement.length > 0) {
    tables.push({
      title: "Agreement between annotators (Cohen's κ on interpretable vs non-interpretable)",
      columns: [
        'layer',
        'annotators',
        'both labelled',
        'both interpretable',
        'both non-interpretable',
        'interpretable for the first only',
        'interpretable for the second only',
        'observed',
        'by chance',
        'κ',
        'same label',
        'label agreement',
      ],
      rows: a.agreement.map((g) => [
        g.layer,
        g.annotators.join(' / '),
        String(g.neurons),
        String(g.bothInterpretable),
        String(g.bothNonInterpretable),
        String(g.onlyFirst),
        String(g.onlySecond),
        formatNumber(g.observed),
        formatNumber(g.expected),
        formatNumber(g.kappa),
        String(g.sameLabel),
        formatNumber(g.labelAgreement),
      ]),
    });
  }
  for (const annotator of a.perAnnotator) {
    tables.push({
      title: `Table 1 against ${annotator.annotator} alone`,
      columns: [
        'labeler',
        'layer',
        'top-1',
        'top-3',
        'top-5',
        'incorrect',
        'non-interpretable',
        'total',
        'top-5 share',
      ],
      rows: annotator.labelers.flatMap((labeler) =>
        labeler.layers.map((l) => [
          labeler.id,
          l.layer,
          ...[l.accuracy.top1, l.accuracy.top3, l.accuracy.top5, l.accuracy.incorrect].map(String),
          String(l.accuracy.nonInterpretable),
          String(l.accuracy.total),
          formatProportion(l.intervals.top5),
        ]),
      ),
    });
  }
  return [{ title: 'Ground truth by hand', tables, topLabels: [] }];
}
