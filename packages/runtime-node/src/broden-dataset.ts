import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  type CsvRecord,
  ErrorCode,
  NeurodissectError,
  type OperationOptions,
  type ProbeAnnotations,
  type ProbeItem,
  parseCsv,
  throwIfAborted,
} from '@neurodissect/core';
import sharp, { type OutputInfo } from 'sharp';
import { filesFingerprint } from './files-fingerprint';
import { decodeImage } from './image-decode';
import { checkDatasetIndex, type FileProbeDataset, type FileWarning } from './image-folder-dataset';
import { createProbeRoot } from './probe-root';

/** A row of Broden's `category.csv`. */
export interface BrodenCategory {
  readonly name: string;
  readonly first: number;
  readonly last: number;
  readonly count: number;
  readonly frequency: number;
}

/** A row of Broden's `label.csv`: one label, with its global number. */
export interface BrodenLabel {
  readonly number: number;
  readonly name: string;
  /** Images per category in which the label appears (`object(12);part(3)` in the file). */
  readonly category: Readonly<Record<string, number>>;
  readonly frequency: number;
  readonly coverage: number;
  /** Synonyms. */
  readonly syns: readonly string[];
}

/** A row of a `c_<category>.csv`: the category's dense code of a label. */
export interface BrodenCategoryCode {
  readonly code: number;
  readonly number: number;
  readonly name: string;
  readonly frequency: number;
  readonly coverage: number;
}

/** What `index.csv` says about one image. */
export interface BrodenAnnotations {
  readonly split: string;
  /** Size of the image (`ih`, `iw`). */
  readonly imageHeight: number;
  readonly imageWidth: number;
  /** Size of its masks (`sh`, `sw`). */
  readonly maskHeight: number;
  readonly maskWidth: number;
  /** Whole-image labels by category (e.g. `scene`, `texture`): global label numbers. */
  readonly labels: Readonly<Record<string, readonly number[]>>;
  /** Mask files by category (e.g. `object`, `part`), relative to `images/`. */
  readonly masks: Readonly<Record<string, readonly string[]>>;
}

/** One decoded mask: a label number (R + 256·G) per pixel, row-major, `maskHeight × maskWidth`. */
export interface BrodenMask {
  readonly category: string;
  /** The mask file, relative to `images/`. */
  readonly file: string;
  readonly height: number;
  readonly width: number;
  readonly labels: Uint16Array;
}

/** Broden as a probe set (`images/` plus `index.csv`, `label.csv`, `category.csv`, `c_*.csv`). */
export interface BrodenDataset extends FileProbeDataset {
  /** The categories of `category.csv`, in file order. */
  readonly categories: readonly BrodenCategory[];
  /** Labels by global number. */
  readonly labels: ReadonlyMap<number, BrodenLabel>;
  /** Each category's dense codes (`c_<category>.csv`). */
  readonly categoryCodes: ReadonlyMap<string, readonly BrodenCategoryCode[]>;
  /**
   * The annotations in core's shape, for labelers: each label's name and primary category (the
   * one where it covers most pixels, as NetDissect assigns it), image labels and masks. An image
   * whose index row names a mask file that does not exist has neither (the labelers skip it).
   */
  readonly conceptAnnotations: ProbeAnnotations;
  /** The index row of image `index`. */
  annotations(index: number): BrodenAnnotations;
  /**
   * Decodes the mask PNGs of image `index` (all categories, or the given ones).
   * @throws `ND_FILE_NOT_FOUND` or `ND_IMAGE_DECODE_FAILED` naming the mask file;
   * `ND_INVALID_FORMAT` when a mask's size is not the index's `sh × sw`.
   */
  readMasks(
    index: number,
    options?: OperationOptions & { categories?: readonly string[] },
  ): Promise<BrodenMask[]>;
}

/** Options for {@link createBrodenDataset}. */
export interface BrodenDatasetOptions {
  /** The Broden directory (e.g. `broden1_224`). */
  root: string;
  /** @defaultValue the directory's name */
  name?: string;
  /** Keep only the images of this split (`train`, `val`). @defaultValue all */
  split?: string;
  /** The most pixels an image may have (see `decodeImage`). @defaultValue 50 megapixels */
  maxPixels?: number;
  /**
   * Receives a warning (`ND_BRODEN_INDEX`) when `index.csv` lists an image twice or names label
   * numbers that `label.csv` does not list, and (`ND_BRODEN_MASK_MISSING`) when rows name mask
   * files that do not exist (those images are left out of `conceptAnnotations`): one per kind,
   * with a count and the first row.
   */
  onWarning?: (warning: FileWarning) => void;
}

const META_COLUMNS = ['image', 'split', 'ih', 'iw', 'sh', 'sw'] as const;

async function readCsvFile(root: string, file: string): Promise<{ header: string[]; rows: CsvRecord[] }> {
  const path = join(root, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new NeurodissectError(
      ErrorCode.FileNotFound,
      `The Broden file ${path} could not be read; a Broden directory needs index.csv, label.csv, category.csv and a c_<category>.csv per category.`,
      { cause, details: { path } },
    );
  }
  const [head, ...rows] = parseCsv(text, path);
  if (!head) {
    throw new NeurodissectError(ErrorCode.InvalidFormat, `The Broden file ${path} is empty; restore it.`, {
      details: { path },
    });
  }
  return { header: head.fields, rows };
}

function columns(
  header: string[],
  required: readonly string[],
  path: string,
): (record: CsvRecord, name: string) => string {
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${path} lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (it has ${header.join(', ')}); is it a Broden file?`,
      { details: { path, missing } },
    );
  }
  const at = new Map(header.map((c, i) => [c, i]));
  return (record, name) => record.fields[at.get(name) ?? -1] ?? '';
}

function integer(value: string, path: string, record: CsvRecord, column: string): number {
  if (!/^-?\d+$/.test(value.trim())) {
    throw new NeurodissectError(
      ErrorCode.InvalidFormat,
      `${path} line ${record.line}: ${column} should be an integer, got "${value}".`,
      { details: { path, line: record.line, column } },
    );
  }
  return Number(value);
}

function number(value: string): number {
  const n = Number(value);
  return value.trim() === '' || !Number.isFinite(n) ? 0 : n;
}

/** The entries whose file (by `pathOf`) does not exist, in order; 64 checked at a time. */
async function missingFiles<T>(entries: readonly T[], pathOf: (entry: T) => string): Promise<T[]> {
  const missing = new Array<boolean>(entries.length).fill(false);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const k = next++;
      missing[k] = !(await stat(pathOf(entries[k])).then(
        (info) => info.isFile(),
        () => false,
      ));
    }
  };
  await Promise.all(Array.from({ length: Math.min(64, entries.length) }, worker));
  return entries.filter((_, k) => missing[k]);
}

/**
 * Opens a Broden-format probe set as NetDissect's `loadseg.py` reads it: `index.csv` has the
 * columns `image, split, ih, iw, sh, sw` and one per category, whose `;`-separated entries are
 * either label numbers (whole-image labels, as `scene` and `texture` have) or mask PNG files
 * relative to `images/` that encode a label number per pixel as R + 256·G.
 * Every image and mask a row names must lie inside the folder: a name that climbs out of it
 * (`../../etc/passwd`) is refused naming the row, and one that leads out through a symbolic link
 * fails its own read, naming the row.
 * @throws `ND_FILE_NOT_FOUND` naming a missing CSV file; `ND_INVALID_FORMAT` naming the file and
 * line of a malformed one, or of a row that names a file outside the folder; `ND_EMPTY_DATASET`
 * when no image is left.
 */
export async function createBrodenDataset(options: BrodenDatasetOptions): Promise<BrodenDataset> {
  const { root } = options;
  const index = await readCsvFile(root, 'index.csv');
  const indexPath = join(root, 'index.csv');
  const get = columns(index.header, META_COLUMNS, indexPath);
  const categoryColumns = index.header.filter((c) => !(META_COLUMNS as readonly string[]).includes(c));

  const categoryFile = await readCsvFile(root, 'category.csv');
  const categoryPath = join(root, 'category.csv');
  const getCategory = columns(categoryFile.header, ['name'], categoryPath);
  const categories: BrodenCategory[] = categoryFile.rows.map((r) => ({
    name: getCategory(r, 'name'),
    first: number(getCategory(r, 'first')),
    last: number(getCategory(r, 'last')),
    count: number(getCategory(r, 'count')),
    frequency: number(getCategory(r, 'frequency')),
  }));

  const labelFile = await readCsvFile(root, 'label.csv');
  const labelPath = join(root, 'label.csv');
  const getLabel = columns(labelFile.header, ['number', 'name'], labelPath);
  const labels = new Map<number, BrodenLabel>();
  for (const r of labelFile.rows) {
    const category: Record<string, number> = {};
    for (const part of getLabel(r, 'category').split(';')) {
      const match = /^([^(]*)\(([^)]*)\)$/.exec(part.trim());
      if (match) category[match[1]] = number(match[2]);
    }
    const syns = getLabel(r, 'syns');
    labels.set(integer(getLabel(r, 'number'), labelPath, r, 'number'), {
      number: Number(getLabel(r, 'number')),
      name: getLabel(r, 'name'),
      category,
      frequency: number(getLabel(r, 'frequency')),
      coverage: number(getLabel(r, 'coverage')),
      syns: syns ? syns.split(';') : [],
    });
  }

  const categoryCodes = new Map<string, BrodenCategoryCode[]>();
  for (const { name } of categories) {
    const file = `c_${name}.csv`;
    const codes = await readCsvFile(root, file);
    const getCode = columns(codes.header, ['code', 'number'], join(root, file));
    categoryCodes.set(
      name,
      codes.rows.map((r) => ({
        code: integer(getCode(r, 'code'), join(root, file), r, 'code'),
        number: integer(getCode(r, 'number'), join(root, file), r, 'number'),
        name: getCode(r, 'name'),
        frequency: number(getCode(r, 'frequency')),
        coverage: number(getCode(r, 'coverage')),
      })),
    );
  }

  const items: ProbeItem[] = [];
  const rows: BrodenAnnotations[] = [];
  // Every file an index row names stays inside the Broden folder (checked again through symbolic
  // links when it is read); `lines` says which row named it.
  const confined = createProbeRoot(root);
  const lines: number[] = [];
  const rowOf = (line: number) => `${indexPath} line ${line}`;
  const firstRow = new Map<string, number>();
  const repeated: { image: string; line: number; first: number }[] = [];
  const unknown: { label: number; category: string; line: number }[] = [];
  for (const r of index.rows) {
    if (r.fields.length !== index.header.length) {
      throw new NeurodissectError(
        ErrorCode.InvalidFormat,
        `${indexPath} line ${r.line} has ${r.fields.length} field(s) but its header has ${index.header.length} (${index.header.join(', ')}); give every row one field per column (empty where there is nothing).`,
        { details: { path: indexPath, line: r.line } },
      );
    }
    const split = get(r, 'split');
    if (options.split !== undefined && split !== options.split) continue;
    const image = get(r, 'image');
    if (!image) {
      throw new NeurodissectError(ErrorCode.InvalidFormat, `${indexPath} line ${r.line} names no image.`, {
        details: { path: indexPath, line: r.line },
      });
    }
    const imageLabels: Record<string, number[]> = {};
    const masks: Record<string, string[]> = {};
    for (const category of categoryColumns) {
      for (const entry of get(r, category).split(';')) {
        if (!entry) continue;
        if (/^\d+$/.test(entry)) {
          if (!labels.has(Number(entry))) unknown.push({ label: Number(entry), category, line: r.line });
          imageLabels[category] ??= [];
          imageLabels[category].push(Number(entry));
        } else {
          confined.path('images', entry, rowOf(r.line));
          masks[category] ??= [];
          masks[category].push(entry);
        }
      }
    }
    confined.path('images', image, rowOf(r.line));
    const first = firstRow.get(image);
    if (first !== undefined) repeated.push({ image, line: r.line, first });
    else firstRow.set(image, r.line);
    items.push({ id: image, uri: `images/${image}` });
    lines.push(r.line);
    rows.push({
      split,
      imageHeight: integer(get(r, 'ih'), indexPath, r, 'ih'),
      imageWidth: integer(get(r, 'iw'), indexPath, r, 'iw'),
      maskHeight: integer(get(r, 'sh'), indexPath, r, 'sh'),
      maskWidth: integer(get(r, 'sw'), indexPath, r, 'sw'),
      labels: imageLabels,
      masks,
    });
  }
  if (repeated.length > 0) {
    const { image, line, first } = repeated[0];
    options.onWarning?.({
      code: 'ND_BRODEN_INDEX',
      message: `${indexPath} lists ${repeated.length} image(s) more than once (e.g. ${image} on line ${line}, first on line ${first}); each row counts as an image of its own.`,
      path: indexPath,
    });
  }
  if (unknown.length > 0) {
    const { label, category, line } = unknown[0];
    options.onWarning?.({
      code: 'ND_BRODEN_INDEX',
      message: `${indexPath} names ${unknown.length} label number(s) that label.csv does not list (e.g. ${label} as ${category} on line ${line}); they have no name and match no concept.`,
      path: indexPath,
    });
  }
  if (items.length === 0) {
    throw new NeurodissectError(
      ErrorCode.EmptyDataset,
      `${indexPath} lists no images${options.split === undefined ? '' : ` in split "${options.split}"`}; check the split name or the file.`,
      { details: { path: indexPath } },
    );
  }

  const pathOf = (i: number) => {
    checkDatasetIndex(i, items.length);
    return join(root, items[i].uri);
  };

  const readMask = async (
    category: string,
    file: string,
    row: BrodenAnnotations,
    line: number,
  ): Promise<BrodenMask> => {
    const path = join(root, 'images', file);
    await confined.check(path, file, rowOf(line));
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (cause) {
      throw new NeurodissectError(
        ErrorCode.FileNotFound,
        `The Broden mask ${path} could not be read; restore it or remove its entry from index.csv.`,
        { cause, details: { path } },
      );
    }
    let decoded: { data: Buffer; info: OutputInfo };
    try {
      decoded = await sharp(bytes, { failOn: 'error' })
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
    } catch (cause) {
      throw new NeurodissectError(
        ErrorCode.ImageDecodeFailed,
        `The Broden mask ${path} could not be decoded (${(cause as Error).message}); it is corrupt or not a PNG.`,
        { cause, details: { path } },
      );
    }
    const { data, info } = decoded;
    if (info.channels < 3 || info.width !== row.maskWidth || info.height !== row.maskHeight) {
      throw new NeurodissectError(
        ErrorCode.InvalidFormat,
        `The Broden mask ${path} is ${info.width}×${info.height} with ${info.channels} channels; index.csv says ${row.maskWidth}×${row.maskHeight} RGB.`,
        { details: { path } },
      );
    }
    const labelsOut = new Uint16Array(info.width * info.height);
    for (let p = 0, o = 0; p < labelsOut.length; p++, o += info.channels) {
      labelsOut[p] = data[o] + 256 * data[o + 1];
    }
    return { category, file, height: info.height, width: info.width, labels: labelsOut };
  };

  const readMasks: BrodenDataset['readMasks'] = async (i, maskOptions = {}) => {
    checkDatasetIndex(i, items.length);
    const row = rows[i];
    const wanted = maskOptions.categories ? new Set(maskOptions.categories) : undefined;
    const out: BrodenMask[] = [];
    for (const [category, files] of Object.entries(row.masks)) {
      if (wanted && !wanted.has(category)) continue;
      for (const file of files) {
        throwIfAborted(maskOptions.signal);
        out.push(await readMask(category, file, row, lines[i]));
      }
    }
    return out;
  };

  // NetDissect's primary category of a label: the category whose c_*.csv gives it most coverage.
  const primary = new Map<number, { category: string; coverage: number }>();
  for (const [category, codes] of categoryCodes) {
    for (const { number: n, coverage } of codes) {
      const best = primary.get(n);
      if (!best || coverage > best.coverage) primary.set(n, { category, coverage });
    }
  }
  const conceptLabels = new Map<number, { name: string; category: string }>();
  for (const [n, label] of labels) {
    const fallback = Object.entries(label.category).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    conceptLabels.set(n, { name: label.name, category: primary.get(n)?.category ?? fallback });
  }

  // An image whose mask file is missing is left out of the annotations the labelers get (NetDissect
  // and Broden-label skip it), rather than failing every image's labels: said once, with a count.
  const unannotated = new Set<number>();
  const missingMasks = await missingFiles(
    rows.flatMap((row, i) => Object.values(row.masks).flatMap((files) => files.map((file) => ({ i, file })))),
    ({ file }) => join(root, 'images', file),
  );
  for (const { i } of missingMasks) unannotated.add(i);
  if (missingMasks.length > 0) {
    const { i, file } = missingMasks[0];
    options.onWarning?.({
      code: 'ND_BRODEN_MASK_MISSING',
      message: `${unannotated.size} image(s) of ${indexPath} name a mask file that does not exist (e.g. ${join(root, 'images', file)}, line ${lines[i]}); their annotations are left out, so NetDissect and Broden-label skip them.`,
      path: join(root, 'images', file),
    });
  }

  const fingerprint = await filesFingerprint(items.map((_, i) => pathOf(i)));
  return {
    name: options.name ?? basename(root),
    size: items.length,
    root,
    items,
    fingerprint,
    categories,
    labels,
    categoryCodes,
    item(i) {
      checkDatasetIndex(i, items.length);
      return items[i];
    },
    path: pathOf,
    annotations(i) {
      checkDatasetIndex(i, items.length);
      return rows[i];
    },
    async read(i, readOptions: OperationOptions = {}) {
      throwIfAborted(readOptions.signal);
      const path = pathOf(i);
      await confined.check(path, items[i].id, rowOf(lines[i]));
      return decodeImage(path, { maxPixels: options.maxPixels });
    },
    readMasks,
    conceptAnnotations: {
      labels: conceptLabels,
      imageLabels(i) {
        checkDatasetIndex(i, items.length);
        return unannotated.has(i) ? {} : rows[i].labels;
      },
      masks: async (i, maskOptions) => (unannotated.has(i) ? [] : readMasks(i, maskOptions)),
    },
  };
}
