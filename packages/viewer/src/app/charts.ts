import type { LabelFrequency, ScoreHistogram } from '@neurodissect/search';
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
