import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCode, isNeurodissectError } from '@neurodissect/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrodenDataset,
  createBrodenDataset,
  createImageFolderDataset,
  type FileWarning,
  readProbeImages,
  SKIPPED_NON_IMAGE,
} from '../src/index';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'nd-datasets-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function put(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

/** A `width × height` RGB image whose pixel (x, y) is (x·10, y·10, value). */
function gradient(width: number, height: number, value: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x * 10, y * 10, value], (y * width + x) * 3);
  }
  return data;
}

async function png(width: number, height: number, rgb: Uint8Array): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Encodes label numbers as Broden does: R = n mod 256, G = ⌊n / 256⌋. */
async function maskPng(width: number, height: number, labels: number[]): Promise<Buffer> {
  const rgb = new Uint8Array(width * height * 3);
  labels.forEach((n, p) => {
    rgb.set([n % 256, Math.floor(n / 256), 0], p * 3);
  });
  return png(width, height, rgb);
}

describe('image folder dataset', () => {
  let root: string;
  beforeAll(async () => {
    root = join(scratch, 'folder');
    await put(join(root, 'b/z.png'), await png(4, 3, gradient(4, 3, 7)));
    await put(
      join(root, 'a.jpg'),
      await sharp(gradient(4, 3, 0), { raw: { width: 4, height: 3, channels: 3 } })
        .jpeg()
        .toBuffer(),
    );
    await put(
      join(root, 'b/a.webp'),
      await sharp(gradient(5, 5, 1), { raw: { width: 5, height: 5, channels: 3 } })
        .webp({ lossless: true })
        .toBuffer(),
    );
    await put(
      join(root, 'c/d/e.JPEG'),
      await sharp(gradient(2, 2, 2), { raw: { width: 2, height: 2, channels: 3 } })
        .jpeg()
        .toBuffer(),
    );
    await put(join(root, 'broken.png'), 'not a png');
    await put(join(root, 'notes.txt'), 'hello');
    await put(join(root, '.DS_Store'), 'x');
  });

  it('lists images recursively in a stable order, skipping non-images with a warning', async () => {
    const warnings: FileWarning[] = [];
    const dataset = await createImageFolderDataset({ root, onWarning: (w) => warnings.push(w) });
    expect(dataset.name).toBe('folder');
    expect(dataset.items.map((i) => i.id)).toEqual([
      'a.jpg',
      'b/a.webp',
      'b/z.png',
      'broken.png',
      'c/d/e.JPEG',
    ]);
    expect(dataset.item(2)).toEqual({ id: 'b/z.png', uri: 'b/z.png' });
    expect(dataset.skipped).toEqual(['notes.txt']);
    expect(warnings).toEqual([
      expect.objectContaining({ code: SKIPPED_NON_IMAGE, path: join(root, 'notes.txt') }),
    ]);
    expect(() => dataset.item(5)).toThrow(RangeError);
  });

  it("fingerprints the files' sizes and times, so other images of the same names are told apart", async () => {
    const before = await createImageFolderDataset({ root });
    expect((await createImageFolderDataset({ root })).fingerprint).toBe(before.fingerprint);
    expect(before.fingerprint).toMatch(/^files:[0-9a-f]{64}$/);
    const path = join(root, before.item(0).uri);
    const original = await readFile(path);
    await writeFile(path, await png(6, 6, gradient(6, 6, 3)));
    try {
      const after = await createImageFolderDataset({ root });
      expect(after.items).toEqual(before.items);
      expect(after.fingerprint).not.toBe(before.fingerprint);
    } finally {
      await writeFile(path, original);
    }
  });

  it('decodes images, and reports a corrupt one without losing the others', async () => {
    const dataset = await createImageFolderDataset({ root });
    const z = await dataset.read(2);
    expect([z.width, z.height]).toEqual([4, 3]);
    expect(Array.from(z.data)).toEqual(Array.from(gradient(4, 3, 7)));
    const webp = await dataset.read(1);
    expect(Array.from(webp.data)).toEqual(Array.from(gradient(5, 5, 1)));

    const error = await dataset.read(3).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.ImageDecodeFailed)).toBe(true);
    expect((error as Error).message).toContain(join(root, 'broken.png'));

    const { images, indices, failures } = await readProbeImages(dataset, [0, 1, 2, 3, 4]);
    expect(indices).toEqual([0, 1, 2, 4]);
    expect(images).toHaveLength(4);
    expect(images[2].data).toEqual(z.data);
    expect(failures).toEqual([
      expect.objectContaining({ index: 3, id: 'broken.png', code: 'ND_IMAGE_DECODE_FAILED' }),
    ]);
  });

  it('reports a missing or empty folder', async () => {
    const missing = await createImageFolderDataset({ root: join(scratch, 'nope') }).catch((e: unknown) => e);
    expect(isNeurodissectError(missing, ErrorCode.FileNotFound)).toBe(true);
    await mkdir(join(scratch, 'empty'));
    await put(join(scratch, 'empty/readme.md'), '#');
    const empty = await createImageFolderDataset({ root: join(scratch, 'empty') }).catch((e: unknown) => e);
    expect(isNeurodissectError(empty, ErrorCode.EmptyDataset)).toBe(true);
  });
});

describe('Broden dataset', () => {
  let root: string;
  // Masks are 4×3 (sw × sh); images 8×6.
  const objectMask = [0, 1, 1, 300, 0, 1, 300, 300, 1000, 1000, 0, 0];
  const partMasks = [
    [0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0],
  ];
  const colorMask = [3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4];
  const valObject = [1000, 1000, 1000, 1000, 0, 0, 0, 0, 1, 1, 1, 1];

  beforeAll(async () => {
    root = join(scratch, 'broden1_224');
    const csv = (rows: string[][]) => `${rows.map((r) => r.join(',')).join('\n')}\n`;
    await put(
      join(root, 'index.csv'),
      csv([
        ['image', 'split', 'ih', 'iw', 'sh', 'sw', 'color', 'object', 'part', 'material', 'scene', 'texture'],
        [
          'ade20k/a.png',
          'train',
          '6',
          '8',
          '3',
          '4',
          'ade20k/a_color.png',
          'ade20k/a_object.png',
          'ade20k/a_part_1.png;ade20k/a_part_2.png',
          '',
          '5',
          '',
        ],
        ['dtd/b.png', 'val', '6', '8', '3', '4', '', 'dtd/b_object.png', '', '', '', '6;7'],
        ['pascal/missing.png', 'train', '6', '8', '3', '4', '', 'pascal/missing_object.png', '', '', '', ''],
        ['pascal/corrupt.png', 'train', '6', '8', '3', '4', '', 'pascal/corrupt_object.png', '', '', '', ''],
      ]),
    );
    await put(
      join(root, 'category.csv'),
      csv([
        ['name', 'first', 'last', 'count', 'frequency'],
        ['color', '3', '4', '2', '1'],
        ['object', '1', '1000', '3', '4'],
        ['part', '2', '2', '1', '1'],
        ['scene', '5', '5', '1', '1'],
        ['texture', '6', '7', '2', '1'],
      ]),
    );
    await put(
      join(root, 'label.csv'),
      csv([
        ['number', 'name', 'category', 'frequency', 'coverage', 'syns'],
        ['1', 'wall', 'object(3)', '3', '0.25', 'walls'],
        ['2', 'leg', 'part(1)', '1', '0.1', ''],
        ['3', 'red-c', 'color(1)', '1', '0.6', ''],
        ['4', 'blue-c', 'color(1)', '1', '0.3', ''],
        ['5', 'kitchen', 'scene(1)', '1', '1.0', ''],
        ['6', 'striped', 'texture(1)', '1', '1.0', ''],
        ['7', 'dotted', 'texture(1)', '1', '1.0', ''],
        ['300', 'person', '"object(2);part(1)"', '2', '0.2', 'people;human'],
        ['1000', 'sky', 'object(2)', '2', '0.3', ''],
      ]),
    );
    await put(
      join(root, 'c_color.csv'),
      csv([
        ['code', 'number', 'name', 'frequency', 'coverage'],
        ['1', '3', 'red-c', '1', '0.6'],
        ['2', '4', 'blue-c', '1', '0.3'],
      ]),
    );
    await put(
      join(root, 'c_object.csv'),
      csv([
        ['code', 'number', 'name', 'frequency', 'coverage'],
        ['1', '1', 'wall', '3', '0.25'],
        ['2', '300', 'person', '2', '0.2'],
        ['3', '1000', 'sky', '2', '0.3'],
      ]),
    );
    await put(
      join(root, 'c_part.csv'),
      csv([
        ['code', 'number', 'name', 'frequency', 'coverage'],
        ['1', '2', 'leg', '1', '0.1'],
      ]),
    );
    await put(
      join(root, 'c_scene.csv'),
      csv([
        ['code', 'number', 'name', 'frequency', 'coverage'],
        ['1', '5', 'kitchen', '1', '1'],
      ]),
    );
    await put(
      join(root, 'c_texture.csv'),
      csv([
        ['code', 'number', 'name', 'frequency', 'coverage'],
        ['1', '6', 'striped', '1', '1'],
        ['2', '7', 'dotted', '1', '1'],
      ]),
    );
    const images = join(root, 'images');
    await put(join(images, 'ade20k/a.png'), await png(8, 6, gradient(8, 6, 9)));
    await put(join(images, 'ade20k/a_color.png'), await maskPng(4, 3, colorMask));
    await put(join(images, 'ade20k/a_object.png'), await maskPng(4, 3, objectMask));
    await put(join(images, 'ade20k/a_part_1.png'), await maskPng(4, 3, partMasks[0]));
    await put(join(images, 'ade20k/a_part_2.png'), await maskPng(4, 3, partMasks[1]));
    await put(join(images, 'dtd/b.png'), await png(8, 6, gradient(8, 6, 1)));
    await put(join(images, 'dtd/b_object.png'), await maskPng(4, 3, valObject));
    await put(join(images, 'pascal/missing_object.png'), await maskPng(4, 3, valObject));
    await put(join(images, 'pascal/corrupt.png'), 'garbage');
    await put(join(images, 'pascal/corrupt_object.png'), (await maskPng(4, 3, valObject)).subarray(0, 40));
  });

  let dataset: BrodenDataset;
  beforeAll(async () => {
    dataset = await createBrodenDataset({ root });
  });

  it('reads index.csv, label.csv, category.csv and the c_*.csv codes', () => {
    expect(dataset.name).toBe('broden1_224');
    expect(dataset.size).toBe(4);
    expect(dataset.item(0)).toEqual({ id: 'ade20k/a.png', uri: 'images/ade20k/a.png' });
    expect(dataset.categories.map((c) => c.name)).toEqual(['color', 'object', 'part', 'scene', 'texture']);
    expect(dataset.labels.get(300)).toEqual({
      number: 300,
      name: 'person',
      category: { object: 2, part: 1 },
      frequency: 2,
      coverage: 0.2,
      syns: ['people', 'human'],
    });
    expect(dataset.categoryCodes.get('object')?.map((c) => [c.code, c.number])).toEqual([
      [1, 1],
      [2, 300],
      [3, 1000],
    ]);
    expect(dataset.annotations(0)).toEqual({
      split: 'train',
      imageHeight: 6,
      imageWidth: 8,
      maskHeight: 3,
      maskWidth: 4,
      labels: { scene: [5] },
      masks: {
        color: ['ade20k/a_color.png'],
        object: ['ade20k/a_object.png'],
        part: ['ade20k/a_part_1.png', 'ade20k/a_part_2.png'],
      },
    });
    expect(dataset.annotations(1).labels).toEqual({ texture: [6, 7] });
  });

  it("exposes core's concept annotations, with each label's primary category", async () => {
    const annotations = dataset.conceptAnnotations;
    expect(annotations.labels.get(300)).toEqual({ name: 'person', category: 'object' });
    expect(annotations.labels.get(2)).toEqual({ name: 'leg', category: 'part' });
    expect(annotations.labels.get(6)).toEqual({ name: 'striped', category: 'texture' });
    expect(annotations.imageLabels(1)).toEqual({ texture: [6, 7] });
    const masks = await annotations.masks(0);
    expect(masks.map((m) => m.category)).toEqual(['color', 'object', 'part', 'part']);
    expect(Array.from(masks[1].labels)).toEqual(objectMask);
  });

  it('decodes masks as R + 256·G label numbers', async () => {
    const masks = await dataset.readMasks(0);
    expect(masks.map((m) => [m.category, m.file, m.width, m.height])).toEqual([
      ['color', 'ade20k/a_color.png', 4, 3],
      ['object', 'ade20k/a_object.png', 4, 3],
      ['part', 'ade20k/a_part_1.png', 4, 3],
      ['part', 'ade20k/a_part_2.png', 4, 3],
    ]);
    expect(Array.from(masks[0].labels)).toEqual(colorMask);
    expect(Array.from(masks[1].labels)).toEqual(objectMask);
    expect(Array.from(masks[2].labels)).toEqual(partMasks[0]);
    expect(Array.from(masks[3].labels)).toEqual(partMasks[1]);
    const objects = await dataset.readMasks(1, { categories: ['object'] });
    expect(objects.map((m) => Array.from(m.labels))).toEqual([valObject]);
    const image = await dataset.read(0);
    expect(Array.from(image.data)).toEqual(Array.from(gradient(8, 6, 9)));
  });

  it('reports missing and corrupt files by name, keeping the rest readable', async () => {
    const missing = await dataset.read(2).catch((e: unknown) => e);
    expect(isNeurodissectError(missing, ErrorCode.FileNotFound)).toBe(true);
    expect((missing as Error).message).toContain(join(root, 'images/pascal/missing.png'));
    const corrupt = await dataset.readMasks(3).catch((e: unknown) => e);
    expect(isNeurodissectError(corrupt, ErrorCode.ImageDecodeFailed)).toBe(true);
    expect((corrupt as Error).message).toContain('corrupt_object.png');
    const { indices, failures } = await readProbeImages(dataset, [0, 1, 2, 3]);
    expect(indices).toEqual([0, 1]);
    expect(failures.map((f) => [f.id, f.code])).toEqual([
      ['pascal/missing.png', 'ND_FILE_NOT_FOUND'],
      ['pascal/corrupt.png', 'ND_IMAGE_DECODE_FAILED'],
    ]);
  });

  it('filters by split and names a missing CSV file', async () => {
    const val = await createBrodenDataset({ root, split: 'val' });
    expect(val.items.map((i) => i.id)).toEqual(['dtd/b.png']);
    await unlink(join(root, 'c_texture.csv'));
    const error = await createBrodenDataset({ root }).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.FileNotFound)).toBe(true);
    expect((error as Error).message).toContain(join(root, 'c_texture.csv'));
  });

  it('names an index.csv row with too few fields, with its line and the header it should follow', async () => {
    const short = join(scratch, 'short-broden');
    for (const file of ['label.csv', 'c_color.csv'])
      await put(join(short, file), await readFile(join(root, file)));
    await put(join(short, 'category.csv'), 'name\ncolor\n');
    await put(join(short, 'index.csv'), 'image,split,ih,iw,sh,sw,color\ndtd/b.png,val,6\n');
    const error = await createBrodenDataset({ root: short }).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.InvalidFormat)).toBe(true);
    expect((error as Error).message).toBe(
      `${join(short, 'index.csv')} line 2 has 3 field(s) but its header has 7 (image, split, ih, iw, sh, sw, color); give every row one field per column (empty where there is nothing).`,
    );
  });
});
