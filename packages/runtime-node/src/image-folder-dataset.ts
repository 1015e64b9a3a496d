import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
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
import { createProbeRoot, isInside } from './probe-root';

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
  /** The most pixels an image may have (see `decodeImage`). @defaultValue 50 megapixels */
  maxPixels?: number;
  /**
   * Receives a warning for each file that is skipped: not an image (`ND_SKIPPED_NON_IMAGE`), or a
   * symbolic link that leads outside the folder (`ND_SKIPPED_OUTSIDE_ROOT`).
   */
  onWarning?: (warning: FileWarning) => void;
}

/** An image folder as a probe set. */
export interface ImageFolderDataset extends FileProbeDataset {
  /** Relative paths of the files that were skipped (not images by extension). */
  readonly skipped: readonly string[];
}

/** Code of the warning for a file skipped because it is not an image. */
export const SKIPPED_NON_IMAGE = 'ND_SKIPPED_NON_IMAGE';
/** Code of the warning for a symbolic link skipped because it leads outside the folder. */
const SKIPPED_OUTSIDE_ROOT = 'ND_SKIPPED_OUTSIDE_ROOT';

/**
 * The folder's files below `root` (relative, `/`-separated): images, other files, and symbolic
 * links that lead outside it. Links to files and folders inside it are followed (as `find -L`
 * does: a link back to a folder above ends there, so a loop of links ends); hidden names are
 * ignored.
 */
async function listFolder(
  root: string,
  extensions: ReadonlySet<string>,
): Promise<{ images: string[]; skipped: string[]; outside: { path: string; target: string }[] }> {
  const images: string[] = [];
  const skipped: string[] = [];
  const outside: { path: string; target: string }[] = [];
  const realRoot = await realpath(root);
  // The real folders above the one being listed: a link back to one of them is a loop.
  const walk = async (folder: string, prefix: string, above: ReadonlySet<string>): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true });
    entries.sort((a, b) => compareCodeUnits(a.name, b.name));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      const full = join(folder, entry.name);
      let isFile = entry.isFile();
      let isFolder = entry.isDirectory();
      let real = full;
      if (entry.isSymbolicLink()) {
        try {
          real = await realpath(full);
          const info = await stat(real);
          isFile = info.isFile();
          isFolder = info.isDirectory();
        } catch {
          continue; // a dangling link: nothing to read
        }
        if (!isInside(realRoot, real)) {
          outside.push({ path, target: real });
          continue;
        }
      }
      if (isFolder) {
        const key = entry.isSymbolicLink() ? real : await realpath(full);
        if (above.has(key)) continue;
        await walk(full, path, new Set([...above, key]));
      } else if (isFile) {
        if (extensions.has(extname(entry.name).slice(1).toLowerCase())) images.push(path);
        else skipped.push(path);
      }
    }
  };
  await walk(root, '', new Set([realRoot]));
  return { images, skipped, outside };
}

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
 * skipped with a warning. Symbolic links to images and folders inside the folder are followed;
 * one that leads outside it is skipped with a warning, and never read. Images are decoded when read, so a corrupt file fails only its own
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
  const { images, skipped, outside } = await listFolder(root, extensions);
  images.sort(compareCodeUnits);
  skipped.sort(compareCodeUnits);
  for (const { path, target } of outside) {
    options.onWarning?.({
      code: SKIPPED_OUTSIDE_ROOT,
      message: `Skipped ${path}: it is a symbolic link that leads outside the probe folder (to ${target}).`,
      path: join(root, path),
    });
  }
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
  const confined = createProbeRoot(root);
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
      const path = pathOf(index);
      // A link replaced since the folder was listed is refused as one found then would be.
      await confined.check(path, items[index].id, `The image folder ${root}`);
      return decodeImage(path, { maxPixels: options.maxPixels });
    },
  };
}
