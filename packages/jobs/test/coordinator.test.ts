import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNeurodissectError, type NeurodissectError } from '@neurodissect/core';
import { createNodeRuntime, type NodeRuntime, PREPROCESS_PRESETS } from '@neurodissect/runtime-node';
import { toyWorldConceptList } from '@neurodissect/toyworld';
import { toyWorldModelPaths, writeToyWorld } from '@neurodissect/toyworld/node';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkRedis,
  createNodeDissectionEnvironment,
  dissectionSpecFromFiles,
  QUEUE_PREFIX,
  redisConnection,
  runDistributedDissection,
  SHARD_QUEUE,
  type ShardJobData,
  shardJobId,
  splitRange,
} from '../src';
import { freePort, startRedis, type TestRedis } from './redis-server';

describe('queue helpers', () => {
  it('reads Redis URLs and refuses others', () => {
    expect(redisConnection('redis://10.0.0.5:6380/2')).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2 });
    expect(redisConnection('redis://:secret@127.0.0.1')).toMatchObject({ port: 6379, password: 'secret' });
    expect(() => redisConnection('http://127.0.0.1:6379')).toThrow(
      /not a Redis URL; give redis:\/\/HOST:PORT/,
    );
    expect(() => redisConnection('127.0.0.1:6379')).toThrow(/not a Redis URL/);
  });

  it('splits ranges evenly and names jobs by what they do', () => {
    expect(splitRange(10, 3)).toEqual([
      { start: 0, end: 3 },
      { start: 3, end: 6 },
      { start: 6, end: 10 },
    ]);
    expect(splitRange(2, 8)).toEqual([
      { start: 0, end: 1 },
      { start: 1, end: 2 },
    ]);
    expect(shardJobId('abc', { kind: 'labels', layer: 'layer4.2/conv:0', start: 0, end: 64 })).toBe(
      'abc.labels.layer4.2_conv_0.0-64',
    );
    expect(shardJobId('abc', { kind: 'features', start: 100, end: 200 })).toBe('abc.features.100-200');
    expect(
      shardJobId('abc', {
        kind: 'labels',
        layer: 'layer4',
        start: 0,
        end: 8,
        labelers: ['clip-dissect', 'clip-avg'],
      }),
    ).toBe('abc.labels.layer4.0-8.clip-dissect.clip-avg');
  });

  it('names the URL when Redis does not answer', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const error = await checkRedis(url).catch((e: unknown) => e);
    expect(isNeurodissectError(error)).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`cannot reach Redis at ${url} \\(ECONNREFUSED\\)`));
  });
});

describe('the coordinator', () => {
  let redis: TestRedis;
  let runtime: NodeRuntime;
  let work: string;

  beforeAll(async () => {
    redis = await startRedis();
    runtime = await createNodeRuntime();
    work = await mkdtemp(join(tmpdir(), 'neurodissect-coordinator-'));
    await writeToyWorld(join(work, 'probe'), { seed: 1, count: 12 });
    writeFileSync(join(work, 'concepts.txt'), toyWorldConceptList().join('\n'));
  }, 60_000);

  afterAll(async () => {
    await runtime?.dispose();
    await redis?.stop();
  });

  it('fails the run naming the shard that failed three times, with its error', async () => {
    const models = toyWorldModelPaths();
    const spec = await dissectionSpecFromFiles({
      model: models.targetModel,
      probe: join(work, 'probe'),
      concepts: join(work, 'concepts.txt'),
      layers: ['layer1'],
      preprocessing: { ...PREPROCESS_PRESETS.imagenet, resizeShorter: 64, crop: 64 },
      labelers: ['broden-label'],
    });
    // A worker whose every try fails, as one with a broken disk would.
    const tries = new Map<string, number>();
    const broken = new Worker<ShardJobData>(
      SHARD_QUEUE,
      async (job) => {
        tries.set(job.id!, (tries.get(job.id!) ?? 0) + 1);
        throw new Error('disk quota exceeded');
      },
      { connection: redisConnection(redis.url), prefix: QUEUE_PREFIX },
    );
    try {
      const error = (await runDistributedDissection({
        url: redis.url,
        spec,
        environment: createNodeDissectionEnvironment({ runtime }),
        cache: join(work, 'cache'),
        shards: 2,
        pollMs: 50,
      }).catch((e: unknown) => e)) as NeurodissectError<'ND_SHARD_FAILED'>;
      expect(isNeurodissectError(error, 'ND_SHARD_FAILED')).toBe(true);
      expect(error.message).toMatch(
        /^The shard \w+\.features\.(0-6 \(probe images 0–5\)|6-12 \(probe images 6–11\)) failed 3 times: disk quota exceeded$/,
      );
      expect(tries.get(error.details.jobId as string)).toBe(3);
    } finally {
      await broken.close();
    }
  }, 60_000);
});
