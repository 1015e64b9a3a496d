import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DissectionSpec, Results } from '@neurodissect/core';
import { createNodeRuntime, type NodeRuntime, PREPROCESS_PRESETS } from '@neurodissect/runtime-node';
import { toyWorldConceptList } from '@neurodissect/toyworld';
import { toyWorldModelPaths, writeToyWorld } from '@neurodissect/toyworld/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNodeDissectionEnvironment,
  type DissectionWorker,
  dissectionSpecFromFiles,
  runDistributedDissection,
  startDissectionWorker,
} from '../src';
import { startRedis, type TestRedis } from './redis-server';

// The catalogue's cases 2 and 3: the shared cache cannot be edited into the Results, and a
// corrupt label part is computed again rather than reported missing on every rerun.
describe('a distributed run on an altered shared cache', () => {
  let redis: TestRedis;
  let runtime: NodeRuntime;
  let worker: DissectionWorker;
  let work: string;
  let spec: DissectionSpec;
  let first: Results;
  const logs: string[] = [];
  const cache = () => join(work, 'cache');
  const run = () =>
    runDistributedDissection({
      url: redis.url,
      spec,
      environment: createNodeDissectionEnvironment({ runtime }),
      cache: cache(),
      shards: 2,
      pollMs: 50,
      log: (line) => logs.push(line),
    });
  /** The store's sidecars, parsed, with their paths. */
  const sidecars = () =>
    readdirSync(cache(), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ path: join(cache(), f), entry: JSON.parse(readFileSync(join(cache(), f), 'utf8')) }));
  const labelsOf = (results: Results) =>
    results.layers.map((layer) => layer.neurons.map((neuron) => neuron.labels));

  beforeAll(async () => {
    redis = await startRedis();
    runtime = await createNodeRuntime();
    work = await mkdtemp(join(tmpdir(), 'neurodissect-store-faults-'));
    await writeToyWorld(join(work, 'probe'), { seed: 3, count: 12 });
    writeFileSync(join(work, 'concepts.txt'), toyWorldConceptList().join('\n'));
    const models = toyWorldModelPaths();
    spec = await dissectionSpecFromFiles({
      model: models.targetModel,
      clip: models.clipDir,
      probe: `broden:${join(work, 'probe')}`,
      concepts: join(work, 'concepts.txt'),
      layers: ['layer1'],
      preprocessing: { ...PREPROCESS_PRESETS.imagenet, resizeShorter: 64, crop: 64 },
      labelers: ['clip-dissect', 'netdissect'],
      trust: { permutations: 0, folds: 0, stability: 0, seed: 0 },
    });
    worker = await startDissectionWorker({
      url: redis.url,
      environment: createNodeDissectionEnvironment({ runtime }),
      log: (line) => logs.push(line),
    });
    first = await run();
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await runtime?.dispose();
    await redis?.stop();
  });

  it('drops a label shard whose labels were edited in its sidecar, and labels it again', async () => {
    const shard = sidecars().find((s) => s.entry.meta?.labels?.netdissect);
    expect(shard, 'a NetDissect label shard in the store').toBeDefined();
    const text = readFileSync(shard!.path, 'utf8');
    const label = /"label":"[^"]+"/.exec(text)![0];
    const edited = text.replaceAll(label, '"label":"PWNED"');
    expect(edited).not.toBe(text);
    writeFileSync(shard!.path, edited);
    logs.length = 0;
    const again = await run();
    expect(JSON.stringify(again)).not.toContain('PWNED');
    expect(labelsOf(again)).toEqual(labelsOf(first));
    expect(logs.join('\n')).toMatch(
      /warning: Dropped the corrupt cache entry \w+ \(its metadata does not match its checksum\)/,
    );
  }, 120_000);

  it('drops a clip-dissect part whose parameters were edited (lambda), and labels it again', async () => {
    const shard = sidecars().find((s) => s.entry.meta?.labels?.['clip-dissect']?.part);
    expect(shard, 'a CLIP-Dissect label part in the store').toBeDefined();
    const entry = shard!.entry;
    const part = entry.meta.labels['clip-dissect'].part as Record<string, unknown>;
    entry.meta.labels['clip-dissect'].part = { ...part, lambda: 10 };
    writeFileSync(shard!.path, JSON.stringify(entry));
    logs.length = 0;
    const again = await run();
    expect(labelsOf(again)).toEqual(labelsOf(first));
    expect(logs.join('\n')).toMatch(/Dropped the corrupt cache entry/);
  }, 120_000);

  it('computes a label part with overwritten bytes again instead of reporting it missing', async () => {
    const part = sidecars().find((s) => s.entry.meta?.labeler === 'clip-dissect');
    expect(part, 'a CLIP-Dissect label part payload').toBeDefined();
    const npy = part!.path.replace(/\.json$/, '.npy');
    const bytes = readFileSync(npy);
    bytes.write('XXXX', bytes.length - 4, 'latin1');
    writeFileSync(npy, bytes);
    logs.length = 0;
    const again = await run();
    expect(labelsOf(again)).toEqual(labelsOf(first));
    expect(logs.join('\n')).toMatch(
      /Dropped the corrupt cache entry \w+\.\d \(payload does not match its checksum\)/,
    );
    // A second rerun finds everything in the store.
    logs.length = 0;
    expect(labelsOf(await run())).toEqual(labelsOf(first));
    expect(logs.join('\n')).not.toMatch(/Dropped/);
  }, 120_000);
});
