import { formatRoute, layerRoute } from '../../route';
import { interpretabilityView } from '../charts';
import type { AppContext } from '../context';
import { h } from '../dom';
import { searchForm } from '../search-form';
import { layerSignificanceText, siteHasSignificance } from '../trust-text';

/** The concept set's name and size; imports that do not know the size say so. */
function conceptsText(concepts: { name: string; size: number }): string {
  return concepts.size > 0
    ? `${concepts.name} (${concepts.size.toLocaleString('en')} concepts)`
    : `${concepts.name} (size not recorded)`;
}

/** The overview: the model and run, the layers with their interpretability, and the search box. */
export function renderOverview(ctx: AppContext): { title: string; content: Node } {
  const m = ctx.manifest;
  const labeler = m.labelers[0]?.id;
  const facts: [string, string][] = [
    ['Model', m.model.name],
    ['Made by', `${m.run.kind} (${m.run.tool.name} ${m.run.tool.version}), ${m.run.createdAt}`],
    ...(m.run.runtime
      ? ([['Runtime', `${m.run.runtime.name} (${m.run.runtime.executionProvider})`]] as [string, string][])
      : []),
    [
      'Probe images',
      `${m.probe.name}: ${m.probe.images} images, ${m.images.shown} shown as top images (${m.images.thumbnails} with thumbnails)`,
    ],
    ['Concepts', conceptsText(m.concepts)],
    ['Labelers', m.labelers.map((l) => `${l.id} ${l.version}`).join(', ') || 'none'],
    ['Neurons', `${m.layers.reduce((n, l) => n + l.neurons, 0)} in ${m.layers.length} layers`],
  ];
  const report = m.report;
  // Ground-truth accuracy from the eval report, per layer and labeler, when it has a ground truth.
  const accuracyCell = (layer: (typeof m.layers)[number]) => {
    const lines = (report?.accuracy ?? [])
      .filter((a) => a.layer === layer.name)
      .map((a) =>
        h(
          'li',
          { 'data-labeler': a.labeler },
          `${several ? `${a.labeler}: ` : ''}${a.interpretable} of ${a.total} interpretable; top-1 right ${a.top1}, top-5 ${a.top5}`,
        ),
      );
    return h('td', { class: 'ground-truth' }, lines.length > 0 ? h('ul', { class: 'plain' }, lines) : '–');
  };
  const withAccuracy = (report?.accuracy.length ?? 0) > 0;
  // Significance counts get a column only where some layer has them (Results version 2).
  const withSignificance = siteHasSignificance(m);
  const several = m.labelers.length > 1;
  const significanceCell = (layer: (typeof m.layers)[number]) => {
    const lines = m.labelers.flatMap((l) => {
      const text = layerSignificanceText(layer.trust?.[l.id]);
      return text === undefined
        ? []
        : [h('li', { 'data-labeler': l.id }, several ? `${l.id}: ${text}` : text)];
    });
    return h('td', { class: 'significance' }, lines.length > 0 ? h('ul', { class: 'plain' }, lines) : '–');
  };
  const rows = m.layers.map((layer) => {
    const summary = labeler === undefined ? undefined : layer.summaries[labeler];
    return h(
      'tr',
      { 'data-layer': layer.name },
      h('th', { scope: 'row' }, h('a', { href: formatRoute(layerRoute(layer.name)) }, layer.name)),
      h('td', { class: 'num' }, layer.units),
      h('td', { class: 'num' }, layer.neurons),
      h('td', {}, summary ? interpretabilityView(summary) : '–'),
      withAccuracy ? accuracyCell(layer) : null,
      withSignificance ? significanceCell(layer) : null,
    );
  });
  const content = h(
    'div',
    { class: 'page overview' },
    h('h1', { tabindex: '-1' }, m.title),
    h(
      'dl',
      { class: 'facts' },
      facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      report
        ? [
            h('dt', {}, 'Evaluation'),
            h(
              'dd',
              {},
              h('a', { href: report.href, class: 'report-link' }, 'The evaluation report'),
              report.groundTruth
                ? ` (against ${report.groundTruth.source}, ${report.groundTruth.neurons} neurons)`
                : ' (scores only: no ground truth)',
            ),
          ]
        : null,
    ),
    h(
      'section',
      { 'aria-labelledby': 'search-heading' },
      h('h2', { id: 'search-heading' }, 'Find neurons by concept'),
      searchForm(ctx),
    ),
    h(
      'section',
      { 'aria-labelledby': 'layers-heading' },
      h('h2', { id: 'layers-heading' }, 'Layers'),
      h(
        'table',
        { class: 'data-table layers' },
        h(
          'caption',
          {},
          labeler === undefined ? 'Layers' : `Interpretable neurons by ${labeler}'s top-label score`,
          withAccuracy
            ? `, beside the eval report's ground truth (${report!.groundTruth?.source ?? 'given'}: how many neurons a person judged interpretable, and how many of those the labels name right)`
            : '',
        ),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Layer'),
            h('th', { scope: 'col' }, 'Units'),
            h('th', { scope: 'col' }, 'Neurons'),
            h('th', { scope: 'col' }, 'Interpretable by score'),
            withAccuracy ? h('th', { scope: 'col' }, 'By ground truth (report)') : null,
            withSignificance ? h('th', { scope: 'col' }, 'Significant labels') : null,
          ),
        ),
        h('tbody', {}, rows),
      ),
    ),
    m.failures.length === 0
      ? null
      : h(
          'section',
          { 'aria-labelledby': 'failures-heading' },
          h('h2', { id: 'failures-heading' }, 'Failures'),
          h(
            'ul',
            {},
            m.failures.map((f) => h('li', {}, `${f.stage}${f.layer ? ` (${f.layer})` : ''}: ${f.message}`)),
          ),
        ),
  );
  return { title: m.title, content };
}
