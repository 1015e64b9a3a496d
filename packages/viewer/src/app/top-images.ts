import type { ResultsNeuron } from '@neurodissect/core';
import type { SiteLayerData } from '../site-data';
import { h } from './dom';
import { imageTile } from './images';

/** Options of {@link topImagesView}. */
export interface TopImagesOptions {
  /** Show each image's activation under it. @defaultValue true */
  activations?: boolean;
  /** Show only the first this many images. @defaultValue all */
  limit?: number;
}

/**
 * A neuron's top activating images as tiles (thumbnails with their heatmaps laid over: the region
 * above the unit's threshold kept and outlined, the rest darkened, or a colour overlay), and the
 * switches that hide the heatmaps and choose the colour overlay when there are any: what the
 * neuron page and label mode both show.
 */
export function topImagesView(
  neuron: ResultsNeuron,
  data: SiteLayerData,
  options: TopImagesOptions = {},
): { grid: HTMLElement; heatmapToggle: HTMLElement | null } {
  const activations = options.activations ?? true;
  const grid = h(
    'div',
    { class: 'tiles' },
    neuron.topImages.slice(0, options.limit).map((top, i) =>
      imageTile({
        image: data.images[top.image] ?? { uri: `probe image ${top.image}` },
        title: `#${i + 1}`,
        ...(top.activation === undefined || !activations ? {} : { activation: top.activation }),
        ...(top.heatmap === undefined ? {} : { heatmap: top.heatmap }),
      }),
    ),
  );
  const heatmapToggle = neuron.topImages.slice(0, options.limit).some((t) => t.heatmap !== undefined)
    ? h(
        'span',
        { class: 'heatmap-controls' },
        h(
          'label',
          { class: 'toggle' },
          h('input', {
            type: 'checkbox',
            checked: true,
            'data-focus-key': 'heatmaps',
            onchange: (event: Event) =>
              grid.classList.toggle('hide-heatmaps', !(event.target as HTMLInputElement).checked),
          }),
          ' Show activation heatmaps',
        ),
        h(
          'label',
          {
            class: 'toggle',
            title: 'Instead of keeping the region above the unit’s threshold and darkening the rest',
          },
          h('input', {
            type: 'checkbox',
            'data-focus-key': 'heatmap-colours',
            onchange: (event: Event) =>
              grid.classList.toggle('heatmap-colours', (event.target as HTMLInputElement).checked),
          }),
          ' As a colour overlay',
        ),
      )
    : null;
  return { grid, heatmapToggle };
}
