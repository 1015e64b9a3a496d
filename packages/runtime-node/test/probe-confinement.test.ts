import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCode, isNeurodissectError } from '@neurodissect/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrodenDataset, createImageFolderDataset, type FileWarning } from '../src/index';

// The catalogue's confinement cases: a probe set reads only files inside its folder, whatever its
// index names and wherever its symbolic links lead.
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'nd-confine-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function put(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}
const png = (value: number) =>
  sharp(Buffer.alloc(4 * 3 * 3, value), { raw: { width: 4, height: 3, channels: 3 } })
    .png()
    .toBuffer();

/** A one-category Broden folder whose index lists `image` (and `mask` as its colour mask). */
async function broden(name: string, image: string, mask = ''): Promise<string> {
  const root = join(scratch, name);
  await put(join(root, 'index.csv'), `image,split,ih,iw,sh,sw,color\n${image},val,3,4,3,4,${mask}\n`);
  await put(join(root, 'label.csv'), 'number,name,category,frequency,coverage,syns\n1,red,color(1),1,1,\n');
  await put(join(root, 'category.csv'), 'name,first,last,count,frequency\ncolor,1,1,1,1\n');
  await put(join(root, 'c_color.csv'), 'code,number,name,frequency,coverage\n1,1,red,1,1\n');
  return root;
}

describe('a Broden index cannot name a file outside its folder', () => {
  it('refuses a row that climbs out of the folder, naming the row', async () => {
    for (const name of ['../../../../etc/passwd', '/etc/passwd', 'ok/../../../index.csv']) {
      const root = await broden(`climb-${name.length}`, name);
      const error = await createBrodenDataset({ root }).catch((e: unknown) => e);
      expect(isNeurodissectError(error, ErrorCode.InvalidFormat), name).toBe(true);
      expect((error as Error).message).toBe(
        `${join(root, 'index.csv')} line 2 names ${name}, which is outside the probe folder ${root}; a probe set may only name files inside its folder.`,
      );
    }
    const mask = await broden('climb-mask', 'a.png', '../../secret.png');
    const error = await createBrodenDataset({ root: mask }).catch((e: unknown) => e);
    expect((error as Error).message).toContain(
      'line 2 names ../../secret.png, which is outside the probe folder',
    );
  });

  it('refuses to read an image or mask whose symbolic link leads out of the folder, naming the row', async () => {
    const secret = join(scratch, 'private.png');
    await put(secret, await png(200));
    const root = await broden('linked', 'a.png', 'a_color.png');
    await mkdir(join(root, 'images'), { recursive: true });
    await symlink(secret, join(root, 'images/a.png'));
    await symlink(secret, join(root, 'images/a_color.png'));
    const dataset = await createBrodenDataset({ root });
    const error = await dataset.read(0).catch((e: unknown) => e);
    expect(isNeurodissectError(error, ErrorCode.InvalidFormat)).toBe(true);
    expect((error as Error).message).toBe(
      `${join(root, 'index.csv')} line 2 names a.png, which leads outside the probe folder ${root} (to ${secret}); a probe set may only name files inside its folder.`,
    );
    await expect(dataset.readMasks(0)).rejects.toThrow(/line 2 names a_color\.png, which leads outside/);

    // A link that stays inside the folder is followed.
    const inside = await broden('linked-inside', 'a.png');
    await put(join(inside, 'images/real/a.png'), await png(10));
    await symlink(join(inside, 'images/real/a.png'), join(inside, 'images/a.png'));
    const image = await (await createBrodenDataset({ root: inside })).read(0);
    expect([image.width, image.height, image.data[0]]).toEqual([4, 3, 10]);
  });
});

describe('an image folder follows only the symbolic links that stay inside it', () => {
  it('reads linked images and folders inside it, skips with a warning a link that leads out, and ends a loop of links', async () => {
    const outside = join(scratch, 'elsewhere');
    await put(join(outside, 'private.png'), await png(200));
    const root = join(scratch, 'folder');
    await put(join(root, 'a.png'), await png(1));
    await put(join(root, 'sub/b.png'), await png(2));
    await symlink(join(root, 'a.png'), join(root, 'alias.png'));
    await symlink(join(root, 'sub'), join(root, 'linked-sub'));
    await symlink(join(outside, 'private.png'), join(root, 'leak.png'));
    await symlink(outside, join(root, 'leak-folder'));
    await symlink(root, join(root, 'sub/loop'));
    const warnings: FileWarning[] = [];
    const dataset = await createImageFolderDataset({ root, onWarning: (w) => warnings.push(w) });
    expect(dataset.items.map((i) => i.id)).toEqual(['a.png', 'alias.png', 'linked-sub/b.png', 'sub/b.png']);
    expect((await dataset.read(1)).data[0]).toBe(1);
    expect((await dataset.read(2)).data[0]).toBe(2);
    expect(warnings.map((w) => [w.code, w.message])).toEqual([
      [
        'ND_SKIPPED_OUTSIDE_ROOT',
        `Skipped leak-folder: it is a symbolic link that leads outside the probe folder (to ${outside}).`,
      ],
      [
        'ND_SKIPPED_OUTSIDE_ROOT',
        `Skipped leak.png: it is a symbolic link that leads outside the probe folder (to ${join(outside, 'private.png')}).`,
      ],
    ]);
  });
});

describe('a Broden index with repeated rows or unknown label numbers', () => {
  it('says so, once per kind, with a count and the first row', async () => {
    const root = join(scratch, 'oddities');
    await put(
      join(root, 'index.csv'),
      'image,split,ih,iw,sh,sw,color,texture\na.png,val,3,4,3,4,,1\nb.png,val,3,4,3,4,,99\na.png,val,3,4,3,4,,98\n',
    );
    await put(join(root, 'label.csv'), 'number,name,category,frequency,coverage,syns\n1,red,color(1),1,1,\n');
    await put(join(root, 'category.csv'), 'name,first,last,count,frequency\ncolor,1,1,1,1\n');
    await put(join(root, 'c_color.csv'), 'code,number,name,frequency,coverage\n1,1,red,1,1\n');
    const warnings: FileWarning[] = [];
    const dataset = await createBrodenDataset({ root, onWarning: (w) => warnings.push(w) });
    expect(dataset.size).toBe(3);
    const index = join(root, 'index.csv');
    expect(warnings.map((w) => w.message)).toEqual([
      `${index} lists 1 image(s) more than once (e.g. a.png on line 4, first on line 2); each row counts as an image of its own.`,
      `${index} names 2 label number(s) that label.csv does not list (e.g. 99 as texture on line 3); they have no name and match no concept.`,
    ]);
  });
});

describe('a Broden image whose mask file is missing', () => {
  it('is left out of the annotations the labelers get, with one warning and a count', async () => {
    const root = await broden('mask-missing', 'a.png', 'a_color.png');
    const index = join(root, 'index.csv');
    await writeFile(
      index,
      `${await import('node:fs/promises').then((fs) => fs.readFile(index, 'utf8'))}b.png,val,3,4,3,4,b_color.png\n`,
    );
    await put(join(root, 'images/a.png'), await png(1));
    await put(join(root, 'images/b.png'), await png(2));
    const mask = await sharp(Buffer.alloc(4 * 3 * 3, 0).fill(1, 0, 1), {
      raw: { width: 4, height: 3, channels: 3 },
    })
      .png()
      .toBuffer();
    await put(join(root, 'images/b_color.png'), mask);
    const warnings: FileWarning[] = [];
    const dataset = await createBrodenDataset({ root, onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => [w.code, w.message])).toEqual([
      [
        'ND_BRODEN_MASK_MISSING',
        `1 image(s) of ${index} name a mask file that does not exist (e.g. ${join(root, 'images/a_color.png')}, line 2); their annotations are left out, so NetDissect and Broden-label skip them.`,
      ],
    ]);
    expect(await dataset.conceptAnnotations.masks(0)).toEqual([]);
    expect(dataset.conceptAnnotations.imageLabels(0)).toEqual({});
    expect((await dataset.conceptAnnotations.masks(1)).map((m) => m.category)).toEqual(['color']);
    // The index itself is read as it is.
    await expect(dataset.readMasks(0)).rejects.toThrow(/a_color\.png could not be read/);
  });
});
