import { formatRoute, layerRoute, type NeuronRoute, searchRoute } from '../../route';
import type { AppContext } from '../context';
import { formatNumber, h } from '../dom';
import { relationsView } from '../relations-view';
import { topImagesView } from '../top-images';
import {
  hasLabelTrust,
  heldOutText,
  significanceText,
  significanceVerdict,
  stabilityText,
  TRUST_DOCS,
} from '../trust-text';
import { renderNotFound } from './not-found';

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The units before and after `unit` in the layer, for previous/next. */
export function neighbours(units: readonly number[], unit: number): { previous?: number; next?: number } {
  const i = units.indexOf(unit);
  return {
    ...(i > 0 ? { previous: units[i - 1] } : {}),
    ...(i >= 0 && i < units.length - 1 ? { next: units[i + 1] } : {}),
  };
}

/** Where the images come from, as recorded when the site was built. */
function imageSourceNote(ctx: AppContext): HTMLElement {
  const source = ctx.manifest.imageSource;
  const parts: (string | Node)[] = [];
  if (source?.base !== undefined) {
    parts.push('Images from ', h('code', {}, source.base), ' + each image’s path in the probe set');
    parts.push(
      source.local
        ? ' (thumbnails of a local copy; click one for the original).'
        : '; click one for the original.',
    );
  } else if (source?.local)
    parts.push('Thumbnails of the probe images on the disk where the site was built.');
  else if (ctx.manifest.images.thumbnails > 0) parts.push('Images from the addresses the Results give.');
  else
    parts.push(
      'The site was built without the probe images (neurodissect site --image-root DIR or --image-base URL adds them).',
    );
  return h('p', { class: 'hint image-source' }, parts);
}

/** One neuron: its labels per labeler, its top images, similar neurons, previous/next. */
export async function renderNeuron(
  ctx: AppContext,
  route: NeuronRoute,
): Promise<{ title: string; content: Node }> {
  const entry = ctx.layer(route.layer);
  if (entry === undefined) return renderNotFound(`The site has no layer "${route.layer}".`);
  const data = await ctx.layerData(route.layer);
  const neuron = data.neurons.find((n) => n.unit === route.unit);
  if (neuron === undefined) {
    const units = entry.unitList;
    return renderNotFound(
      `Layer ${route.layer} has no unit ${route.unit}; its units run from ${units[0] ?? '–'} to ${units[units.length - 1] ?? '–'}.`,
    );
  }
  const { previous, next } = neighbours(entry.unitList, route.unit);
  const unitLink = (unit: number | undefined, text: string, rel: string, key: string) =>
    unit === undefined
      ? h('span', { class: 'disabled', 'aria-disabled': 'true' }, text)
      : h(
          'a',
          { href: formatRoute({ kind: 'neuron', layer: route.layer, unit }), rel, 'data-focus-key': key },
          `${text} (unit ${unit})`,
        );

  const labelerSection = (labeler: (typeof ctx.manifest.labelers)[number]) => {
    const labels = neuron.labels[labeler.id].slice(0, 10);
    const hasVotes = labels.some((l) => l.votes !== undefined);
    const table = h(
      'table',
      { class: 'data-table labels', 'data-labeler': labeler.id },
      h('caption', {}, `Top ${labels.length} labels by ${labeler.id}`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Rank'),
          h('th', { scope: 'col' }, 'Label'),
          h('th', { scope: 'col' }, 'Score'),
          hasVotes ? h('th', { scope: 'col' }, 'Votes') : null,
        ),
      ),
      h(
        'tbody',
        {},
        labels.map((label, i) =>
          h(
            'tr',
            {},
            h('td', { class: 'num' }, i + 1),
            h(
              'td',
              {},
              h('a', { href: formatRoute(searchRoute(label.label)), class: 'label-link' }, label.label),
            ),
            h('td', { class: 'num' }, formatNumber(label.score, 4)),
            hasVotes ? h('td', { class: 'num' }, label.votes ?? '–') : null,
          ),
        ),
      ),
    );
    const trust = neuron.trust?.[labeler.id];
    if (!hasLabelTrust(trust) || labels.length === 0) return table;
    const layerTrust = entry.trust?.[labeler.id];
    const { significance, stability, heldOut } = trust;
    return [
      table,
      h(
        'div',
        { class: 'trust', 'data-labeler': labeler.id },
        h('p', {}, `How far to trust “${labels[0].label}”, ${labeler.id}'s best label:`),
        h(
          'ul',
          {},
          significance
            ? h(
                'li',
                { 'data-trust': 'significance' },
                h('strong', {}, `${capitalise(significanceVerdict(significance))}: `),
                `${significanceText(significance, layerTrust?.null?.permutations)}.`,
              )
            : null,
          stability
            ? h(
                'li',
                { 'data-trust': 'stability' },
                h('strong', {}, 'Stability: '),
                `${stabilityText(stability)}.`,
              )
            : null,
          heldOut
            ? h(
                'li',
                { 'data-trust': 'held-out' },
                h('strong', {}, 'On held-out images: '),
                `${heldOutText(heldOut, layerTrust?.heldOut?.baseline)}.`,
              )
            : null,
        ),
        h(
          'p',
          { class: 'hint' },
          'What these numbers mean: ',
          h('code', {}, TRUST_DOCS),
          ' in the neurodissect repository.',
        ),
      ),
    ];
  };
  const labelSections = ctx.manifest.labelers
    .filter((l) => neuron.labels[l.id] !== undefined)
    .map((labeler, i) =>
      h('div', { class: i === 0 ? 'labeler-block primary' : 'labeler-block other' }, labelerSection(labeler)),
    );

  const { grid, heatmapToggle } = topImagesView(neuron, data);

  const similar = h(
    'div',
    { 'aria-live': 'polite', class: 'similar' },
    h('p', {}, 'Finding similar neurons…'),
  );
  ctx
    .searchIndex([route.layer])
    .then((index) => {
      const found = index.similarNeurons(route.layer, route.unit, { limit: 10 });
      similar.replaceChildren(
        found.length === 0
          ? h('p', {}, 'No neuron in this layer shares a label or a top image with this one.')
          : h(
              'ol',
              { class: 'similar-list' },
              found.map((n) =>
                h(
                  'li',
                  {},
                  h(
                    'a',
                    { href: formatRoute({ kind: 'neuron', layer: n.layer, unit: n.unit }) },
                    `unit ${n.unit}`,
                  ),
                  ` similarity ${n.similarity.toFixed(3)}`,
                  n.sharedLabels.length > 0
                    ? ` · shared labels: ${n.sharedLabels.slice(0, 5).join(', ')}`
                    : '',
                  n.sharedImages > 0 ? ` · ${n.sharedImages} shared images` : '',
                ),
              ),
            ),
      );
    })
    .catch((error: Error) => similar.replaceChildren(h('p', { role: 'alert' }, error.message)));

  const content = h(
    'div',
    { class: 'page neuron', 'data-layer': route.layer, 'data-unit': route.unit },
    h(
      'nav',
      { class: 'breadcrumbs', 'aria-label': 'Breadcrumbs' },
      h('a', { href: '#/' }, 'Overview'),
      ' › ',
      h('a', { href: formatRoute(layerRoute(route.layer)) }, route.layer),
    ),
    h('h1', { tabindex: '-1' }, `${route.layer} · unit ${route.unit}`),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Neighbouring neurons' },
      unitLink(previous, '← Previous', 'prev', 'neuron-prev'),
      unitLink(next, 'Next →', 'next', 'neuron-next'),
      h('span', { class: 'hint' }, 'Keys: ← / → previous and next neuron, / search'),
    ),
    neuron.issues && neuron.issues.length > 0
      ? h(
          'div',
          { class: 'issues', role: 'note' },
          h('h2', {}, 'Issues'),
          h(
            'ul',
            {},
            neuron.issues.map((i) => h('li', {}, i)),
          ),
        )
      : null,
    h(
      'section',
      { class: 'labels-section', 'aria-labelledby': 'labels-heading' },
      h('h2', { id: 'labels-heading' }, 'Labels'),
      labelSections.length > 0 ? labelSections : h('p', {}, 'No labels.'),
    ),
    h(
      'section',
      { class: 'images-section', 'aria-labelledby': 'images-heading' },
      h('h2', { id: 'images-heading' }, `Top ${neuron.topImages.length} activating images`),
      imageSourceNote(ctx),
      heatmapToggle,
      grid,
    ),
    relationsView(ctx, neuron),
    h(
      'section',
      { class: 'similar-section', 'aria-labelledby': 'similar-heading' },
      h('h2', { id: 'similar-heading' }, 'Similar neurons'),
      similar,
    ),
  );
  return { title: `${route.layer} unit ${route.unit} — ${ctx.manifest.title}`, content };
}
