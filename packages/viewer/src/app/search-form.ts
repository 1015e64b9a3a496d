import { type SearchRoute, SITE_MATCH_MODES, type SiteMatchMode, searchRoute } from '../route';
import type { AppContext } from './context';
import { h } from './dom';
import { SIGNIFICANCE_RULE, siteHasSignificance } from './trust-text';

const MATCH_LABELS: Record<SiteMatchMode, string> = {
  exact: 'Exact (ignores case)',
  stem: 'Word forms (stripe, striped)',
  fuzzy: 'Fuzzy (allows typos)',
};

/** The concept search form; submitting it goes to the search page (`autofocus`: the box takes the focus). */
export function searchForm(
  ctx: AppContext,
  current?: SearchRoute,
  options: { autofocus?: boolean } = {},
): HTMLFormElement {
  const input = h('input', {
    ...(options.autofocus ? { autofocus: true } : {}),
    id: 'concept-query',
    name: 'q',
    type: 'search',
    value: current?.query ?? '',
    placeholder: 'e.g. striped, dog, sky',
    autocomplete: 'off',
    'data-focus-key': 'search-query',
  });
  const match = h(
    'select',
    { id: 'concept-match', name: 'match', 'data-focus-key': 'search-match' },
    SITE_MATCH_MODES.map((m) =>
      h('option', { value: m, selected: m === (current?.match ?? 'exact') }, MATCH_LABELS[m]),
    ),
    h('option', { value: 'semantic', disabled: true }, 'Semantic (needs concept embeddings)'),
  );
  const layer = h(
    'select',
    { id: 'concept-layer', name: 'layer', 'data-focus-key': 'search-layer' },
    h('option', { value: '' }, 'All layers'),
    ctx.manifest.layers.map((l) =>
      h('option', { value: l.name, selected: l.name === current?.layer }, l.name),
    ),
  );
  const order = h(
    'select',
    { id: 'concept-order', name: 'order', 'data-focus-key': 'search-order' },
    h('option', { value: 'score', selected: current?.order !== 'rank' }, 'By score (as the report)'),
    h('option', { value: 'rank', selected: current?.order === 'rank' }, 'By rank, then score'),
  );
  // Offered only where the site has significance figures (Results version 2 with a null).
  const significant = siteHasSignificance(ctx.manifest)
    ? h('input', {
        id: 'concept-significant',
        name: 'significant',
        type: 'checkbox',
        checked: current?.significant === true,
        'data-focus-key': 'search-significant',
      })
    : undefined;
  const form = h(
    'form',
    { class: 'search-form', role: 'search', 'aria-label': 'Concept search' },
    h('div', { class: 'field' }, h('label', { for: 'concept-query' }, 'Concept'), input),
    h('div', { class: 'field' }, h('label', { for: 'concept-match' }, 'Match'), match),
    h('div', { class: 'field' }, h('label', { for: 'concept-layer' }, 'Layer'), layer),
    h('div', { class: 'field' }, h('label', { for: 'concept-order' }, 'Order'), order),
    significant
      ? h(
          'div',
          { class: 'field checkbox' },
          significant,
          h('label', { for: 'concept-significant' }, `Significant only (${SIGNIFICANCE_RULE})`),
        )
      : null,
    h('button', { type: 'submit', 'data-focus-key': 'search-submit' }, 'Search'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const query = input.value.trim();
    ctx.navigate(
      searchRoute(query, {
        match: match.value as SiteMatchMode,
        ...(layer.value === '' ? {} : { layer: layer.value }),
        ...(current?.labeler === undefined ? {} : { labeler: current.labeler }),
        ...(significant?.checked ? { significant: true } : {}),
        ...(order.value === 'rank' ? { order: 'rank' as const } : {}),
      }),
    );
  });
  return form;
}
