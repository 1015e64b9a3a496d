import { describe, expect, it } from 'vitest';
import { heatmapDataUri } from '../src/index';

describe('heatmapDataUri', () => {
  it('encodes a 24-bit bottom-up BMP, white when silent and red-orange at the maximum', () => {
    const uri = heatmapDataUri(Float32Array.from([0, 1, 2, Number.NaN]), 2, 2, 2);
    expect(uri.startsWith('data:image/bmp;base64,')).toBe(true);
    const bytes = Buffer.from(uri.slice('data:image/bmp;base64,'.length), 'base64');
    expect(bytes.subarray(0, 2).toString('latin1')).toBe('BM');
    expect(bytes.readUInt32LE(2)).toBe(bytes.length);
    expect([bytes.readInt32LE(18), bytes.readInt32LE(22), bytes.readUInt16LE(28)]).toEqual([2, 2, 24]);
    // Rows are 8 bytes (6 padded to 4): the bottom row (values 2, NaN) comes first, as B,G,R.
    expect(Array.from(bytes.subarray(54, 60))).toEqual([0, 64, 255, 255, 255, 255]);
    // Top row: 0 → white, 1 (half) → B 128 (127.5 rounded), G 160 (255 − 95.5), R 255.
    expect(Array.from(bytes.subarray(62, 68))).toEqual([255, 255, 255, 128, 160, 255]);
  });
});
