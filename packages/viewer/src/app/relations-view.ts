import type { ResultsNeuron } from '@neurodissect/core';
import { formatRoute } from '../route';
import type { AppContext } from './context';
import { h } from './dom';

/** A related unit's best label: the first labeler (in the site's order) that labelled it. */
function bestLabel(ctx: AppContext, neuron: ResultsNeuron | undefined): string | undefined {
  for (const labeler of ctx.manifest.labelers) {
    const label = neuron?.labels[labeler.id]?.[0]?.label;
    if (label !== undefined) return label;
  }
  return undefined;
}

/**
 * The neuron page's relations: per other layer, the units this neuron fires with (most correlated
 * over the probe images first), each a link with its label, e.g. "layer3 #12 striped, r = 0.81".
 * Labels of other layers load as their data does; nothing is shown for a neuron without relations.
 */
export function relationsView(ctx: AppContext, neuron: ResultsNeuron): HTMLElement | null {
  const relations = neuron.relations ?? [];
  if (relations.length === 0) return null;
  const groups = relations.map((relation) => {
    // A layer that was related to but not dissected has no labels, nor pages of its own.
    const known = ctx.layer(relation.layer) !== undefined;
    const list = h(
      'ol',
      { class: 'relations-list' },
      relation.units.map(({ unit, r }) =>
        h(
          'li',
          { 'data-layer': relation.layer, 'data-unit': unit },
          known
            ? h(
                'a',
                { href: formatRoute({ kind: 'neuron', layer: relation.layer, unit }) },
                `${relation.layer} #${unit}`,
              )
            : `${relation.layer} #${unit}`,
          h('span', { class: 'relation-label' }),
          `, r = ${r.toFixed(2)}`,
        ),
      ),
    );
    if (known) {
      ctx
        .layerData(relation.layer)
        .then((data) => {
          for (const item of list.querySelectorAll<HTMLElement>('li')) {
            const label = bestLabel(
              ctx,
              data.neurons.find((n) => n.unit === Number(item.dataset.unit)),
            );
            if (label !== undefined)
              item.querySelector('.relation-label')?.replaceChildren(' ', h('em', {}, label));
          }
        })
        .catch(() => {
          // The links work without the labels.
        });
    }
    const heading =
      relation.direction === 'from'
        ? `Fires with ${relation.layer} (before)`
        : `Fires with ${relation.layer} (after)`;
    return h('div', { class: 'relations-group' }, h('h3', {}, heading), list);
  });
  return h(
    'section',
    { class: 'relations-section', 'aria-labelledby': 'relations-heading' },
    h('h2', { id: 'relations-heading' }, 'Fires with'),
    h(
      'p',
      { class: 'hint' },
      'Units of other layers whose activations over the probe images correlate most with this one (Pearson r).',
    ),
    groups,
  );
}
