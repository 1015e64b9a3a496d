/**
 * The share of the neuron's largest activation (over its top images) above which a pixel is in the
 * unit's active region. The heatmaps hold each map relative to that largest activation, so one
 * threshold per unit holds across its tiles, as Network Dissection's per-unit threshold does.
 */
export const REGION_THRESHOLD = 0.5;

/** How much of its brightness a pixel outside the active region keeps. */
export const OUTSIDE_BRIGHTNESS = 0.25;

/** The outline drawn around the active region (just outside it, so the region stays as it is). */
const OUTLINE = [255, 214, 0] as const;

/** Where an image shown with `object-fit: contain` lies in its box. */
export interface ContentRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The rectangle an image of `naturalWidth`×`naturalHeight` fills in a `box`×`box` frame (contain). */
export function containRect(naturalWidth: number, naturalHeight: number, box: number): ContentRect {
  if (!(naturalWidth > 0 && naturalHeight > 0)) return { x: 0, y: 0, width: box, height: box };
  const wide = naturalWidth >= naturalHeight;
  const width = wide ? box : (naturalWidth * box) / naturalHeight;
  const height = wide ? (naturalHeight * box) / naturalWidth : box;
  return { x: (box - width) / 2, y: (box - height) / 2, width, height };
}

/**
 * The activation of each pixel (0 to 1) from a heatmap's pixels: core writes the map white where
 * the unit is silent and warm red where it fires most (blue falls from 255 to 0), so blue gives it.
 */
export function activationOf(rgba: Uint8ClampedArray): Float32Array {
  const out = new Float32Array(rgba.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = rgba[4 * i + 3] === 0 ? 0 : 1 - rgba[4 * i + 2] / 255;
  return out;
}

/**
 * The Network Dissection overlay over `activation` (`width`×`height`, upsampled to the image):
 * transparent over the active region (at least `threshold`), black that keeps
 * {@link OUTSIDE_BRIGHTNESS} of the image elsewhere, and an outline on the pixels just outside
 * the region. Pixels that `covered` marks 0 (outside the image, in its frame) stay transparent.
 */
export function regionOverlay(
  activation: Float32Array,
  width: number,
  height: number,
  covered: Uint8Array,
  threshold = REGION_THRESHOLD,
): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(width * height * 4);
  const active = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < width && y < height && activation[y * width + x] >= threshold;
  const dark = Math.round(255 * (1 - OUTSIDE_BRIGHTNESS));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!covered[i] || active(x, y)) continue;
      const edge = active(x - 1, y) || active(x + 1, y) || active(x, y - 1) || active(x, y + 1);
      if (edge) {
        out.set([OUTLINE[0], OUTLINE[1], OUTLINE[2], 255], 4 * i);
      } else {
        out[4 * i + 3] = dark;
      }
    }
  }
  return out;
}

/** The colour overlay: warm colours where the unit fires, their opacity growing with the activation. */
export function colourOverlay(activation: Float32Array, covered: Uint8Array): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(activation.length * 4);
  for (let i = 0; i < activation.length; i++) {
    if (!covered[i]) continue;
    const t = Math.min(Math.max(activation[i], 0), 1);
    // dark red → red → yellow as t grows
    out[4 * i] = 255;
    out[4 * i + 1] = Math.round(220 * t);
    out[4 * i + 2] = 0;
    out[4 * i + 3] = Math.round(200 * t);
  }
  return out;
}

function loaded(image: HTMLImageElement): Promise<void> {
  if (image.complete && image.naturalWidth > 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    image.addEventListener('load', () => resolve(), { once: true });
    image.addEventListener('error', () => reject(new Error('image did not load')), { once: true });
  });
}

/**
 * Draws a tile's heatmap the Network Dissection way, upsampled smoothly to the image (the
 * thumbnail's place in its `box`×`box` frame): a region canvas and a colour canvas laid over
 * the thumbnail, which CSS switches between. Leaves `fallback` (the heatmap as an image) in place
 * when the map's pixels cannot be read.
 */
export async function renderHeatmap(
  thumb: HTMLImageElement,
  heatmap: string,
  fallback: HTMLElement,
  box: number,
): Promise<void> {
  const map = new Image();
  map.src = heatmap;
  await Promise.all([loaded(thumb), loaded(map)]);
  const scale = Math.max(1, Math.min(3, Math.round(window.devicePixelRatio || 1)));
  const size = box * scale;
  const rect = containRect(thumb.naturalWidth, thumb.naturalHeight, size);
  const work = document.createElement('canvas');
  work.width = size;
  work.height = size;
  const context = work.getContext('2d', { willReadFrequently: true });
  if (context === null) return;
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(map, rect.x, rect.y, rect.width, rect.height);
  let pixels: ImageData;
  try {
    pixels = context.getImageData(0, 0, size, size);
  } catch {
    return; // a heatmap from file:// taints the canvas: keep the plain overlay
  }
  const activation = activationOf(pixels.data);
  const covered = new Uint8Array(size * size);
  const [x0, y0] = [Math.round(rect.x), Math.round(rect.y)];
  const [x1, y1] = [Math.round(rect.x + rect.width), Math.round(rect.y + rect.height)];
  for (let y = y0; y < y1; y++) covered.fill(1, y * size + x0, y * size + x1);
  const layer = (className: string, data: Uint8ClampedArray<ArrayBuffer>) => {
    const canvas = document.createElement('canvas');
    canvas.width = size;
    canvas.height = size;
    canvas.className = className;
    canvas.setAttribute('aria-hidden', 'true');
    canvas.getContext('2d')!.putImageData(new ImageData(data, size, size), 0, 0);
    return canvas;
  };
  fallback.replaceWith(
    layer('heatmap heatmap-region', regionOverlay(activation, size, size, covered)),
    layer('heatmap heatmap-colour', colourOverlay(activation, covered)),
  );
}
