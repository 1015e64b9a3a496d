import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv } from '@neurodissect/core';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BRODEN_INDEX_COLUMNS,
  type BrodenFile,
  decodeLabelMaskPng,
  encodeLabelMaskPng,
  generateToyWorld,
  TOYWORLD_LABELS,
  toyWorldBrodenFiles,
} from '../src/index';
import { writeToyWorld } from '../src/node';

const COUNT = 8;
const files = new Map<string, BrodenFile['data']>();
for (const file of toyWorldBrodenFiles({ seed: 5, count: COUNT })) files.set(file.path, file.data);
const world = generateToyWorld({ seed: 5, count: COUNT });

function csv(path: string): string[][] {
  const text = files.get(path);
  if (typeof text !== 'string') throw new Error(`${path} is missing`);
  return parseCsv(text, path).map((r) => r.fields);
}

// sharp (libvips + libpng) decodes independently of the encoder the package uses.
async function decodeWithSharp(bytes: BrodenFile['data']) {
  const { data, info } = await sharp(Buffer.from(bytes as Uint8Array))
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), channels: info.channels, width: info.width, height: info.height };
}

describe('toyWorldBrodenFiles', () => {
  it('is byte-for-byte deterministic', () => {
    const again = [...toyWorldBrodenFiles({ seed: 5, count: COUNT })];
    expect(again.map((f) => f.path)).toEqual([...files.keys()]);
    for (const f of again) expect(Buffer.from(f.data).equals(Buffer.from(files.get(f.path)!))).toBe(true);
  });

  it('writes index.csv with Broden’s columns, image-level textures and mask paths', () => {
    const rows = csv('index.csv');
    expect(rows[0]).toEqual([...BRODEN_INDEX_COLUMNS]);
    expect(rows).toHaveLength(COUNT + 1);
    rows.slice(1).forEach((row, i) => {
      const im = world.images[i];
      expect(row).toEqual([
        `toyworld/00000${i}.png`,
        'train',
        '64',
        '64',
        '64',
        '64',
        `toyworld/00000${i}_color.png`,
        `toyworld/00000${i}_object.png`,
        '',
        '',
        '',
        String(TOYWORLD_LABELS.find((l) => l.name === im.texture)!.number),
      ]);
      expect(
        files.has(`images/${row[0]}`) && files.has(`images/${row[6]}`) && files.has(`images/${row[7]}`),
      ).toBe(true);
    });
  });

  it('writes label.csv, category.csv and c_*.csv whose counts match the masks', () => {
    const labels = csv('label.csv');
    expect(labels[0]).toEqual(['number', 'name', 'category', 'frequency', 'coverage', 'syns']);
    // Frequencies recounted here from the in-memory masks.
    for (const row of labels.slice(1)) {
      const label = TOYWORLD_LABELS[Number(row[0]) - 1];
      expect(row[1]).toBe(label.name);
      let frequency = 0;
      let coverage = 0;
      for (const im of world.images) {
        if (label.category === 'texture') {
          if (im.texture === label.name) {
            frequency++;
            coverage++;
          }
          continue;
        }
        const mask = label.category === 'color' ? im.colorMask : im.objectMask;
        const n = mask.filter((v) => v === label.number).length;
        if (n > 0) frequency++;
        coverage += n / mask.length;
      }
      expect(row[2]).toBe(`${label.category}(${frequency})`);
      expect(Number(row[3])).toBe(frequency);
      expect(Number(row[4])).toBeCloseTo(coverage, 5);
    }
    expect(csv('category.csv')).toEqual([
      ['name', 'first', 'last', 'count', 'frequency'],
      ['color', '1', '11', '11', String(COUNT)],
      ['object', '12', '19', '8', String(COUNT)],
      ['texture', '20', '25', '6', String(COUNT)],
    ]);
    const objects = csv('c_object.csv');
    expect(objects[0]).toEqual(['code', 'number', 'name', 'frequency', 'coverage']);
    expect(objects.slice(1).map((r) => [r[0], r[1], r[2]])).toEqual(
      TOYWORLD_LABELS.filter((l) => l.category === 'object').map((l, i) => [
        String(i + 1),
        String(l.number),
        l.name,
      ]),
    );
    expect(csv('c_color.csv')).toHaveLength(12);
    expect(csv('c_texture.csv')).toHaveLength(7);
    expect(csv('captions.csv')[1]).toEqual(['toyworld/000000.png', world.images[0].caption]);
  });

  it('encodes masks as RGB PNGs whose R + 256·G is the label number', async () => {
    for (const im of world.images.slice(0, 3)) {
      for (const [suffix, mask] of [
        ['color', im.colorMask],
        ['object', im.objectMask],
      ] as const) {
        const png = await decodeWithSharp(files.get(`images/${im.id}_${suffix}.png`)!);
        expect(png.channels).toBe(3);
        const labels = new Uint16Array(png.width * png.height);
        for (let p = 0; p < labels.length; p++) labels[p] = png.data[p * 3] + 256 * png.data[p * 3 + 1];
        expect(labels).toEqual(mask);
        expect(decodeLabelMaskPng(files.get(`images/${im.id}_${suffix}.png`) as Uint8Array).labels).toEqual(
          mask,
        );
      }
      const rgb = await decodeWithSharp(files.get(`images/${im.id}.png`)!);
      expect(rgb.data).toEqual(im.image.data);
    }
  });

  it('round-trips label numbers above 255 through the green channel', async () => {
    const mask = Uint16Array.from([0, 1, 255, 256, 300, 1138, 65535, 42]);
    const png = await decodeWithSharp(encodeLabelMaskPng(mask, 4, 2));
    expect(Array.from({ length: 8 }, (_, p) => png.data[p * 3] + 256 * png.data[p * 3 + 1])).toEqual([
      ...mask,
    ]);
    expect(() => encodeLabelMaskPng(mask, 3, 3)).toThrow(RangeError);
  });
});

describe('writeToyWorld', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the same files to disk and reports progress per image', async () => {
    dir = await mkdtemp(join(tmpdir(), 'toyworld-'));
    const progress: number[] = [];
    const written = await writeToyWorld(dir, {
      seed: 5,
      count: COUNT,
      onProgress: (e) => progress.push(e.done),
    });
    expect(written).toEqual({ dir, count: COUNT, files: files.size });
    expect(progress).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
    expect(await readFile(join(dir, 'index.csv'), 'utf8')).toBe(files.get('index.csv'));
    const onDisk = await readFile(join(dir, 'images', 'toyworld', '000003_object.png'));
    expect(onDisk.equals(Buffer.from(files.get('images/toyworld/000003_object.png')!))).toBe(true);
  });

  it('stops with ND_ABORTED when its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      writeToyWorld(join(dir, 'never'), { count: 2, signal: controller.signal }),
    ).rejects.toMatchObject({
      code: 'ND_ABORTED',
    });
  });
});
