import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import {
  ErrorCode,
  NeurodissectError,
  type OperationOptions,
  type ProbeDataset,
  type ProbeItem,
  type RgbImage,
  throwIfAborted,
} from '@neurodissect/core';
import { filesFingerprint } from './files-fingerprint';
import { decodeImage } from './image-decode';

/** A problem with one file that does not stop the operation (a skipped image, a dropped cache entry). */
export interface FileWarning {
  readonly code: string;
  readonly message: string;
  /** The file concerned. */
  readonly path: string;
}

/** A {@link ProbeDataset} read from files. */
export interface FileProbeDataset extends ProbeDataset {
  /** The directory the dataset's `uri`s are relative to. */
  readonly root: string;
  /** Every item, in dataset order. */
  readonly items: readonly ProbeItem[];
  /** Absolute path of image `index`. */
  path(index: number): string;
}

/** Options for {@link createImageFolderDataset}. */
export interface ImageFolderDatasetOptions {
  /** The folder; images are found in it and every folder below it. */
  root: string;
  /** @defaultValue the folder's name */
  name?: string;
  /**
   * File extensions read as images (case-insensitive, without the dot).
   * @defaultValue `['png', 'jpg', 'jpeg', 'webp']`
   */
  extensions?: readonly string[];
  /** Receives a warning for each file that is skipped because it is not an image. */
  onWarning?: (warning: FileWarning) => void;
}

/** An image folder as a probe set. */
export interface ImageFolderDataset extends FileProbeDataset {
  /** Relative paths of the files that were skipped (not images by extension). */
  readonly skipped: readonly string[];
}

/** Code of the warning for a file skipped because it is not an image. */
export const SKIPPED_NON_IMAGE = 'ND_SKIPPED_NON_IMAGE';

// Code-unit order, not locale order, so the dataset order is the same on every machine.
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Throws a RangeError unless `index` is an item of a dataset of `size` items. */
export function checkDatasetIndex(index: number, size: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`Image index ${index} is outside the dataset (0 to ${size - 1}).`);
  }
}

/**
 * Lists the images in a folder and its subfolders (sorted by relative path, `/`-separated, which
 * is each item's id and `uri`). Hidden files (`.name`) are ignored; other non-image files are
 * skipped with a warning. Images are decoded when read, so a corrupt file fails only its own
 * {@link ProbeDataset.read} (with `ND_IMAGE_DECODE_FAILED` naming it).
 * @throws `ND_FILE_NOT_FOUND` when the folder does not exist; `ND_EMPTY_DATASET` when it holds no
 * images.
 */
export async function createImageFolderDataset(
  options: ImageFolderDatasetOptions,
): Promise<ImageFolderDataset> {
  const root = options.root;
  const extensions = new Set(
    (options.extensions ?? ['png', 'jpg', 'jpeg', 'webp']).map((e) => e.toLowerCase()),
  );
  try {
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `The image folder ${root} does not exist or is not a folder; check the path.`,
      { cause, details: { path: root } },
    );
  }
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const images: string[] = [];
  const skipped: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    const path = relative(root, join(entry.parentPath, entry.name)).split(sep).join('/');
    if (path.split('/').some((segment) => segment.startsWith('.'))) continue;
    if (extensions.has(extname(entry.name).slice(1).toLowerCase())) images.push(path);
    else skipped.push(path);
  }
  images.sort(compareCodeUnits);
  skipped.sort(compareCodeUnits);
  for (const path of skipped) {
    options.onWarning?.({
      code: SKIPPED_NON_IMAGE,
      message: `Skipped ${path}: not an image (${[...extensions].join(', ')}).`,
      path: join(root, path),
    });
  }
  if (images.length === 0) {
    throw new NeurodissectError(
      ErrorCode.EmptyDataset,
      `The image folder ${root} holds no images (${[...extensions].join(', ')}); add some or pick another folder.`,
      { details: { path: root, skipped } },
    );
  }
  const items: ProbeItem[] = images.map((path) => ({ id: path, uri: path }));
  const pathOf = (index: number) => {
    checkDatasetIndex(index, items.length);
    return join(root, items[index].uri);
  };
  const fingerprint = await filesFingerprint(images.map((path) => join(root, path)));
  return {
    name: options.name ?? basename(root),
    size: items.length,
    root,
    items,
    skipped,
    fingerprint,
    item(index) {
      checkDatasetIndex(index, items.length);
      return items[index];
    },
    path: pathOf,
    async read(index: number, readOptions: OperationOptions = {}): Promise<RgbImage> {
      throwIfAborted(readOptions.signal);
      return decodeImage(pathOf(index));
    },
  };
}
