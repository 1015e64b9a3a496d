import type { TopLevelSpec } from 'vega-lite';
import type { EvalReport } from './report-schema';

/** One rendered figure. */
export interface Figure {
  /** A file name for it (`<labeler>-<layer>-max-score.svg`, …), safe on every file system. */
  file: string;
  /** What it shows, for captions and alt text. */
  title: string;
  /** The labeler and layer it belongs to (`layer` absent for cross-layer figures). */
  labeler: string;
  layer?: string;
  /** The SVG document. */
  svg: string;
}

/** Options of {@link renderFigures}. */
export interface RenderFiguresOptions {
  /** Aborts between figures. */
  signal?: AbortSignal;
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** A figure before rendering: its Vega-Lite spec. */
export type FigureSpec = Omit<Figure, 'svg'> & { spec: TopLevelSpec };

/** The Vega-Lite specs of a report's figures, before rendering (for custom renderers). */
export function figureSpecs(report: EvalReport): FigureSpec[] {
  const figures: FigureSpec[] = [];
  for (const labeler of report.labelers) {
    for (const layer of labeler.layers) {
      const base = `${fileSafe(labeler.id)}-${fileSafe(layer.layer)}`;
      if (layer.histogram) {
        const { start, width, counts } = layer.histogram;
        const round = (x: number) => Number(x.toPrecision(12));
        figures.push({
          file: `${base}-max-score.svg`,
          title: `${layer.layer}: max score per neuron (${labeler.id})`,
          labeler: labeler.id,
          layer: layer.layer,
          spec: {
            title: `${layer.layer}: max score per neuron (${labeler.id})`,
            width: 420,
            height: 220,
            data: {
              values: counts.map((count, i) => ({
                from: round(start + i * width),
                to: round(start + (i + 1) * width),
                count,
              })),
            },
            mark: { type: 'bar', color: '#4c78a8' },
            encoding: {
              x: {
                field: 'from',
                type: 'quantitative',
                bin: { binned: true, step: width },
                title: 'max score',
              },
              x2: { field: 'to' },
              y: { field: 'count', type: 'quantitative', title: 'neurons' },
            },
          },
        });
      }
      if (layer.topLabels.length > 0) {
        figures.push({
          file: `${base}-top-labels.svg`,
          title: `${layer.layer}: most frequent top-1 labels (${labeler.id})`,
          labeler: labeler.id,
          layer: layer.layer,
          spec: {
            title: `${layer.layer}: most frequent top-1 labels (${labeler.id})`,
            width: 420,
            height: { step: 14 },
            data: { values: layer.topLabels.map((t) => ({ label: t.label, count: t.count })) },
            mark: { type: 'bar', color: '#f58518' },
            encoding: {
              y: { field: 'label', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 220 } },
              x: { field: 'count', type: 'quantitative', title: 'neurons' },
            },
          },
        });
      }
    }
  }
  const accuracy = report.labelers.flatMap((labeler) =>
    labeler.layers.flatMap((layer) => {
      const a = layer.accuracy;
      if (!a || a.interpretable === 0) return [];
      return ([1, 3, 5] as const).map((k) => ({
        labeler: labeler.id,
        layer: layer.layer,
        k: `top-${k}`,
        accuracy: a[`top${k}`] / a.interpretable,
      }));
    }),
  );
  if (accuracy.length > 0) {
    figures.push({
      file: 'accuracy-by-layer.svg',
      title: 'Top-k accuracy among interpretable neurons, by layer',
      labeler: report.labelers.map((l) => l.id).join(', '),
      spec: {
        title: 'Top-k accuracy among interpretable neurons, by layer',
        width: 420,
        height: 220,
        data: { values: accuracy },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'layer', type: 'ordinal', sort: null, title: 'layer' },
          y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, title: 'accuracy' },
          color: { field: 'labeler', type: 'nominal' },
          strokeDash: { field: 'k', type: 'nominal', title: null },
        },
      },
    });
  }
  return figures;
}

/**
 * Renders a report's figures as standalone SVG with Vega-Lite (headless, no canvas or DOM): per
 * labeler and layer a histogram of max scores and the most frequent top-1 labels, and with ground
 * truth the top-k accuracy by layer per labeler. Text in the SVG is escaped by the renderer.
 */
export async function renderFigures(
  report: EvalReport,
  options: RenderFiguresOptions = {},
): Promise<Figure[]> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const figures: Figure[] = [];
  for (const { spec, ...figure } of figureSpecs(report)) {
    options.signal?.throwIfAborted();
    const compiled = vegaLite.compile({
      ...spec,
      background: 'white',
      config: { font: 'sans-serif' },
    } as TopLevelSpec).spec;
    // No loader access: every figure's data is inline, so deny any URL the spec could name.
    const loader = vega.loader();
    loader.load = () => Promise.reject(new Error('figures load no external data'));
    const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader });
    try {
      figures.push({ ...figure, svg: await view.toSVG() });
    } finally {
      view.finalize();
    }
  }
  return figures;
}
