import { createRandom, type RgbImage } from '@neurodissect/core';
import {
  TOYWORLD_COLORS,
  TOYWORLD_OBJECTS,
  TOYWORLD_TEXTURES,
  type ToyWorldColor,
  type ToyWorldObjectName,
  type ToyWorldTexture,
  toyWorldLabel,
} from './concepts';
import { patternAt, rasterizeShape, type TexturePattern } from './rasterize';

/** Options of {@link generateToyWorld} and {@link generateToyWorldImage}. */
export interface ToyWorldOptions {
  /**
   * The world's seed: the same seed (and size) gives the same images, byte for byte, on every
   * platform. @defaultValue 0
   */
  seed?: number;
  /** Number of images. @defaultValue 1000 */
  count?: number;
  /** Side of the square images, in pixels (at least 32). @defaultValue 64 */
  size?: number;
}

/** One object drawn in an image. */
export interface ToyWorldObject {
  readonly shape: ToyWorldObjectName;
  readonly color: ToyWorldColor;
  /** Centre and half-extent in pixels. */
  readonly cx: number;
  readonly cy: number;
  readonly radius: number;
  /** Pixels of the object left visible after later objects were drawn over it. */
  readonly visiblePixels: number;
}

/** One image of the toy world with its exact annotations. */
export interface ToyWorldImage {
  /** Position in the world (0-based). */
  readonly index: number;
  /** Stable id, also the image's path below Broden's `images/` without extension. */
  readonly id: string;
  readonly image: RgbImage;
  /** Per pixel, the global label number of the colour it was painted with. */
  readonly colorMask: Uint16Array;
  /** Per pixel, the global label number of the visible object, or 0 for background. */
  readonly objectMask: Uint16Array;
  /** The background pattern (an image-level label). */
  readonly texture: ToyWorldTexture;
  /** The background's base colour, and the pattern's colour (`null` for `plain`). */
  readonly backgroundColor: ToyWorldColor;
  readonly patternColor: ToyWorldColor | null;
  /** The objects, in drawing order (later ones cover earlier ones). */
  readonly objects: readonly ToyWorldObject[];
  /** An English description, e.g. "a red star and a blue ring on a green and white striped background". */
  readonly caption: string;
}

/** A generated world. */
export interface ToyWorld {
  readonly seed: number;
  readonly size: number;
  readonly images: readonly ToyWorldImage[];
}

const COLOR_NAMES = Object.keys(TOYWORLD_COLORS) as ToyWorldColor[];
const ROTATING_SHAPES: ReadonlySet<ToyWorldObjectName> = new Set(['triangle', 'star', 'cross', 'heart']);
const COLOR_JITTER = 14;
const NOISE_SIGMA = 7;
const MAX_OBJECTS = 3;

/** Validates and fills in the options (RangeError for bad values). */
export function resolveToyWorldOptions(options: ToyWorldOptions = {}): Required<ToyWorldOptions> {
  const seed = options.seed ?? 0;
  const count = options.count ?? 1000;
  const size = options.size ?? 64;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer from 0 to 2^32 − 1, got ${seed}.`);
  }
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`count must be a positive integer, got ${count}.`);
  if (!Number.isInteger(size) || size < 32 || size > 1024) {
    throw new RangeError(`size must be an integer from 32 to 1024, got ${size}.`);
  }
  return { seed, count, size };
}

/** The id of image `index`: `toyworld/000042`. */
export function toyWorldImageId(index: number): string {
  return `toyworld/${String(index).padStart(6, '0')}`;
}

function imageSeed(seed: number, index: number): number {
  // Each image has its own stream, so images can be generated in any order or in shards.
  return (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(index + 1, 0x9e3779b9)) >>> 0;
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)];
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function joinList(parts: readonly string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** The caption of an image from its parts (the training text of the toy CLIP). */
export function toyWorldCaption(
  objects: readonly Pick<ToyWorldObject, 'shape' | 'color'>[],
  texture: ToyWorldTexture,
  backgroundColor: ToyWorldColor,
  patternColor: ToyWorldColor | null,
): string {
  const things = objects.map((o) => `${article(o.color)} ${o.color} ${o.shape}`);
  const background =
    texture === 'plain' || patternColor === null
      ? `a plain ${backgroundColor} background`
      : `${article(backgroundColor)} ${backgroundColor} and ${patternColor} ${texture} background`;
  return `${joinList(things)} on ${background}`;
}

/**
 * Generates image `index` of the world with `options.seed`: a patterned background and one to
 * three shapes at random positions, sizes and colours, with colour jitter and pixel noise, plus
 * its exact colour and object masks and caption. Deterministic and independent of other images.
 */
export function generateToyWorldImage(index: number, options: ToyWorldOptions = {}): ToyWorldImage {
  const { seed, size } = resolveToyWorldOptions(options);
  if (!Number.isInteger(index) || index < 0)
    throw new RangeError(`index must be a non-negative integer, got ${index}.`);
  const random = createRandom(imageSeed(seed, index));
  const pixels = size * size;
  const scale = size / 64;

  const texture = pick(TOYWORLD_TEXTURES, random);
  const backgroundColor = pick(COLOR_NAMES, random);
  const patternColor =
    texture === 'plain'
      ? null
      : pick(
          COLOR_NAMES.filter((c) => c !== backgroundColor),
          random,
        );
  const straight = [0, Math.PI / 2];
  const pattern: TexturePattern = {
    texture,
    period: (7 + random() * 5) * scale,
    angle:
      texture === 'zigzag'
        ? pick(straight, random)
        : pick([0, Math.PI / 4, Math.PI / 2, (3 * Math.PI) / 4], random),
    phaseX: random() * 64 * scale,
    phaseY: random() * 64 * scale,
  };

  // Each painted region keeps one jittered shade of its colour, so colours vary between images
  // and objects but stay recognisably the named colour.
  const shade = (color: ToyWorldColor): [number, number, number] =>
    TOYWORLD_COLORS[color].map((v) => v + Math.round((random() * 2 - 1) * COLOR_JITTER)) as [
      number,
      number,
      number,
    ];
  const rgb = new Float32Array(pixels * 3);
  const colorMask = new Uint16Array(pixels);
  const objectMask = new Uint16Array(pixels);
  const owner = new Int8Array(pixels).fill(-1);
  const paintColor = (offset: number, color: ToyWorldColor, value: readonly number[]) => {
    colorMask[offset] = toyWorldLabel(color).number;
    rgb[offset * 3] = value[0];
    rgb[offset * 3 + 1] = value[1];
    rgb[offset * 3 + 2] = value[2];
  };

  const baseShade = shade(backgroundColor);
  const patternShade = patternColor === null ? baseShade : shade(patternColor);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const offset = y * size + x;
      if (patternColor !== null && patternAt(pattern, x, y)) paintColor(offset, patternColor, patternShade);
      else paintColor(offset, backgroundColor, baseShade);
    }
  }

  const wanted = 1 + Math.floor(random() * MAX_OBJECTS);
  const placed: {
    shape: ToyWorldObjectName;
    color: ToyWorldColor;
    cx: number;
    cy: number;
    radius: number;
  }[] = [];
  for (let n = 0; n < wanted; n++) {
    const shape = pick(TOYWORLD_OBJECTS, random);
    const color = pick(
      COLOR_NAMES.filter((c) => c !== backgroundColor && c !== patternColor),
      random,
    );
    const radius = (8 + random() * 8) * scale;
    const angle = ROTATING_SHAPES.has(shape) ? (random() * 2 - 1) * 0.3 : 0;
    // Rejection-sample a position that keeps objects mostly apart; give up on this object otherwise.
    let position: [number, number] | null = null;
    for (let attempt = 0; attempt < 30 && position === null; attempt++) {
      const cx = radius * 0.8 + random() * (size - 1.6 * radius);
      const cy = radius * 0.8 + random() * (size - 1.6 * radius);
      if (placed.every((o) => Math.hypot(o.cx - cx, o.cy - cy) >= 0.8 * (o.radius + radius)))
        position = [cx, cy];
    }
    if (position === null) continue;
    const [cx, cy] = position;
    const value = shade(color);
    const id = placed.length;
    const objectNumber = toyWorldLabel(shape).number;
    rasterizeShape(shape, { cx, cy, radius, angle }, size, (offset) => {
      paintColor(offset, color, value);
      objectMask[offset] = objectNumber;
      owner[offset] = id;
    });
    placed.push({ shape, color, cx, cy, radius });
  }
  const visible = new Int32Array(placed.length);
  for (let i = 0; i < pixels; i++) if (owner[i] >= 0) visible[owner[i]]++;
  const objects: ToyWorldObject[] = placed
    .map((o, i) => ({ ...o, visiblePixels: visible[i] }))
    .filter((o) => o.visiblePixels > 0);

  const data = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels * 3; i++) {
    // Sum of three uniforms: a cheap, bounded, roughly Gaussian noise with standard deviation NOISE_SIGMA.
    const noise = (random() + random() + random() - 1.5) * 2 * NOISE_SIGMA;
    data[i] = Math.min(255, Math.max(0, Math.round(rgb[i] + noise)));
  }

  return {
    index,
    id: toyWorldImageId(index),
    image: { width: size, height: size, data },
    colorMask,
    objectMask,
    texture,
    backgroundColor,
    patternColor,
    objects,
    caption: toyWorldCaption(objects, texture, backgroundColor, patternColor),
  };
}

/**
 * Generates a whole toy world in memory. For large worlds, iterate {@link generateToyWorldImage}
 * (or use the node writer) instead of holding every image.
 * @example generateToyWorld({ seed: 0, count: 100, size: 64 }).images[0].caption
 */
export function generateToyWorld(options: ToyWorldOptions = {}): ToyWorld {
  const resolved = resolveToyWorldOptions(options);
  const images: ToyWorldImage[] = [];
  for (let i = 0; i < resolved.count; i++) images.push(generateToyWorldImage(i, resolved));
  return { seed: resolved.seed, size: resolved.size, images };
}
