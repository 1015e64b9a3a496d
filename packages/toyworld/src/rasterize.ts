import type { ToyWorldObjectName, ToyWorldTexture } from './concepts';

/** Where and how large a shape is drawn, in pixels. */
export interface ShapePlacement {
  /** Centre, in pixel coordinates (pixel `(x, y)` has its centre at `x + 0.5, y + 0.5`). */
  readonly cx: number;
  readonly cy: number;
  /** Half the shape's extent. */
  readonly radius: number;
  /** Rotation in radians (clockwise on screen). */
  readonly angle: number;
}

type Point = readonly [number, number];

function regularPolygon(vertices: number, radii: readonly number[]): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < vertices; i++) {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / vertices;
    const r = radii[i % radii.length];
    points.push([r * Math.cos(a), r * Math.sin(a)]);
  }
  return points;
}

// Unit shapes live in [-1, 1]² with y pointing down.
const TRIANGLE = regularPolygon(3, [1]).map(([x, y]) => [x, y + 0.2] as const);
const STAR = regularPolygon(10, [1, 0.45]);

function insidePolygon(polygon: readonly Point[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether the unit-scale point `(u, v)` (y down) lies inside the shape. */
export function insideUnitShape(shape: ToyWorldObjectName, u: number, v: number): boolean {
  switch (shape) {
    case 'circle':
      return u * u + v * v <= 1;
    case 'square':
      return Math.abs(u) <= 0.82 && Math.abs(v) <= 0.82;
    case 'diamond':
      return Math.abs(u) + Math.abs(v) <= 1;
    case 'triangle':
      return insidePolygon(TRIANGLE, u, v);
    case 'star':
      return insidePolygon(STAR, u, v);
    case 'cross':
      return (Math.abs(u) <= 0.3 && Math.abs(v) <= 0.95) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 0.95);
    case 'ring': {
      const r2 = u * u + v * v;
      return r2 <= 1 && r2 >= 0.55 * 0.55;
    }
    case 'heart': {
      // (x² + y² − 1)³ − x²y³ ≤ 0, scaled and shifted to fill the unit square.
      const x = u * 1.15;
      const y = -v * 1.15 + 0.12;
      const a = x * x + y * y - 1;
      return a * a * a - x * x * y * y * y <= 0;
    }
  }
}

/**
 * Calls `paint(offset)` for every pixel of a `size × size` image whose centre lies inside the
 * shape (no anti-aliasing, so the mask is exact), and returns how many pixels that was.
 */
export function rasterizeShape(
  shape: ToyWorldObjectName,
  placement: ShapePlacement,
  size: number,
  paint: (offset: number) => void,
): number {
  const { cx, cy, radius, angle } = placement;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const reach = radius * Math.SQRT2 + 1;
  const x0 = Math.max(0, Math.floor(cx - reach));
  const x1 = Math.min(size - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach));
  const y1 = Math.min(size - 1, Math.ceil(cy + reach));
  let count = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = (x + 0.5 - cx) / radius;
      const dy = (y + 0.5 - cy) / radius;
      // Rotate the pixel back into the shape's frame.
      const u = cos * dx + sin * dy;
      const v = -sin * dx + cos * dy;
      if (insideUnitShape(shape, u, v)) {
        paint(y * size + x);
        count++;
      }
    }
  }
  return count;
}

/** The parameters of a background pattern, in pixels. */
export interface TexturePattern {
  readonly texture: ToyWorldTexture;
  /** Repeat length. */
  readonly period: number;
  /** Direction of stripes and zigzags, in radians. */
  readonly angle: number;
  /** Offsets of the pattern's origin. */
  readonly phaseX: number;
  readonly phaseY: number;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/**
 * Whether pixel `(x, y)` is painted in the pattern's second colour (`false` everywhere for
 * `plain`).
 */
export function patternAt(pattern: TexturePattern, x: number, y: number): boolean {
  const { period: p, angle } = pattern;
  const px = x + 0.5 + pattern.phaseX;
  const py = y + 0.5 + pattern.phaseY;
  switch (pattern.texture) {
    case 'plain':
      return false;
    case 'striped': {
      const d = px * Math.cos(angle) + py * Math.sin(angle);
      return mod(d, p) < p / 2;
    }
    case 'dotted': {
      const dx = mod(px, p) - p / 2;
      const dy = mod(py, p) - p / 2;
      const r = Math.max(1.2, p * 0.27);
      return dx * dx + dy * dy <= r * r;
    }
    case 'checkered': {
      const s = p * 0.6;
      return ((Math.floor(px / s) + Math.floor(py / s)) & 1) === 1;
    }
    case 'grid': {
      const w = Math.max(1, Math.round(p / 5));
      return mod(px, p) < w || mod(py, p) < w;
    }
    case 'zigzag': {
      // Along the direction, a triangle wave displaces horizontal bands.
      const along = px * Math.cos(angle) + py * Math.sin(angle);
      const across = -px * Math.sin(angle) + py * Math.cos(angle);
      const t = mod(along / p, 1);
      const wave = (t < 0.5 ? t : 1 - t) * p * 1.2;
      return mod(across + wave, p) < p / 2;
    }
  }
}
