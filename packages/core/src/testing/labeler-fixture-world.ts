// The labeler conformance suite's fixture world: a few small images, embeddings, activation maps
// and annotations built so that every neuron's right label is known in advance.
import type {
  AnnotationMask,
  BinaryMask,
  Detection,
  Detector,
  DetectorPrompt,
  LabelerContext,
  PixelBox,
  ProbeAnnotations,
  ProbeDataset,
  RgbImage,
  Segmenter,
} from '../interfaces';
import { type OperationOptions, throwIfAborted } from '../progress';
import { createMatrix, type Matrix, type Tensor } from '../tensor';

/**
 * A small probe world whose answers are known, for testing labelers.
 *
 * - 30 images of 8×8 pixels, a grey background (128) with a 4×4 patch of one colour; image `i` has
 *   colour `i % 3` (red, green, blue) in quadrant `⌊i/3⌋ % 3` (top-left, top-right, bottom-left).
 * - Concepts: the 3 colours, `yellow` (a distractor near red and green in CLIP space) and 8 other
 *   words no image shows.
 * - Layer `fixture` has 3 neurons; neuron `k` fires on the patch of the images of colour `k`: its
 *   4×4 activation map is `1 + i/100` on the patch's 2×2 cells and 0 elsewhere; its summarised
 *   activation is the map's mean. So neuron 0 is "red", 1 "green", 2 "blue" ({@link expected}).
 * - CLIP: 8-dimensional; an image's embedding is its colour's axis plus small deterministic
 *   off-axis values (dims 3–7); the colour words are axes 0–2, `yellow` is `(1,1,0,…)/√2`, the
 *   other words sit on dims 3–7.
 * - Annotations (Broden style): one `color` mask per image labelling the patch (labels 1–3 named as
 *   the concepts red, green, blue); the background is unlabelled.
 * - A stand-in detector and segmenter (pure TypeScript, not models): the detector returns the
 *   bounding box of the pixels of each prompted colour it finds, attributed to that phrase, with
 *   score 0.9; a prompt's tokens are its words and dots plus 2 special tokens, at most 10; the
 *   segmenter fills each box.
 */
export interface LabelerFixtureWorld {
  readonly layer: string;
  readonly concepts: readonly string[];
  /** The right top label of each neuron. */
  readonly expected: readonly string[];
  /** The probe set (images and its annotations). */
  readonly probe: ProbeDataset & { readonly conceptAnnotations: ProbeAnnotations };
  /** N×K summarised activations. */
  readonly activations: Matrix;
  /** `[N, K, 4, 4]` activation maps. */
  readonly activationMaps: Tensor<'float32'>;
  readonly imageEmbeddings: Matrix;
  readonly textEmbeddings: Matrix;
  /** A stand-in detector that finds prompted colours by their pixels (not a model). */
  readonly detector: Detector;
  /** A stand-in segmenter that fills each box (not a model). */
  readonly segmenter: Segmenter;
  /** A labeler context with everything a labeler may require, fresh copies each call. */
  context(options?: OperationOptions): LabelerContext;
}

const SIZE = 8;
const MAP = 4;
const IMAGES = 30;
const COLOURS: Record<string, readonly [number, number, number]> = {
  red: [230, 25, 25],
  green: [25, 200, 25],
  blue: [25, 25, 230],
};
const COLOUR_NAMES = ['red', 'green', 'blue'];
const CONCEPTS = [
  'red',
  'green',
  'blue',
  'yellow',
  'circle',
  'square',
  'striped',
  'dotted',
  'sky',
  'grass',
  'water',
  'wood',
];
const DIM = 8;

function patchOrigin(i: number): [number, number] {
  const quadrant = Math.floor(i / 3) % 3;
  return [quadrant === 1 ? 4 : 0, quadrant === 2 ? 4 : 0];
}

function makeImage(i: number): RgbImage {
  const data = new Uint8Array(SIZE * SIZE * 3).fill(128);
  const colour = COLOURS[COLOUR_NAMES[i % 3]];
  const [x0, y0] = patchOrigin(i);
  for (let y = y0; y < y0 + 4; y++) for (let x = x0; x < x0 + 4; x++) data.set(colour, (y * SIZE + x) * 3);
  return { width: SIZE, height: SIZE, data };
}

function makeMask(i: number): AnnotationMask {
  const labels = new Uint16Array(SIZE * SIZE);
  const [x0, y0] = patchOrigin(i);
  for (let y = y0; y < y0 + 4; y++) for (let x = x0; x < x0 + 4; x++) labels[y * SIZE + x] = (i % 3) + 1;
  return { category: 'color', width: SIZE, height: SIZE, labels };
}

function makeMaps(): Tensor<'float32'> {
  const K = 3;
  const data = new Float32Array(IMAGES * K * MAP * MAP);
  for (let i = 0; i < IMAGES; i++) {
    const k = i % 3;
    const [x0, y0] = patchOrigin(i);
    for (let y = y0 / 2; y < y0 / 2 + 2; y++)
      for (let x = x0 / 2; x < x0 / 2 + 2; x++) data[(i * K + k) * MAP * MAP + y * MAP + x] = 1 + i / 100;
  }
  return { dtype: 'float32', dims: [IMAGES, K, MAP, MAP], data };
}

function meanOfMaps(maps: Tensor<'float32'>): Matrix {
  const [N, K, h, w] = maps.dims as [number, number, number, number];
  const out = createMatrix(N, K);
  for (let i = 0; i < N * K; i++) {
    let sum = 0;
    for (let p = 0; p < h * w; p++) sum += maps.data[i * h * w + p];
    out.data[i] = sum / (h * w);
  }
  return out;
}

function makeImageEmbeddings(): Matrix {
  const out = createMatrix(IMAGES, DIM);
  for (let i = 0; i < IMAGES; i++) {
    out.data[i * DIM + (i % 3)] = 1;
    for (let d = 3; d < DIM; d++) out.data[i * DIM + d] = (((i * 7 + d * 3) % 11) - 5) / 100;
  }
  return out;
}

function makeTextEmbeddings(): Matrix {
  const out = createMatrix(CONCEPTS.length, DIM);
  CONCEPTS.forEach((concept, m) => {
    if (m < 3) out.data[m * DIM + m] = 1;
    else if (concept === 'yellow') {
      out.data[m * DIM] = Math.SQRT1_2;
      out.data[m * DIM + 1] = Math.SQRT1_2;
    } else out.data[m * DIM + 3 + ((m - 4) % 5)] = 1;
  });
  return out;
}

function standInDetector(): Detector {
  const maxTextLength = 10;
  const countTokens = (phrases: readonly string[]) =>
    2 + phrases.reduce((n, phrase) => n + phrase.split(/\s+/).length + 1, 0);
  return {
    maxTextLength,
    countTokens,
    async detect(image: RgbImage, prompt: DetectorPrompt, options?: OperationOptions): Promise<Detection[]> {
      throwIfAborted(options?.signal);
      if (countTokens(prompt.phrases) > maxTextLength)
        throw new RangeError(
          `The prompt takes ${countTokens(prompt.phrases)} tokens, more than ${maxTextLength}.`,
        );
      const out: Detection[] = [];
      for (const phrase of prompt.phrases) {
        const colour = COLOURS[phrase];
        if (!colour) continue;
        let box: [number, number, number, number] | undefined;
        for (let y = 0; y < image.height; y++) {
          for (let x = 0; x < image.width; x++) {
            const o = (y * image.width + x) * 3;
            if (
              image.data[o] !== colour[0] ||
              image.data[o + 1] !== colour[1] ||
              image.data[o + 2] !== colour[2]
            )
              continue;
            box = box
              ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x + 1), Math.max(box[3], y + 1)]
              : [x, y, x + 1, y + 1];
          }
        }
        if (box && 0.9 > (prompt.boxThreshold ?? 0)) out.push({ box, phrase, score: 0.9 });
      }
      return out;
    },
    async dispose() {},
  };
}

function standInSegmenter(): Segmenter {
  return {
    async segment(
      image: RgbImage,
      boxes: readonly PixelBox[],
      options?: OperationOptions,
    ): Promise<BinaryMask[]> {
      throwIfAborted(options?.signal);
      return boxes.map(([x0, y0, x1, y1]) => {
        const data = new Uint8Array(image.width * image.height);
        for (let y = Math.max(0, y0); y < Math.min(image.height, y1); y++)
          for (let x = Math.max(0, x0); x < Math.min(image.width, x1); x++) data[y * image.width + x] = 1;
        return { width: image.width, height: image.height, data };
      });
    },
    async dispose() {},
  };
}

/** Builds the {@link LabelerFixtureWorld}; every call returns fresh arrays. */
export function createLabelerFixtureWorld(): LabelerFixtureWorld {
  const activationMaps = makeMaps();
  const activations = meanOfMaps(activationMaps);
  const imageEmbeddings = makeImageEmbeddings();
  const textEmbeddings = makeTextEmbeddings();
  const annotations: ProbeAnnotations = {
    labels: new Map(COLOUR_NAMES.map((name, c) => [c + 1, { name, category: 'color' }])),
    imageLabels: () => ({}),
    async masks(index, options) {
      throwIfAborted(options?.signal);
      return [makeMask(index)];
    },
  };
  const probe = {
    name: 'labeler-fixture-world',
    size: IMAGES,
    item: (index: number) => ({ id: `fixture-${index}`, uri: `fixture-${index}.png` }),
    async read(index: number, options?: OperationOptions) {
      throwIfAborted(options?.signal);
      if (!(Number.isInteger(index) && index >= 0 && index < IMAGES))
        throw new RangeError(`Image index ${index} is outside 0..${IMAGES - 1}.`);
      return makeImage(index);
    },
    conceptAnnotations: annotations,
  };
  return {
    layer: 'fixture',
    concepts: CONCEPTS,
    expected: COLOUR_NAMES,
    probe,
    activations,
    activationMaps,
    imageEmbeddings,
    textEmbeddings,
    detector: standInDetector(),
    segmenter: standInSegmenter(),
    context: (options = {}) => ({
      layer: 'fixture',
      activations: { ...activations, data: activations.data.slice() },
      concepts: [...CONCEPTS],
      imageEmbeddings: { ...imageEmbeddings, data: imageEmbeddings.data.slice() },
      textEmbeddings: { ...textEmbeddings, data: textEmbeddings.data.slice() },
      activationMaps: { ...activationMaps, data: activationMaps.data.slice() },
      annotations,
      ...options,
    }),
  };
}
