import { describe, expect, it } from 'vitest';
import {
  activationOf,
  colourOverlay,
  containRect,
  OUTSIDE_BRIGHTNESS,
  regionOverlay,
} from '../src/app/heatmap-render';

describe('the Network Dissection overlay', () => {
  it('places a contained image in its frame', () => {
    expect(containRect(400, 200, 112)).toEqual({ x: 0, y: 28, width: 112, height: 56 });
    expect(containRect(30, 60, 112)).toEqual({ x: 28, y: 0, width: 56, height: 112 });
    expect(containRect(0, 0, 112)).toEqual({ x: 0, y: 0, width: 112, height: 112 });
  });

  it("reads the activation from core's white-to-red heatmap colours", () => {
    // core's heatmapDataUri: blue is 255·(1 − t); a transparent pixel is no activation.
    const rgba = new Uint8ClampedArray([
      255, 255, 255, 255, 255, 64, 0, 255, 255, 160, 128, 255, 255, 0, 0, 0,
    ]);
    expect([...activationOf(rgba)].map((v) => +v.toFixed(3))).toEqual([0, 1, 0.498, 0]);
  });

  it('keeps the active region, outlines it from outside and darkens the rest', () => {
    // 5×1 strip: activation 0, 0, 0.9, 0.6, 0.1; the last pixel is outside the image.
    const overlay = regionOverlay(
      new Float32Array([0, 0, 0.9, 0.6, 0.1]),
      5,
      1,
      new Uint8Array([1, 1, 1, 1, 0]),
    );
    const alpha = (i: number) => overlay[4 * i + 3];
    expect(alpha(0)).toBe(Math.round(255 * (1 - OUTSIDE_BRIGHTNESS)));
    expect([...overlay.slice(4, 8)]).toEqual([255, 214, 0, 255]); // the outline, beside the region
    expect([alpha(2), alpha(3)]).toEqual([0, 0]); // the region as it is
    expect(alpha(4)).toBe(0); // not part of the image
    expect(OUTSIDE_BRIGHTNESS).toBeLessThanOrEqual(0.5);
  });

  it('makes the colour overlay more opaque where the unit fires more', () => {
    const overlay = colourOverlay(new Float32Array([0, 0.5, 1]), new Uint8Array([1, 1, 1]));
    expect([overlay[3], overlay[7], overlay[11]]).toEqual([0, 100, 200]);
  });
});
