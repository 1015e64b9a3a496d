import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBrodenDataset } from '@neurodissect/runtime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToyWorldDataset } from '../src/index';
import { writeToyWorld } from '../src/node';

const OPTIONS = { seed: 7, count: 6, size: 48 };

describe('createToyWorldDataset', () => {
  let dir: string;
  let broden: Awaited<ReturnType<typeof createBrodenDataset>>;
  const dataset = createToyWorldDataset(OPTIONS);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nd-toyworld-dataset-'));
    await writeToyWorld(dir, OPTIONS);
    broden = await createBrodenDataset({ root: dir });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is the Broden folder of the same world, read through the Broden loader', async () => {
    expect(dataset.size).toBe(broden.size);
    const annotations = broden.conceptAnnotations!;
    expect([...dataset.conceptAnnotations.labels.entries()]).toEqual([...annotations.labels.entries()]);
    for (let i = 0; i < dataset.size; i++) {
      expect(dataset.item(i)).toEqual(broden.item(i));
      const [mine, theirs] = await Promise.all([dataset.read(i), broden.read(i)]);
      expect([mine.width, mine.height]).toEqual([theirs.width, theirs.height]);
      expect(Buffer.from(mine.data).equals(Buffer.from(theirs.data))).toBe(true);
      expect(dataset.conceptAnnotations.imageLabels(i)).toEqual(annotations.imageLabels(i));
      const [myMasks, theirMasks] = await Promise.all([
        dataset.conceptAnnotations.masks(i),
        annotations.masks(i),
      ]);
      expect(myMasks.map((m) => m.category)).toEqual(theirMasks.map((m) => m.category));
      myMasks.forEach((mask, k) => {
        expect([mask.width, mask.height]).toEqual([theirMasks[k].width, theirMasks[k].height]);
        expect(Array.from(mask.labels)).toEqual(Array.from(theirMasks[k].labels));
      });
    }
  });

  it('rejects an index outside the world and an aborted read', async () => {
    expect(() => dataset.item(6)).toThrow(/outside the toy world \(0 to 5\)/);
    const controller = new AbortController();
    controller.abort();
    await expect(dataset.read(0, { signal: controller.signal })).rejects.toThrow();
  });
});
