import { describe, expect, it } from 'vitest';
import {
  generateToyWorld,
  generateToyWorldImage,
  patternAt,
  rasterizeShape,
  TOYWORLD_COLORS,
  TOYWORLD_LABELS,
  type TOYWORLD_OBJECTS,
  type ToyWorldColor,
  toyWorldLabel,
} from '../src/index';

const labelName = (n: number) => TOYWORLD_LABELS[n - 1].name;

describe('generateToyWorld', () => {
  it('is deterministic: the same seed gives identical bytes, another seed different ones', () => {
    const a = generateToyWorld({ seed: 7, count: 12 });
    const b = generateToyWorld({ seed: 7, count: 12 });
    const c = generateToyWorld({ seed: 8, count: 12 });
    for (let i = 0; i < 12; i++) {
      expect(Buffer.from(a.images[i].image.data).equals(Buffer.from(b.images[i].image.data))).toBe(true);
      expect(a.images[i].colorMask).toEqual(b.images[i].colorMask);
      expect(a.images[i].objectMask).toEqual(b.images[i].objectMask);
      expect(a.images[i].caption).toBe(b.images[i].caption);
    }
    const same = a.images.filter((im, i) =>
      Buffer.from(im.image.data).equals(Buffer.from(c.images[i].image.data)),
    );
    expect(same).toHaveLength(0);
  });

  it('generates any image on its own, identical to the whole world’s (so worlds can be sharded)', () => {
    const world = generateToyWorld({ seed: 3, count: 6, size: 48 });
    const fifth = generateToyWorldImage(5, { seed: 3, size: 48 });
    expect(fifth.image.data).toEqual(world.images[5].image.data);
    expect(fifth.image.width).toBe(48);
    expect(fifth.id).toBe('toyworld/000005');
  });

  it('rejects bad options with RangeErrors that say what is allowed', () => {
    expect(() => generateToyWorld({ count: 0 })).toThrow(RangeError);
    expect(() => generateToyWorld({ size: 16 })).toThrow(/from 32 to 1024/);
    expect(() => generateToyWorld({ seed: -1 })).toThrow(/seed/);
    expect(() => toyWorldLabel('hexagon')).toThrow(/not a toy-world concept/);
  });

  it('numbers labels as Broden does: colours, then objects, then textures, from 1', () => {
    expect(TOYWORLD_LABELS.map((l) => l.number)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(toyWorldLabel('black')).toMatchObject({ number: 1, category: 'color', level: 'pixel' });
    expect(toyWorldLabel('circle')).toMatchObject({ number: 12, category: 'object' });
    expect(toyWorldLabel('zigzag')).toMatchObject({ number: 25, category: 'texture', level: 'image' });
  });

  const world = generateToyWorld({ seed: 11, count: 40 });

  it('keeps masks consistent with the objects, colours, texture and caption of each image', () => {
    for (const im of world.images) {
      const objectPixels = new Map<number, number>();
      im.objectMask.forEach((v) => {
        if (v) objectPixels.set(v, (objectPixels.get(v) ?? 0) + 1);
      });
      const expected = new Map<number, number>();
      for (const o of im.objects) {
        const n = toyWorldLabel(o.shape).number;
        expected.set(n, (expected.get(n) ?? 0) + o.visiblePixels);
      }
      expect(objectPixels).toEqual(expected);
      const objectColors = new Set(im.objects.map((o) => toyWorldLabel(o.color).number));
      const backgroundColors = new Set(
        [im.backgroundColor, im.patternColor].filter((c) => c !== null).map((c) => toyWorldLabel(c).number),
      );
      let misplaced = 0;
      for (let p = 0; p < im.colorMask.length; p++) {
        const allowed = im.objectMask[p] ? objectColors : backgroundColors;
        if (!allowed.has(im.colorMask[p])) misplaced++;
      }
      expect(misplaced).toBe(0);
      if (im.texture === 'plain') expect(im.patternColor).toBeNull();
      for (const o of im.objects) expect(im.caption).toContain(`${o.color} ${o.shape}`);
      expect(im.caption).toMatch(
        new RegExp(
          `${im.texture === 'plain' ? 'plain ' : ''}.*${im.texture === 'plain' ? '' : im.texture} background$`,
        ),
      );
      expect(im.objects.length).toBeGreaterThanOrEqual(1);
    }
  });

  it('paints each pixel in the colour its mask names (nearest palette colour, despite jitter and noise)', () => {
    const palette = Object.entries(TOYWORLD_COLORS) as [ToyWorldColor, readonly number[]][];
    let agree = 0;
    let total = 0;
    for (const im of world.images) {
      for (let p = 0; p < im.colorMask.length; p++) {
        const rgb = im.image.data.subarray(p * 3, p * 3 + 3);
        let best = palette[0][0];
        let bestDistance = Number.POSITIVE_INFINITY;
        for (const [name, value] of palette) {
          const d = (rgb[0] - value[0]) ** 2 + (rgb[1] - value[1]) ** 2 + (rgb[2] - value[2]) ** 2;
          if (d < bestDistance) [best, bestDistance] = [name, d];
        }
        if (labelName(im.colorMask[p]) === best) agree++;
        total++;
      }
    }
    // Jitter ±14 and noise σ 7 move a pixel at most ~45 from its colour; the closest two palette
    // colours are 81 apart, so only the rare noise tail can cross.
    expect(agree / total).toBeGreaterThan(0.999);
  });

  it('draws every shape, texture and colour over a modest world', () => {
    const big = generateToyWorld({ seed: 0, count: 200 });
    const seen = new Set<string>();
    for (const im of big.images) {
      seen.add(im.texture);
      im.objects.forEach((o) => {
        seen.add(o.shape);
        seen.add(o.color);
      });
    }
    expect([...seen].sort()).toEqual(TOYWORLD_LABELS.map((l) => l.name).sort());
  });
});

describe('rasterisation', () => {
  // An off-lattice centre, so that no edge runs exactly through a row of pixel centres.
  const area = (shape: (typeof TOYWORLD_OBJECTS)[number], radius: number) =>
    rasterizeShape(shape, { cx: 100.31, cy: 99.77, radius, angle: 0 }, 200, () => {});
  const near = (ratio: number) => expect(Math.abs(ratio - 1)).toBeLessThan(0.02);

  it('fills shapes with their analytic areas (pixel centres inside)', () => {
    const r = 40;
    // Independent closed forms for each unit shape scaled by r.
    near(area('circle', r) / (Math.PI * r * r));
    near(area('square', r) / (1.64 * r) ** 2);
    near(area('diamond', r) / (2 * r * r));
    near(area('ring', r) / (Math.PI * r * r * (1 - 0.55 ** 2)));
    // Equilateral triangle of circumradius r: (3√3/4) r².
    near(area('triangle', r) / ((3 * Math.sqrt(3) * r * r) / 4));
    // Cross: two 0.6r × 1.9r bars minus their 0.6r × 0.6r overlap.
    near(area('cross', r) / (2 * 0.6 * 1.9 * r * r - 0.36 * r * r));
    // Star with outer radius r and inner 0.45r: 10 triangles of area ½·r·0.45r·sin(36°).
    near(area('star', r) / (10 * 0.5 * r * 0.45 * r * Math.sin(Math.PI / 5)));
  });

  it('draws patterns with the expected share of pattern pixels', () => {
    const share = (texture: 'plain' | 'striped' | 'dotted' | 'checkered' | 'grid', period: number) => {
      let on = 0;
      for (let y = 0; y < 240; y++)
        for (let x = 0; x < 240; x++)
          if (patternAt({ texture, period, angle: 0, phaseX: 0, phaseY: 0 }, x, y)) on++;
      return on / 240 / 240;
    };
    expect(share('plain', 10)).toBe(0);
    expect(share('striped', 10)).toBeCloseTo(0.5, 2);
    expect(share('checkered', 10)).toBeCloseTo(0.5, 1);
    // Grid lines 2 px wide every 10 px: 1 − (8/10)².
    expect(share('grid', 10)).toBeCloseTo(0.36, 2);
    // Dots of radius 2.7 every 10 px: π·2.7²/100, up to pixel rounding.
    expect(share('dotted', 10)).toBeCloseTo((Math.PI * 2.7 * 2.7) / 100, 1);
  });
});
