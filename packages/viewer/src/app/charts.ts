import type { LabelFrequency, LayerSummary, ScoreHistogram } from '@neurodissect/search';
import { formatRoute, searchRoute } from '../route';
import { h, s } from './dom';

/** A histogram of top-label scores as an SVG bar chart, with its numbers in a table for screen readers. */
export function histogramChart(histogram: ScoreHistogram, caption: string): HTMLElement {
  const width = 480;
  const height = 160;
  const pad = { left: 36, right: 8, top: 8, bottom: 28 };
  const max = Math.max(1, ...histogram.counts);
  const bins = histogram.counts.length;
  const barWidth = (width - pad.left - pad.right) / Math.max(1, bins);
  const plotHeight = height - pad.top - pad.bottom;
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'chart',
    role: 'img',
    'aria-label': `${caption}: ${histogram.counts.reduce((a, b) => a + b, 0)} neurons in ${bins} bins from ${histogram.edges[0]?.toFixed(3)} to ${histogram.edges[bins]?.toFixed(3)}`,
  });
  svg.append(
    s('line', {
      x1: pad.left,
      y1: pad.top + plotHeight,
      x2: width - pad.right,
      y2: pad.top + plotHeight,
      class: 'axis',
    }),
    s('text', { x: pad.left - 4, y: pad.top + 10, 'text-anchor': 'end', class: 'tick' }, String(max)),
    s('text', { x: pad.left - 4, y: pad.top + plotHeight, 'text-anchor': 'end', class: 'tick' }, '0'),
    // A middle tick only where it counts whole neurons.
    ...(max >= 4
      ? [
          s(
            'text',
            {
              x: pad.left - 4,
              y: pad.top + plotHeight - (Math.floor(max / 2) / max) * plotHeight + 4,
              'text-anchor': 'end',
              class: 'tick',
            },
            String(Math.floor(max / 2)),
          ),
        ]
      : []),
    s('text', { x: pad.left, y: height - 8, class: 'tick' }, histogram.edges[0]?.toFixed(3) ?? ''),
    s(
      'text',
      { x: width - pad.right, y: height - 8, 'text-anchor': 'end', class: 'tick' },
      histogram.edges[bins]?.toFixed(3) ?? '',
    ),
    s(
      'text',
      { x: (width + pad.left) / 2, y: height - 8, 'text-anchor': 'middle', class: 'tick' },
      'top-label score',
    ),
  );
  histogram.counts.forEach((count, i) => {
    const barHeight = (count / max) * plotHeight;
    svg.append(
      s(
        'rect',
        {
          x: pad.left + i * barWidth + 1,
          y: pad.top + plotHeight - barHeight,
          width: Math.max(1, barWidth - 2),
          height: barHeight,
          class: 'bar',
        },
        s('title', {}, `${histogram.edges[i].toFixed(3)}–${histogram.edges[i + 1].toFixed(3)}: ${count}`),
      ),
    );
  });
  const table = h(
    'table',
    { class: 'data-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Score from'),
        h('th', { scope: 'col' }, 'to'),
        h('th', { scope: 'col' }, 'Neurons'),
      ),
    ),
    h(
      'tbody',
      {},
      histogram.counts.map((count, i) =>
        h(
          'tr',
          {},
          h('td', {}, histogram.edges[i].toFixed(3)),
          h('td', {}, histogram.edges[i + 1].toFixed(3)),
          h('td', {}, count),
        ),
      ),
    ),
  );
  return h(
    'figure',
    { class: 'chart-figure' },
    svg,
    h('figcaption', {}, caption),
    h('details', {}, h('summary', {}, 'Histogram data'), table),
  );
}

/** The most frequent labels as a bar list; each label links to its concept search. */
export function labelChart(frequencies: readonly LabelFrequency[], caption: string): HTMLElement {
  const max = Math.max(1, ...frequencies.map((f) => f.count));
  return h(
    'figure',
    { class: 'chart-figure' },
    h(
      'ol',
      { class: 'bar-list', 'aria-label': caption },
      frequencies.map((f) => {
        const bar = h('span', { class: 'bar-fill' });
        bar.style.width = `${(f.count / max) * 100}%`;
        return h(
          'li',
          {},
          h('a', { href: formatRoute(searchRoute(f.label)), class: 'bar-label' }, f.label),
          h('span', { class: 'bar-track', 'aria-hidden': 'true' }, bar),
          h('span', { class: 'bar-value' }, `${f.count}`),
        );
      }),
    ),
    h('figcaption', {}, caption),
  );
}

/** A labelled horizontal bar for a fraction (0–1). */
export function fractionBar(label: string, fraction: number, detail: string): HTMLElement {
  const fill = h('span', { class: 'bar-fill' });
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return h(
    'div',
    { class: 'fraction' },
    h('span', { class: 'fraction-label' }, label),
    h('span', { class: 'bar-track', 'aria-hidden': 'true' }, fill),
    h('span', { class: 'bar-value' }, `${(fraction * 100).toFixed(1)}% ${detail}`),
  );
}

/**
 * A layer's interpretability on its labeler's own scale: one bar per published threshold (soft-WPMI
 * 0.3 / 0.2 / 0.1, NetDissect's IoU 0.04), or, for a scale without any, the top-label score's
 * quantiles, labelled as such.
 */
export function interpretabilityView(summary: LayerSummary): HTMLElement[] {
  const { scale } = summary;
  if (summary.interpretable.length > 0) {
    return summary.interpretable.map((i, index) =>
      fractionBar(
        `${scale.levels?.[index] ? `${scale.levels[index]}: ` : ''}${scale.name} ≥ ${i.threshold}`,
        i.fraction,
        `(${i.count} of ${summary.labelled})`,
      ),
    );
  }
  const q = summary.quantiles;
  const at = (v: number) => Number(v.toPrecision(3)).toString();
  return [
    h(
      'p',
      { class: 'quantiles', title: `${scale.name}: no published thresholds, so the distribution is shown` },
      q
        ? `${scale.name} (no published thresholds): median ${at(q.p50)}, middle half ${at(q.p25)}–${at(q.p75)}, 10–90 % ${at(q.p10)}–${at(q.p90)}`
        : 'no labelled neurons',
    ),
  ];
}
