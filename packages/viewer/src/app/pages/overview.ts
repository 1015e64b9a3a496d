import { formatRoute, layerRoute } from '../../route';
import { interpretabilityView } from '../charts';
import type { AppContext } from '../context';
import { h } from '../dom';
import { searchForm } from '../search-form';
import { layerSignificanceText, siteHasSignificance } from '../trust-text';

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
    ['Concepts', `${m.concepts.name} (${m.concepts.size})`],
    ['Labelers', m.labelers.map((l) => `${l.id} ${l.version}`).join(', ') || 'none'],
    ['Neurons', `${m.layers.reduce((n, l) => n + l.neurons, 0)} in ${m.layers.length} layers`],
  ];
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
            h('th', { scope: 'col' }, 'Interpretable'),
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
