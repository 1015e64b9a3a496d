import { ErrorCode, formatCsv, NeurodissectError } from '@neurodissect/core';
import { decode, encode } from 'fast-png';
import { TOYWORLD_CATEGORIES, TOYWORLD_LABELS, toyWorldLabel } from './concepts';
import {
  generateToyWorldImage,
  resolveToyWorldOptions,
  type ToyWorldImage,
  type ToyWorldOptions,
} from './generate';

/** One file of a Broden-format dataset: a path relative to the dataset root and its bytes or text. */
export interface BrodenFile {
  readonly path: string;
  readonly data: Uint8Array | string;
}

/** Broden's `index.csv` columns, in Broden's order. */
export const BRODEN_INDEX_COLUMNS = [
  'image',
  'split',
  'ih',
  'iw',
  'sh',
  'sw',
  'color',
  'object',
  'part',
  'material',
  'scene',
  'texture',
] as const;

/** Options of {@link toyWorldBrodenFiles}. */
export interface ToyWorldBrodenOptions extends ToyWorldOptions {
  /** The `split` column's value. @defaultValue 'train' */
  split?: string;
}

/** Encodes an RGB image as an 8-bit RGB PNG. */
export function encodeRgbPng(image: { width: number; height: number; data: Uint8Array }): Uint8Array {
  return encode({ width: image.width, height: image.height, data: image.data, channels: 3, depth: 8 });
}

/**
 * Encodes a label mask as Broden does: an RGB PNG whose pixel holds label `R + 256·G` (B is 0).
 */
export function encodeLabelMaskPng(mask: Uint16Array, width: number, height: number): Uint8Array {
  if (mask.length !== width * height) {
    throw new RangeError(`A ${width}×${height} mask needs ${width * height} labels, got ${mask.length}.`);
  }
  const data = new Uint8Array(mask.length * 3);
  for (let i = 0; i < mask.length; i++) {
    data[i * 3] = mask[i] & 0xff;
    data[i * 3 + 1] = mask[i] >> 8;
  }
  return encode({ width, height, data, channels: 3, depth: 8 });
}

/** Decodes a Broden mask PNG (RGB or RGBA, 8-bit) to label numbers `R + 256·G`. */
export function decodeLabelMaskPng(bytes: Uint8Array): {
  width: number;
  height: number;
  labels: Uint16Array;
} {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.ImageDecodeFailed,
      'A mask is not a readable PNG; regenerate the dataset.',
      {
        cause,
      },
    );
  }
  if (png.depth !== 8 || png.channels < 3) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `A mask PNG has ${png.channels} channel(s) of ${png.depth} bits; Broden masks are 8-bit RGB (label = R + 256·G).`,
    );
  }
  const labels = new Uint16Array(png.width * png.height);
  for (let i = 0; i < labels.length; i++) {
    labels[i] = png.data[i * png.channels] + 256 * png.data[i * png.channels + 1];
  }
  return { width: png.width, height: png.height, labels };
}

interface LabelStats {
  frequency: number;
  coverage: number;
}

function formatCoverage(value: number): string {
  return value.toFixed(6);
}

/**
 * The files of a toy world in Broden's layout, generated one image at a time (so a large world
 * never sits in memory): for each image `images/toyworld/NNNNNN.png` and its
 * `_color.png`/`_object.png` masks, then `index.csv`, `label.csv`, `category.csv`, `c_color.csv`,
 * `c_object.csv`, `c_texture.csv` and `captions.csv` (`image,caption`; not part of Broden).
 * Segmentations are full resolution (`sh = ih`); textures are image-level label numbers.
 */
export function* toyWorldBrodenFiles(options: ToyWorldBrodenOptions = {}): Generator<BrodenFile> {
  const { seed, count, size } = resolveToyWorldOptions(options);
  const split = options.split ?? 'train';
  const stats = new Map<number, LabelStats>(
    TOYWORLD_LABELS.map((l) => [l.number, { frequency: 0, coverage: 0 }]),
  );
  const index: (string | number)[][] = [[...BRODEN_INDEX_COLUMNS]];
  const captions: string[][] = [['image', 'caption']];
  let imagesWithObjects = 0;
  for (let i = 0; i < count; i++) {
    const world = generateToyWorldImage(i, { seed, size });
    yield { path: `images/${world.id}.png`, data: encodeRgbPng(world.image) };
    yield { path: `images/${world.id}_color.png`, data: encodeLabelMaskPng(world.colorMask, size, size) };
    yield { path: `images/${world.id}_object.png`, data: encodeLabelMaskPng(world.objectMask, size, size) };
    addPixelStats(stats, world.colorMask);
    addPixelStats(stats, world.objectMask);
    if (world.objects.length > 0) imagesWithObjects++;
    const texture = toyWorldLabel(world.texture).number;
    stats.get(texture)!.frequency++;
    stats.get(texture)!.coverage++;
    index.push(indexRow(world, split, texture));
    captions.push([`${world.id}.png`, world.caption]);
  }
  yield { path: 'index.csv', data: formatCsv(index) };
  yield { path: 'captions.csv', data: formatCsv(captions) };
  yield {
    path: 'label.csv',
    data: formatCsv([
      ['number', 'name', 'category', 'frequency', 'coverage', 'syns'],
      ...TOYWORLD_LABELS.map((l) => {
        const s = stats.get(l.number)!;
        return [
          l.number,
          l.name,
          `${l.category}(${s.frequency})`,
          s.frequency,
          formatCoverage(s.coverage),
          '',
        ];
      }),
    ]),
  };
  const categoryRows: (string | number)[][] = [['name', 'first', 'last', 'count', 'frequency']];
  for (const category of TOYWORLD_CATEGORIES) {
    const labels = TOYWORLD_LABELS.filter((l) => l.category === category.name);
    // Broden's category frequency: images with any label of the category (every image has a
    // colour and a texture).
    const frequency = category.name === 'object' ? imagesWithObjects : count;
    categoryRows.push([
      category.name,
      labels[0].number,
      labels[labels.length - 1].number,
      labels.length,
      frequency,
    ]);
    yield {
      path: `c_${category.name}.csv`,
      data: formatCsv([
        ['code', 'number', 'name', 'frequency', 'coverage'],
        ...labels.map((l, code) => {
          const s = stats.get(l.number)!;
          return [code + 1, l.number, l.name, s.frequency, formatCoverage(s.coverage)];
        }),
      ]),
    };
  }
  yield { path: 'category.csv', data: formatCsv(categoryRows) };
}

function addPixelStats(stats: Map<number, LabelStats>, mask: Uint16Array): void {
  const counts = new Map<number, number>();
  for (const label of mask) if (label !== 0) counts.set(label, (counts.get(label) ?? 0) + 1);
  for (const [label, n] of counts) {
    const s = stats.get(label)!;
    s.frequency++;
    s.coverage += n / mask.length;
  }
}

function indexRow(world: ToyWorldImage, split: string, texture: number): (string | number)[] {
  const size = world.image.width;
  return [
    `${world.id}.png`,
    split,
    size,
    size,
    size,
    size,
    `${world.id}_color.png`,
    `${world.id}_object.png`,
    '',
    '',
    '',
    texture,
  ];
}
