import {
  type AnnotationMask,
  type OperationOptions,
  type ProbeAnnotations,
  type ProbeDataset,
  type ProbeItem,
  type RgbImage,
  throwIfAborted,
} from '@neurodissect/core';
import { TOYWORLD_LABELS, toyWorldLabel } from './concepts';
import {
  generateToyWorldImage,
  resolveToyWorldOptions,
  type ToyWorldImage,
  type ToyWorldOptions,
  toyWorldImageId,
} from './generate';

/** A toy world as a probe set, generated in memory (see {@link createToyWorldDataset}). */
export interface ToyWorldDataset extends ProbeDataset {
  readonly conceptAnnotations: ProbeAnnotations;
  /** The resolved options it was generated with. */
  readonly options: Required<ToyWorldOptions>;
  /** Image `index` with its masks and caption (generated on first use, then kept). */
  image(index: number): ToyWorldImage;
}

/**
 * A toy world as a probe set without any file: images and masks are generated on demand (and kept),
 * so it works wherever JavaScript runs, a browser page or a Web Worker included. It is the same
 * probe set, item for item, as the Broden folder `neurodissect toyworld generate` writes with the
 * same seed, count and size read through runtime-node's Broden loader: the same ids
 * (`toyworld/000000.png`), URIs (`images/toyworld/000000.png`), pixels, label numbers and masks.
 * @example createToyWorldDataset({ seed: 0, count: 200 }).read(0)
 */
export function createToyWorldDataset(options: ToyWorldOptions = {}): ToyWorldDataset {
  const resolved = resolveToyWorldOptions(options);
  const cache = new Map<number, ToyWorldImage>();
  const check = (index: number) => {
    if (!Number.isInteger(index) || index < 0 || index >= resolved.count) {
      throw new RangeError(`Image index ${index} is outside the toy world (0 to ${resolved.count - 1}).`);
    }
  };
  const image = (index: number): ToyWorldImage => {
    check(index);
    let found = cache.get(index);
    if (found === undefined) {
      found = generateToyWorldImage(index, resolved);
      cache.set(index, found);
    }
    return found;
  };
  const item = (index: number): ProbeItem => {
    check(index);
    const id = `${toyWorldImageId(index)}.png`;
    return { id, uri: `images/${id}` };
  };
  const labels = new Map(TOYWORLD_LABELS.map((l) => [l.number, { name: l.name, category: l.category }]));
  const conceptAnnotations: ProbeAnnotations = {
    labels,
    imageLabels: (index) => ({ texture: [toyWorldLabel(image(index).texture).number] }),
    async masks(index, maskOptions: OperationOptions = {}): Promise<readonly AnnotationMask[]> {
      throwIfAborted(maskOptions.signal);
      const world = image(index);
      const { size } = resolved;
      return [
        { category: 'color', width: size, height: size, labels: world.colorMask },
        { category: 'object', width: size, height: size, labels: world.objectMask },
      ];
    },
  };
  return {
    name: `toyworld-seed${resolved.seed}-${resolved.count}`,
    fingerprint: `toyworld seed=${resolved.seed} count=${resolved.count} size=${resolved.size}`,
    size: resolved.count,
    options: resolved,
    conceptAnnotations,
    image,
    item,
    async read(index, readOptions: OperationOptions = {}): Promise<RgbImage> {
      throwIfAborted(readOptions.signal);
      return image(index).image;
    },
  };
}
