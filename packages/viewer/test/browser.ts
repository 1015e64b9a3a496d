import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseResults, type Results } from '@neurodissect/core';
import type { Page } from 'playwright-core';

/** Where the viewer's browser tests save screenshots, kept as their artifacts (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

/** Clicks the in-browser page's "Download results.json" and reads the validated Results. */
export async function downloadResults(page: Page): Promise<Results> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-results')]);
  const path = await download.path();
  if (path === null) throw new Error('the download was not saved');
  return parseResults(await readFile(path, 'utf8'));
}

/**
 * The active region of a heatmap as the test reads it, independently of the site's code: core's
 * BMP data URI decoded (24-bit, bottom-up rows; activation 1 − blue/255), upsampled bilinearly
 * (pixel centres aligned) to `size`×`size`, 1 where the activation is at least `threshold`.
 */
export function regionMask(dataUri: string, size: number, threshold: number): Uint8Array {
  const bytes = Buffer.from(dataUri.slice(dataUri.indexOf(',') + 1), 'base64');
  const offset = bytes.readUInt32LE(10);
  const width = bytes.readInt32LE(18);
  const height = bytes.readInt32LE(22);
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const at = (x: number, y: number) => 1 - bytes[offset + (height - 1 - y) * rowBytes + 3 * x] / 255;
  const mask = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(Math.max(((y + 0.5) * height) / size - 0.5, 0), height - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, height - 1);
    for (let x = 0; x < size; x++) {
      const sx = Math.min(Math.max(((x + 0.5) * width) / size - 0.5, 0), width - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, width - 1);
      const top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * (sx - x0);
      const bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * (sx - x0);
      mask[y * size + x] = top + (bottom - top) * (sy - y0) >= threshold ? 1 : 0;
    }
  }
  return mask;
}

/** A raw RGB screenshot, as sharp gives it. */
interface RawImage {
  data: Buffer;
  info: { width: number; height: number; channels: number };
}

/**
 * Mean brightness with the heatmap on over the same with it off, inside the region of `mask` and
 * outside it, leaving out pixels within 4 of the region's edge (where resamplers differ and the
 * outline is). The screenshots are of the tile's frame: its border is cropped off.
 */
export function brightnessRatios(
  on: RawImage,
  off: RawImage,
  mask: Uint8Array,
): { inRegion: number; outside: number } {
  const size = Math.round(Math.sqrt(mask.length));
  const scale = on.info.width / (size + 2);
  const near = (x: number, y: number) => {
    const v = mask[y * size + x];
    for (let dy = -4; dy <= 4; dy++)
      for (let dx = -4; dx <= 4; dx++) {
        const [nx, ny] = [x + dx, y + dy];
        if (nx >= 0 && ny >= 0 && nx < size && ny < size && mask[ny * size + nx] !== v) return true;
      }
    return false;
  };
  const sums = { in: [0, 0], out: [0, 0] };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (near(x, y)) continue;
      const px = Math.floor((x + 1.5) * scale);
      const py = Math.floor((y + 1.5) * scale);
      const brightness = (image: RawImage) => {
        const i = (py * image.info.width + px) * image.info.channels;
        return (image.data[i] + image.data[i + 1] + image.data[i + 2]) / 3;
      };
      const bucket = mask[y * size + x] ? sums.in : sums.out;
      bucket[0] += brightness(on);
      bucket[1] += brightness(off);
    }
  }
  return { inRegion: sums.in[0] / sums.in[1], outside: sums.out[0] / sums.out[1] };
}
