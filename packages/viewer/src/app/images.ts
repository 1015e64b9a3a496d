import { missingImageText, type SiteImage } from '../site-data';
import { h } from './dom';
import { renderHeatmap } from './heatmap-render';

/** The side of a tile's frame, in CSS pixels. */
const TILE = 112;

/** What one image tile shows. */
export interface ImageTile {
  image: SiteImage;
  /** The caption's first line, e.g. "#1". */
  title: string;
  activation?: number;
  /** A heatmap (site path or data URI) laid over the image. */
  heatmap?: string;
}

/** A tile's frame for an image it cannot show: it says so and shows the path. */
function placeholder(image: SiteImage, why: string): HTMLElement {
  return h(
    'div',
    {
      class: 'tile-frame placeholder',
      role: 'img',
      'aria-label': `Image not available: ${image.uri}`,
      title: why,
    },
    h('span', { class: 'placeholder-title' }, 'Image not available'),
    h('span', { class: 'placeholder-path' }, image.uri),
  );
}

/**
 * One image: the thumbnail (with its heatmap overlaid when there is one) or, when the site has
 * no thumbnail, a placeholder that says so and shows the path.
 */
export function imageTile(tile: ImageTile): HTMLElement {
  const { image } = tile;
  const picture = h('img', {
    src: image.thumb,
    alt: `Image ${image.id || image.uri}`,
    loading: 'lazy',
    width: TILE,
    height: TILE,
  });
  // An image whose server does not send it says so, as a missing one does.
  picture.addEventListener(
    'error',
    () => frame.replaceWith(placeholder(image, 'the image could not be loaded from its address')),
    { once: true },
  );
  const plainHeatmap = tile.heatmap
    ? h('img', { class: 'heatmap', src: tile.heatmap, alt: '', 'aria-hidden': 'true' })
    : null;
  const frame = image.thumb
    ? h(
        'div',
        { class: 'tile-frame' },
        // The original, full size, where the image has an address of its own.
        image.href
          ? h(
              'a',
              { href: image.href, target: '_blank', rel: 'noopener noreferrer', title: 'Open the original' },
              picture,
            )
          : picture,
        plainHeatmap,
      )
    : placeholder(image, missingImageText(image));
  if (image.thumb && tile.heatmap && plainHeatmap)
    // Drawn once both images are in; until then (or if they cannot be read) the plain overlay shows.
    renderHeatmap(picture, tile.heatmap, plainHeatmap, TILE).catch(() => {});
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
