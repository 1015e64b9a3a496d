import { encodeBase64 } from '../platform';

/**
 * A small activation heatmap as a `data:image/bmp` URI: the map at its own resolution (browsers
 * smooth it when they scale it over the image), white where the unit is silent and warm red where
 * it fires most, for a multiply blend over the image. `max` is the value drawn at full strength
 * (the neuron's largest activation over its top images, so its tiles are comparable).
 */
export function heatmapDataUri(map: Float32Array, height: number, width: number, max: number): string {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + rowBytes * height;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes[0] = 0x42; // "BM"
  bytes[1] = 0x4d;
  view.setUint32(2, size, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true); // BITMAPINFOHEADER
  view.setInt32(18, width, true);
  view.setInt32(22, height, true); // bottom-up rows
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  view.setUint32(34, rowBytes * height, true);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const v = map[y * width + x];
      const t = max > 0 && Number.isFinite(v) ? Math.min(Math.max(v / max, 0), 1) : 0;
      // white → (255, 64, 0): blue and green fall, red stays
      bytes[row + 3 * x] = Math.round(255 * (1 - t)); // B
      bytes[row + 3 * x + 1] = Math.round(255 - 191 * t); // G
      bytes[row + 3 * x + 2] = 255; // R
    }
  }
  return `data:image/bmp;base64,${encodeBase64(bytes)}`;
}
