import { missingImageText, type SiteImage } from '../site-data';
import { h } from './dom';

/** What one image tile shows. */
export interface ImageTile {
  image: SiteImage;
  /** The caption's first line, e.g. "#1". */
  title: string;
  activation?: number;
  /** A heatmap (site path or data URI) laid over the image. */
  heatmap?: string;
}

/**
 * One image: the thumbnail (with its heatmap overlaid when there is one) or, when the site has
 * no thumbnail, a placeholder that says so and shows the path.
 */
export function imageTile(tile: ImageTile): HTMLElement {
  const { image } = tile;
  const frame = image.thumb
    ? h(
        'div',
        { class: 'tile-frame' },
        h('img', {
          src: image.thumb,
          alt: `Image ${image.id || image.uri}`,
          loading: 'lazy',
          width: 112,
          height: 112,
        }),
        tile.heatmap
          ? h('img', { class: 'heatmap', src: tile.heatmap, alt: '', 'aria-hidden': 'true' })
          : null,
      )
    : h(
        'div',
        {
          class: 'tile-frame placeholder',
          role: 'img',
          'aria-label': `Image not available: ${image.uri}`,
          title: missingImageText(image),
        },
        h('span', { class: 'placeholder-title' }, 'Image not available'),
        h('span', { class: 'placeholder-path' }, image.uri),
      );
  return h(
    'figure',
    { class: 'tile' },
    frame,
    h(
      'figcaption',
      {},
      h('span', {}, tile.title),
      tile.activation === undefined
        ? null
        : h('span', { class: 'activation' }, `act ${tile.activation.toFixed(3)}`),
    ),
  );
}
