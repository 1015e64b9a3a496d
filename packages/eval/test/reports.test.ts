import { createResults, type Results } from '@neurodissect/core';
import { describe, expect, it } from 'vitest';
import {
  EvalReportSchema,
  escapeMarkdown,
  evaluateResults,
  formatHtmlReport,
  formatMarkdownReport,
  parseGroundTruth,
  renderFigures,
} from '../src/index';
import { HAND_MADE_GROUND_TRUTH_CSV, handMadeResults } from './hand-made-results';

const HOSTILE = '<script>alert("x")</script> | **bold** [link](http://example.com)';

function hostileResults(): Results {
  const base = handMadeResults();
  return createResults({
    ...base,
    model: { name: '<img src=x onerror=alert(1)>' },
    layers: [
      ...base.layers,
      {
        name: 'layer<2>',
        units: 2,
        neurons: [
          { unit: 0, topImages: [], labels: { a: [{ label: HOSTILE, score: 0.4 }] } },
          { unit: 1, topImages: [], labels: { a: [{ label: 'plain', score: 0.1 }] } },
        ],
      },
    ],
  });
}

describe('reports', () => {
  it('renders the figures as standalone SVG, text escaped', async () => {
    const report = evaluateResults(hostileResults(), {
      groundTruth: parseGroundTruth(HAND_MADE_GROUND_TRUTH_CSV),
    });
    const figures = await renderFigures(report);
    // Per scored labeler and layer a histogram and a top-labels chart; the unscored labeler b only
    // top labels, and only for L (it labelled nothing in layer<2>); plus the accuracy chart.
    expect(figures.map((f) => f.file)).toEqual([
      'a-L-max-score.svg',
      'a-L-top-labels.svg',
      'a-layer_2_-max-score.svg',
      'a-layer_2_-top-labels.svg',
      'b-L-top-labels.svg',
      'accuracy-by-layer.svg',
    ]);
    for (const figure of figures) {
      expect(figure.svg.startsWith('<svg')).toBe(true);
      expect(figure.svg).not.toContain('<script');
    }
    const topLabels = figures.find((f) => f.file === 'a-layer_2_-top-labels.svg')!.svg;
    expect(topLabels).toContain('&lt;script&gt;');
  });

  it('writes HTML with every label escaped, figures inlined and no script', async () => {
    const report = evaluateResults(hostileResults());
    const figures = await renderFigures(report);
    const html = formatHtmlReport(report, { figures });
    expect(html).not.toMatch(/<script|<img src=x/);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html.match(/<img src="data:image\/svg\+xml;charset=utf-8,/g)).toHaveLength(figures.length);
    // Labeler "a" publishes no thresholds: the summary shows layer L's max-score quantiles
    // (6 neurons, mean 1.52/6, p10 .1, p25 .1675 shown as 0.167, median .235, p75 .325, p90 .425; see tables.test.ts).
    expect(html).toContain('Max score quantiles (a score: no published thresholds)');
    expect(html).toContain(
      '<tr><td>L</td><td>6</td><td>0.253</td><td>0.100</td><td>0.167</td><td>0.235</td><td>0.325</td><td>0.425</td></tr>',
    );
    expect(html).toContain('a: a score; no published thresholds');
  });

  it('links each layer and neuron to the site when one is given, names escaped', () => {
    const report = evaluateResults(hostileResults());
    const html = formatHtmlReport(report, {
      site: { href: '../index.html', units: { L: [0, 3], 'layer<2>': [0, 1] } },
    });
    expect(html).toContain('<h3><a href="../index.html#/layer/L">L</a></h3>');
    expect(html).toContain(
      '<p class="units">Neurons: <a href="../index.html#/neuron/L/0">0</a> <a href="../index.html#/neuron/L/3">3</a></p>',
    );
    expect(html).toContain('<a href="../index.html#/neuron/layer%3C2%3E/1">1</a>');
    // Neurons are listed once, under the first labeler.
    expect(html.match(/#\/neuron\/L\/0"/g)).toHaveLength(1);
    expect(formatHtmlReport(report)).not.toContain('#/layer/');
  });

  it('writes Markdown with labels escaped and figure links', () => {
    const report = evaluateResults(hostileResults(), {
      groundTruth: parseGroundTruth(HAND_MADE_GROUND_TRUTH_CSV),
    });
    const md = formatMarkdownReport(report, {
      figures: [{ file: 'a-L-max-score.svg', title: 'histogram', labeler: 'a', layer: 'L', svg: '<svg/>' }],
    });
    expect(md).toContain(escapeMarkdown(HOSTILE));
    expect(md).not.toContain('<script');
    // Table 1 of labeler a without synonyms (see tables.test.ts).
    expect(md).toContain('| L | 1 | 2 | 3 | 2 | 1 | 6 | 0.600 | 1 |');
    expect(md).toContain('![histogram](a-L-max-score.svg)');
  });

  it('report.json round-trips through its schema', () => {
    const report = evaluateResults(handMadeResults(), {
      groundTruth: parseGroundTruth(HAND_MADE_GROUND_TRUTH_CSV),
    });
    expect(EvalReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(EvalReportSchema.safeParse({ ...report, layers: [{ layer: 'L' }] }).success).toBe(false);
  });
});
