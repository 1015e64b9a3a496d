import type { ResultsNeuron } from '@neurodissect/core';
import { defaultOrder, formatRoute, type LayerRoute, type LayerSort, layerRoute } from '../../route';
import { histogramChart, interpretabilityView, labelChart } from '../charts';
import type { AppContext } from '../context';
import { formatNumber, h } from '../dom';
import { layerHeldOutText, layerSignificanceText, TRUST_DOCS } from '../trust-text';
import { renderNotFound } from './not-found';

/** Rows per page of the neuron table. */
export const PAGE_SIZE = 50;

/** One row of the neuron table. */
export interface NeuronRow {
  unit: number;
  label: string;
  score: number | undefined;
  /** Every label of the neuron from the labeler, lower-cased, for the filter. */
  text: string;
  others: string[];
}

/** The table rows of a layer for one labeler. */
export function neuronRows(neurons: readonly ResultsNeuron[], labeler: string | undefined): NeuronRow[] {
  return neurons.map((n) => {
    const labels = labeler === undefined ? [] : (n.labels[labeler] ?? []);
    return {
      unit: n.unit,
      label: labels[0]?.label ?? '',
      score: labels[0]?.score,
      text: labels.map((l) => l.label.toLowerCase()).join('\n'),
      others: labels.slice(1, 5).map((l) => l.label),
    };
  });
}

/** Filters (any label contains the text, or the unit number equals it) and sorts the rows. */
export function selectRows(
  rows: readonly NeuronRow[],
  route: Pick<LayerRoute, 'filter' | 'sort' | 'order'>,
): NeuronRow[] {
  const filter = route.filter.trim().toLowerCase();
  const kept =
    filter === '' ? [...rows] : rows.filter((r) => r.text.includes(filter) || String(r.unit) === filter);
  const sign = route.order === 'asc' ? 1 : -1;
  const compare: Record<LayerSort, (a: NeuronRow, b: NeuronRow) => number> = {
    unit: (a, b) => a.unit - b.unit,
    score: (a, b) =>
      (a.score ?? Number.NEGATIVE_INFINITY) - (b.score ?? Number.NEGATIVE_INFINITY) || b.unit - a.unit,
    label: (a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : a.unit - b.unit),
  };
  return kept.sort((a, b) => sign * compare[route.sort](a, b));
}

/** A layer: its summary charts and the sortable, filterable, paged neuron table. */
export async function renderLayer(
  ctx: AppContext,
  route: LayerRoute,
): Promise<{ title: string; content: Node }> {
  const entry = ctx.layer(route.layer);
  if (entry === undefined) return renderNotFound(`The site has no layer "${route.layer}".`);
  const labelers = ctx.manifest.labelers.map((l) => l.id);
  const labeler =
    route.labeler !== undefined && labelers.includes(route.labeler) ? route.labeler : labelers[0];
  const summary = labeler === undefined ? undefined : entry.summaries[labeler];
  const data = await ctx.layerData(route.layer);
  const rows = neuronRows(data.neurons, labeler);
  let state: LayerRoute = { ...route };

  const tbody = h('tbody');
  const status = h('p', { class: 'summary', role: 'status', 'aria-live': 'polite' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Table pages' });
  const headers = new Map<LayerSort, HTMLTableCellElement>();

  const sortHeader = (sort: LayerSort, text: string) => {
    const th = h('th', { scope: 'col' });
    headers.set(sort, th);
    th.append(
      h(
        'button',
        {
          type: 'button',
          class: 'sort',
          'data-focus-key': `sort-${sort}`,
          onclick: () => {
            const order = state.sort === sort ? (state.order === 'asc' ? 'desc' : 'asc') : defaultOrder(sort);
            update({ sort, order, page: 0 });
          },
        },
        text,
      ),
    );
    return th;
  };

  function update(change: Partial<LayerRoute>): void {
    state = { ...state, ...change };
    history.replaceState(null, '', formatRoute(state));
    draw();
  }

  function draw(): void {
    const selected = selectRows(rows, state);
    const pages = Math.max(1, Math.ceil(selected.length / PAGE_SIZE));
    const page = Math.min(state.page, pages - 1);
    const shown = selected.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    tbody.replaceChildren(
      ...shown.map((row) =>
        h(
          'tr',
          {},
          h(
            'td',
            { class: 'num' },
            h(
              'a',
              { href: formatRoute({ kind: 'neuron', layer: route.layer, unit: row.unit }) },
              `unit ${row.unit}`,
            ),
          ),
          h('td', {}, row.label),
          h('td', { class: 'num' }, formatNumber(row.score, 4)),
          h('td', { class: 'others' }, row.others.join(', ')),
        ),
      ),
    );
    for (const [sort, th] of headers) {
      if (sort === state.sort)
        th.setAttribute('aria-sort', state.order === 'asc' ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    status.textContent =
      selected.length === rows.length
        ? `${rows.length} neurons; page ${page + 1} of ${pages}.`
        : `${selected.length} of ${rows.length} neurons match "${state.filter}"; page ${page + 1} of ${pages}.`;
    const button = (text: string, target: number, key: string) =>
      h(
        'button',
        {
          type: 'button',
          disabled: target < 0 || target >= pages,
          'data-focus-key': key,
          onclick: () => update({ page: target }),
        },
        text,
      );
    pager.replaceChildren(
      button('← Previous page', page - 1, 'page-prev'),
      h('span', {}, `Page ${page + 1} of ${pages}`),
      button('Next page →', page + 1, 'page-next'),
    );
  }

  const filter = h('input', {
    id: 'neuron-filter',
    type: 'search',
    value: route.filter,
    placeholder: 'label text or unit number',
    autocomplete: 'off',
    'data-focus-key': 'neuron-filter',
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  filter.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => update({ filter: filter.value, page: 0 }), 120);
  });

  const labelerSelect =
    labelers.length > 1
      ? h(
          'div',
          { class: 'field' },
          h('label', { for: 'layer-labeler' }, 'Labeler'),
          h(
            'select',
            {
              id: 'layer-labeler',
              onchange: (event: Event) =>
                ctx.navigate(layerRoute(route.layer, { labeler: (event.target as HTMLSelectElement).value })),
            },
            labelers.map((id) => h('option', { value: id, selected: id === labeler }, id)),
          ),
        )
      : null;

  // Per labeler, what the layer's trust figures say; nothing at all for Results without them.
  const trustLines = ctx.manifest.labelers.flatMap((l) => {
    const parts = [layerSignificanceText(entry.trust?.[l.id]), layerHeldOutText(entry.trust?.[l.id])].filter(
      (p) => p !== undefined,
    );
    return parts.length === 0 ? [] : [h('li', { 'data-labeler': l.id }, `${l.id}: ${parts.join('; ')}`)];
  });
  const trust =
    trustLines.length === 0
      ? null
      : h(
          'section',
          { 'aria-labelledby': 'trust-heading', class: 'trust' },
          h('h2', { id: 'trust-heading' }, 'How far to trust the labels'),
          h('ul', { class: 'plain' }, trustLines),
          h(
            'p',
            { class: 'hint' },
            'What these numbers mean: ',
            h('code', {}, TRUST_DOCS),
            ' in the neurodissect repository.',
          ),
        );

  const table = h(
    'table',
    { class: 'data-table neurons' },
    h('caption', {}, `Neurons of ${route.layer}${labeler ? ` with ${labeler}'s labels` : ''}`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        sortHeader('unit', 'Unit'),
        sortHeader('label', 'Top label'),
        sortHeader('score', 'Score'),
        h('th', { scope: 'col' }, 'Next labels'),
      ),
    ),
    tbody,
  );
  draw();

  const content = h(
    'div',
    { class: 'page layer', 'data-layer': route.layer },
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumbs' }, h('a', { href: '#/' }, 'Overview')),
    h('h1', { tabindex: '-1' }, `Layer ${route.layer}`),
    h(
      'p',
      {},
      `${entry.neurons} neurons of ${entry.units} units${data.summary ? `, activations summarised by ${data.summary}` : ''}.`,
    ),
    labelerSelect,
    trust,
    summary
      ? h(
          'section',
          { 'aria-labelledby': 'summary-heading', class: 'charts' },
          h('h2', { id: 'summary-heading' }, 'Summary'),
          h('div', { class: 'interpretable' }, interpretabilityView(summary)),
          h('h3', {}, 'Top-label scores'),
          histogramChart(summary.histogram, `Top-label scores of ${summary.labelled} labelled neurons`),
          h('h3', {}, 'Most frequent top labels'),
          labelChart(
            summary.labelFrequencies,
            `The ${summary.labelFrequencies.length} most frequent top labels`,
          ),
        )
      : null,
    h(
      'section',
      { 'aria-labelledby': 'neurons-heading' },
      h('h2', { id: 'neurons-heading' }, 'Neurons'),
      h('div', { class: 'field' }, h('label', { for: 'neuron-filter' }, 'Filter neurons'), filter),
      status,
      table,
      pager,
    ),
  );
  return { title: `Layer ${route.layer} — ${ctx.manifest.title}`, content };
}
