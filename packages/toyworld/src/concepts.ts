import { COMMON_ENGLISH_WORDS } from './vocabulary.gen';

/** The Broden categories the toy world annotates. */
export type ToyWorldCategory = 'color' | 'object' | 'texture';

/** One concept of the toy world, numbered as Broden numbers labels (globally, from 1). */
export interface ToyWorldLabel {
  /** Global label number (Broden's `number`, the value in mask PNGs); 0 means "no label". */
  readonly number: number;
  /** The word, as it appears in captions and ground truth. */
  readonly name: string;
  readonly category: ToyWorldCategory;
  /** `pixel` categories have masks; `image` categories label the whole image. */
  readonly level: 'pixel' | 'image';
}

/** Broden's eleven colour names with the RGB each one is painted with (before jitter and noise). */
export const TOYWORLD_COLORS = {
  black: [20, 20, 20],
  blue: [30, 70, 225],
  brown: [125, 75, 30],
  gray: [128, 128, 128],
  green: [35, 170, 50],
  orange: [250, 140, 20],
  pink: [250, 135, 195],
  purple: [130, 45, 175],
  red: [220, 25, 30],
  white: [240, 240, 240],
  yellow: [240, 220, 30],
} as const satisfies Record<string, readonly [number, number, number]>;

/** A colour name of the toy world. */
export type ToyWorldColor = keyof typeof TOYWORLD_COLORS;

/** The shapes drawn as objects (pixel masks). */
export const TOYWORLD_OBJECTS = [
  'circle',
  'square',
  'triangle',
  'star',
  'cross',
  'ring',
  'heart',
  'diamond',
] as const;

/** A shape of the toy world. */
export type ToyWorldObjectName = (typeof TOYWORLD_OBJECTS)[number];

/** The background patterns (image-level labels, as Broden's textures are). */
export const TOYWORLD_TEXTURES = ['plain', 'striped', 'dotted', 'checkered', 'grid', 'zigzag'] as const;

/** A texture of the toy world. */
export type ToyWorldTexture = (typeof TOYWORLD_TEXTURES)[number];

/** The categories in Broden's order, with their level. */
export const TOYWORLD_CATEGORIES: readonly { name: ToyWorldCategory; level: 'pixel' | 'image' }[] = [
  { name: 'color', level: 'pixel' },
  { name: 'object', level: 'pixel' },
  { name: 'texture', level: 'image' },
];

const colorNames = Object.keys(TOYWORLD_COLORS) as ToyWorldColor[];

/**
 * Every label of the toy world: colours 1–11, objects 12–19, textures 20–25. The order is part of
 * the format (the committed target model's logit `i` is label number `i + 1`).
 */
export const TOYWORLD_LABELS: readonly ToyWorldLabel[] = [
  ...colorNames.map((name) => ({ name, category: 'color' as const, level: 'pixel' as const })),
  ...TOYWORLD_OBJECTS.map((name) => ({ name, category: 'object' as const, level: 'pixel' as const })),
  ...TOYWORLD_TEXTURES.map((name) => ({ name, category: 'texture' as const, level: 'image' as const })),
].map((label, i) => ({ ...label, number: i + 1 }));

const byName = new Map(TOYWORLD_LABELS.map((label) => [label.name, label]));

/** The label with this name; throws a `RangeError` for a name the toy world does not have. */
export function toyWorldLabel(name: string): ToyWorldLabel {
  const label = byName.get(name);
  if (label === undefined) {
    throw new RangeError(
      `"${name}" is not a toy-world concept; use one of: ${TOYWORLD_LABELS.map((l) => l.name).join(', ')}.`,
    );
  }
  return label;
}

/**
 * Words that name nothing in the toy world: the demo's concept set adds them to the world's own
 * concepts, so a labeler must pick the right word out of a list at least twice as long as the
 * answers (as CLIP-Dissect picks from 20,000 words on Broden).
 */
export const TOYWORLD_DISTRACTORS = [
  'dog',
  'cat',
  'horse',
  'bird',
  'fish',
  'tree',
  'flower',
  'grass',
  'water',
  'sky',
  'cloud',
  'mountain',
  'road',
  'car',
  'bicycle',
  'house',
  'window',
  'door',
  'chair',
  'table',
  'person',
  'face',
  'hand',
  'book',
  'bottle',
  'cup',
  'lamp',
  'wood',
  'metal',
  'glass',
] as const;

/** The world's concepts, then {@link TOYWORLD_DISTRACTORS}: 55 words. */
export function toyWorldConceptList(): string[] {
  return [...TOYWORLD_LABELS.map((label) => label.name), ...TOYWORLD_DISTRACTORS];
}

/**
 * Near-words of each world concept (plurals, synonyms, spellings), as a real vocabulary holds them.
 */
export const TOYWORLD_NEAR_WORDS: Readonly<Record<string, readonly string[]>> = {
  black: ['dark'],
  blue: ['navy', 'azure'],
  brown: ['tan', 'chocolate'],
  gray: ['grey', 'silver'],
  green: ['lime', 'olive'],
  orange: ['amber'],
  pink: ['rose', 'magenta'],
  purple: ['violet', 'lilac'],
  red: ['crimson', 'scarlet'],
  white: ['ivory'],
  yellow: ['golden', 'lemon'],
  circle: ['circles', 'circular', 'round', 'disc'],
  square: ['squares', 'box'],
  triangle: ['triangles', 'triangular'],
  star: ['stars'],
  cross: ['crosses', 'plus'],
  ring: ['rings', 'hoop'],
  heart: ['hearts'],
  diamond: ['diamonds', 'rhombus', 'lozenge'],
  plain: ['blank', 'solid'],
  striped: ['stripes', 'stripe', 'banded'],
  dotted: ['dots', 'spotted', 'polka dots'],
  checkered: ['checkerboard', 'chequered', 'checked'],
  grid: ['lattice', 'mesh'],
  zigzag: ['zigzags', 'chevron'],
};

/**
 * A concept set the size CLIP-Dissect is run with on real models: the world's concepts, the
 * distractors, the concepts' near-words, then {@link COMMON_ENGLISH_WORDS} (over 10,000 common
 * English words); each word once, in that order. The demo's concept set: the toy CLIP's text tower
 * is calibrated on it, so unrelated words sit at the cosines a real CLIP gives them and near-words
 * land near their concept (see models/MODEL_CARD.md).
 */
export function toyWorldVocabulary(): string[] {
  const near = Object.values(TOYWORLD_NEAR_WORDS).flat();
  return [...new Set([...toyWorldConceptList(), ...near, ...COMMON_ENGLISH_WORDS])];
}
