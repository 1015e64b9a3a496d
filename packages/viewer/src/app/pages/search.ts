import type { SearchResult } from '@neurodissect/search';
import { formatRoute, layerRoute, type SearchRoute } from '../../route';
import type { AppContext } from '../context';
import { formatNumber, h } from '../dom';
import { imageTile } from '../images';
import { searchForm } from '../search-form';
import { formatProbability, hasSignificance, SIGNIFICANCE_RULE } from '../trust-text';

/** Hits shown per layer before "show all". */
const FIRST_HITS = 50;
/** Example images per layer: the first top image of the best hits. */
const EXAMPLES = 6;

/** The concept search: per layer the count, example images and the neurons, best first. */
export async function renderSearch(
  ctx: AppContext,
  route: SearchRoute,
): Promise<{ title: string; content: Node }> {
  const page = h(
    'div',
    { class: 'page search' },
    h('h1', { tabindex: '-1' }, route.query === '' ? 'Concept search' : `Concept search: ${route.query}`),
    searchForm(ctx, route, { autofocus: route.query === '' }),
  );
  const title = `${route.query === '' ? 'Concept search' : `"${route.query}"`} — ${ctx.manifest.title}`;
  if (route.query === '') {
    page.append(h('p', {}, 'Type a concept to find the neurons labelled with it in every layer.'));
    return { title, content: page };
  }
  if (route.layer !== undefined && ctx.layer(route.layer) === undefined) {
    page.append(
      h('p', { role: 'alert' }, `The site has no layer "${route.layer}"; choose one from the list.`),
    );
    return { title, content: page };
  }
  const layers = route.layer === undefined ? undefined : [route.layer];
  const index = await ctx.searchIndex(layers);
  let result: SearchResult;
  try {
    result = index.search(route.query, {
      match: route.match,
      ...(route.labeler === undefined ? {} : { labelers: [route.labeler] }),
      ...(route.significant ? { significant: true } : {}),
      order: route.order ?? 'score',
    });
  } catch (error) {
    page.append(h('p', { role: 'alert' }, (error as Error).message));
    return { title, content: page };
  }
  const withHits = result.layers.filter((l) => l.count > 0).length;
  page.append(
    h(
      'p',
      { class: 'summary', role: 'status' },
      `${result.total} neuron${result.total === 1 ? '' : 's'} in ${withHits} of ${result.layers.length} layer${result.layers.length === 1 ? '' : 's'} (${route.match} match, ${result.labelers.join(', ')}${route.significant ? `, significant only: ${SIGNIFICANCE_RULE}` : ''}).`,
    ),
  );
  if (result.closest !== undefined && result.closest.length > 0) {
    page.append(
      h(
        'p',
        { class: 'closest', role: 'note' },
        `No label is “${route.query}”. Closest: `,
        result.closest.map((m, i) => [
          i > 0 ? ', ' : '',
          h('a', { href: formatRoute({ ...route, query: m.label, match: 'exact', all: false }) }, m.label),
          ` (${m.occurrences})`,
        ]),
        ' · ',
        h('a', { href: formatRoute({ ...route, match: 'fuzzy', all: false }) }, 'search with typos allowed'),
      ),
    );
  }
  if (route.significant) {
    const searched = result.layers.map((l) => ctx.layer(l.layer)).filter((l) => l !== undefined);
    const untested = result.labelers.filter((id) => !hasSignificance(searched, id));
    if (untested.length > 0)
      page.append(
        h(
          'p',
          { class: 'note', role: 'note' },
          `${untested.join(', ')}: no significance figures in ${route.layer ?? 'these layers'}, so no neuron is kept.`,
        ),
      );
  }
  // One labeler at a time (their scores are on different scales): the count of each, to switch.
  if (result.byLabeler.length > 1) {
    page.append(
      h(
        'p',
        { class: 'labelers' },
        'Labelers: ',
        result.byLabeler.map((b, i) => [
          i > 0 ? ', ' : '',
          result.labelers.includes(b.labeler)
            ? h('strong', { 'data-labeler': b.labeler }, `${b.labeler} (${b.count})`)
            : h(
                'a',
                {
                  href: formatRoute({ ...route, labeler: b.labeler, all: false }),
                  'data-labeler': b.labeler,
                },
                `${b.labeler} (${b.count})`,
              ),
        ]),
      ),
    );
  }
  if (route.match !== 'exact' && result.matchedLabels.length > 0) {
    page.append(
      h(
        'p',
        { class: 'matched' },
        'Matched labels: ',
        result.matchedLabels
          .slice(0, 20)
          .map((m, i) => [i > 0 ? ', ' : '', h('span', { class: 'label' }, m.label)]),
        result.matchedLabels.length > 20 ? ` … (${result.matchedLabels.length} in all)` : '',
      ),
    );
  }
  const several = result.labelers.length > 1;
  const layerData = new Map(
    await Promise.all(result.layers.map(async (l) => [l.layer, await ctx.layerData(l.layer)] as const)),
  );
  for (const group of result.layers) {
    const headingId = `layer-${result.layers.indexOf(group)}-heading`;
    const section = h(
      'section',
      { class: 'layer-hits', 'aria-labelledby': headingId, 'data-layer': group.layer },
      h(
        'h2',
        { id: headingId },
        h('a', { href: formatRoute(layerRoute(group.layer)) }, group.layer),
        ` — ${group.count} neuron${group.count === 1 ? '' : 's'}`,
      ),
    );
    page.append(section);
    if (group.count === 0) continue;
    const data = layerData.get(group.layer)!;
    const byUnit = new Map(data.neurons.map((n) => [n.unit, n]));
    const examples: HTMLElement[] = [];
    for (const hit of group.hits) {
      if (examples.length >= EXAMPLES) break;
      const top = byUnit.get(hit.unit)?.topImages[0];
      if (top === undefined) continue;
      const image = data.images[top.image];
      if (image)
        examples.push(
          imageTile({
            image,
            title: `unit ${hit.unit}`,
            ...(top.activation === undefined ? {} : { activation: top.activation }),
          }),
        );
    }
    if (examples.length > 0)
      section.append(
        h('div', { class: 'tiles examples', 'aria-label': `Example images from ${group.layer}` }, examples),
      );
    const shown = route.all ? group.hits : group.hits.slice(0, FIRST_HITS);
    const withQ = group.hits.some((hit) => hit.significance !== undefined);
    section.append(
      h(
        'table',
        { class: 'data-table hits' },
        h(
          'caption',
          {},
          route.order === 'rank'
            ? `Neurons of ${group.layer} labelled "${route.query}", best rank first, then best score`
            : `Neurons of ${group.layer} labelled "${route.query}", highest score first`,
        ),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Unit'),
            h('th', { scope: 'col' }, 'Label'),
            h('th', { scope: 'col' }, 'Rank'),
            h('th', { scope: 'col' }, 'Score'),
            withQ ? h('th', { scope: 'col' }, 'q (best label)') : null,
            several ? h('th', { scope: 'col' }, 'Labeler') : null,
          ),
        ),
        h(
          'tbody',
          {},
          shown.map((hit) =>
            h(
              'tr',
              {},
              h(
                'td',
                {},
                h(
                  'a',
                  { href: formatRoute({ kind: 'neuron', layer: hit.layer, unit: hit.unit }) },
                  `unit ${hit.unit}`,
                ),
              ),
              h('td', {}, hit.label),
              h('td', { class: 'num' }, hit.rank),
              h('td', { class: 'num' }, formatNumber(hit.score, 4)),
              withQ
                ? h(
                    'td',
                    { class: 'num' },
                    hit.significance === undefined ? '–' : formatProbability(hit.significance.q),
                  )
                : null,
              several ? h('td', {}, hit.labeler) : null,
            ),
          ),
        ),
      ),
    );
    if (shown.length < group.hits.length) {
      section.append(
        h(
          'p',
          {},
          h(
            'a',
            { href: formatRoute({ ...route, all: true }) },
            `Show all ${group.count} neurons of ${group.layer}`,
          ),
        ),
      );
    }
  }
  return { title, content: page };
}
