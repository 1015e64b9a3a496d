import {
  ErrorCode,
  NeurodissectError,
  type OperationOptions,
  type ProbeDataset,
  type ProbeItem,
  type RgbImage,
  throwIfAborted,
} from '@neurodissect/core';
import { decodeImage } from './image-decode';

/** A probe set read in the browser, with its items. */
export interface WebProbeDataset extends ProbeDataset {
  /** Every item, in dataset order. */
  readonly items: readonly ProbeItem[];
}

/** Options for {@link createFileDataset}. */
export interface FileDatasetOptions {
  /** @defaultValue the common top folder of the files, or `'files'` */
  name?: string;
  /**
   * File extensions read as images (case-insensitive, without the dot); other files are skipped
   * and listed in `skipped`.
   * @defaultValue `['png', 'jpg', 'jpeg', 'webp']`
   */
  extensions?: readonly string[];
}

// Code-unit order, not locale order, so the dataset order is the same on every machine.
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/**
 * A picked file with its path inside the picked folder: what `webkitRelativePath` says, kept
 * explicitly because a `File` sent to a Web Worker loses it.
 */
export interface PickedFile {
  readonly path: string;
  readonly file: Blob;
}

function isPickedFile(entry: File | PickedFile): entry is PickedFile {
  return typeof (entry as PickedFile).path === 'string' && (entry as PickedFile).file instanceof Blob;
}

/** A picked file as a {@link PickedFile}: its path is `webkitRelativePath`, or its name. */
export function pickedFile(entry: File | PickedFile): PickedFile {
  if (isPickedFile(entry)) return entry;
  return {
    path: (entry as File & { webkitRelativePath?: string }).webkitRelativePath || entry.name,
    file: entry,
  };
}

function checkIndex(index: number, size: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`Image index ${index} is outside the dataset (0 to ${size - 1}).`);
  }
}

/**
 * A probe set from files the user picked (`<input type="file" webkitdirectory multiple>` or a
 * drop): images by extension, ordered by their path inside the picked folder, as runtime-node's
 * image-folder dataset orders them. Nothing leaves the machine. In a Web Worker, pass
 * {@link PickedFile}s (a `File` posted to a worker loses its `webkitRelativePath`).
 * @throws `ND_EMPTY_DATASET` when no file is an image.
 */
export function createFileDataset(
  files: Iterable<File | PickedFile> | ArrayLike<File | PickedFile>,
  options: FileDatasetOptions = {},
): WebProbeDataset & {
  readonly skipped: readonly string[];
  /** The image files, in dataset order (`files[i]` is item `i`). */
  readonly files: readonly PickedFile[];
} {
  const extensions = new Set(
    (options.extensions ?? ['png', 'jpg', 'jpeg', 'webp']).map((e) => e.toLowerCase()),
  );
  const all = Array.from(files as ArrayLike<File | PickedFile>, pickedFile);
  const images = all
    .filter((f) => extensions.has(extensionOf(f.path)))
    .sort((a, b) => compareCodeUnits(a.path, b.path));
  const skipped = all.filter((f) => !extensions.has(extensionOf(f.path))).map((f) => f.path);
  if (!images.length) {
    throw new NeurodissectError(
      ErrorCode.EmptyDataset,
      `None of the ${all.length} files is an image (${[...extensions].join(', ')}); pick a folder of images.`,
      { details: { skipped } },
    );
  }
  const top = images[0].path.split('/');
  const name = options.name ?? (top.length > 1 ? top[0] : 'files');
  const items = images.map(({ path }) => {
    const uri = top.length > 1 && path.startsWith(`${top[0]}/`) ? path.slice(top[0].length + 1) : path;
    return { id: uri, uri };
  });
  return {
    name,
    size: images.length,
    items,
    skipped,
    files: images,
    // Sizes and modification times: picking other images of the same names must not reuse features.
    fingerprint: images.map(({ file }) => `${file.size}:${(file as File).lastModified ?? ''}`).join(','),
    item(index) {
      checkIndex(index, images.length);
      return items[index];
    },
    async read(index, readOptions: OperationOptions = {}): Promise<RgbImage> {
      checkIndex(index, images.length);
      throwIfAborted(readOptions.signal);
      return decodeImage(images[index].file, { name: items[index].uri });
    },
  };
}

/** Options for {@link createUrlDataset}. */
export interface UrlDatasetOptions {
  /** @defaultValue `'urls'` */
  name?: string;
}

/**
 * A probe set of image URLs (relative URLs resolve against the page). Images are fetched when
 * read, in the order given; ids are the URLs.
 * @throws `ND_EMPTY_DATASET` for an empty list.
 */
export function createUrlDataset(
  urls: readonly (string | URL)[],
  options: UrlDatasetOptions = {},
): WebProbeDataset {
  if (!urls.length) {
    throw new NeurodissectError(
      ErrorCode.EmptyDataset,
      'The URL list is empty; pass at least one image URL.',
    );
  }
  const items = urls.map((u) => {
    const uri = String(u);
    return { id: uri, uri };
  });
  return {
    name: options.name ?? 'urls',
    size: items.length,
    items,
    item(index) {
      checkIndex(index, items.length);
      return items[index];
    },
    async read(index, readOptions: OperationOptions = {}) {
      checkIndex(index, items.length);
      throwIfAborted(readOptions.signal);
      return decodeImage(items[index].uri, readOptions.signal ? { signal: readOptions.signal } : {});
    },
  };
}
