import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DissectionSpec,
  isNeurodissectError,
  type NeurodissectError,
  openDissection,
  type Results,
} from '@neurodissect/core';
import { createNodeRuntime, type NodeRuntime, PREPROCESS_PRESETS } from '@neurodissect/runtime-node';
import { toyWorldConceptList } from '@neurodissect/toyworld';
import { toyWorldModelPaths, writeToyWorld } from '@neurodissect/toyworld/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNodeDissectionEnvironment,
  dissectionSpecFromFiles,
  runDistributedDissection,
  startDissectionWorker,
} from '../src';
import { startRedis, type TestRedis } from './redis-server';

// The catalogue's Redis faults (case 4 of the issue): without Redis the coordinator and the
// workers give up after --redis-timeout with one message, a worker told to stop stops within
// seconds, and a run started again goes on from the feature store.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const labelsOf = (results: Results) => results.layers.map((l) => l.neurons.map((n) => n.labels));

describe('Redis faults', () => {
  let runtime: NodeRuntime;
  let work: string;
  let spec: DissectionSpec;
  let local: Results;
  const running: TestRedis[] = [];
  const redis = async (port?: number) => {
    const started = await startRedis(port);
    running.push(started);
    return started;
  };
  const portOf = (url: string) => Number(new URL(url).port);

  beforeAll(async () => {
    runtime = await createNodeRuntime();
    work = await mkdtemp(join(tmpdir(), 'neurodissect-redis-faults-'));
    await writeToyWorld(join(work, 'probe'), { seed: 4, count: 12 });
    writeFileSync(join(work, 'concepts.txt'), toyWorldConceptList().join('\n'));
    spec = await dissectionSpecFromFiles({
      model: toyWorldModelPaths().targetModel,
      probe: join(work, 'probe'),
      concepts: join(work, 'concepts.txt'),
      layers: ['layer1'],
      preprocessing: { ...PREPROCESS_PRESETS.imagenet, resizeShorter: 64, crop: 64 },
      labelers: ['broden-label'],
      trust: { permutations: 0, folds: 0, stability: 0, seed: 0 },
    });
    const dissection = await openDissection(spec, createNodeDissectionEnvironment({ runtime }));
    local = await dissection.run();
    await dissection.dispose();
  }, 60_000);

  afterAll(async () => {
    for (const r of running) await r.stop().catch(() => {});
    await runtime?.dispose();
  });

  it('the coordinator says it waits for Redis, gives up after --redis-timeout, and a rerun goes on from the store', async () => {
    const first = await redis();
    const worker = await startDissectionWorker({
      url: first.url,
      environment: createNodeDissectionEnvironment({ runtime }),
    });
    const logs: string[] = [];
    const waits: boolean[] = [];
    let shardsDone = 0;
    const cache = join(work, 'cache-coordinator');
    const started = Date.now();
    const outcome = runDistributedDissection({
      url: first.url,
      spec,
      environment: createNodeDissectionEnvironment({ runtime }),
      cache,
      shards: 3,
      pollMs: 50,
      redisTimeout: 3,
      log: (line) => logs.push(line),
      onRedisWaiting: (waiting) => waits.push(waiting),
      // Redis goes away once the image shards are done.
      onShards: (done) => {
        shardsDone = done;
      },
    }).catch((e: unknown) => e);
    while (shardsDone < 3 && Date.now() - started < 30_000) await sleep(20);
    await worker.close();
    await first.stop();
    const stoppedAt = Date.now();
    const error = (await outcome) as NeurodissectError;
    const waited = (Date.now() - stoppedAt) / 1000;
    expect(isNeurodissectError(error, 'ND_INVALID_OPTION')).toBe(true);
    expect(error.message).toMatch(
      new RegExp(
        `^Redis at ${first.url} has not answered for 3 s( \\(\\w+\\))?; what was finished is kept in the feature store: start redis-server again and run the same command to go on \\(--redis-timeout SECONDS waits longer\\)$`,
      ),
    );
    expect(waited).toBeGreaterThanOrEqual(2.5);
    expect(waited).toBeLessThan(10);
    expect(waits).toEqual([true]);
    expect(logs).toContain(
      `waiting for Redis at ${first.url} (it does not answer); giving up after 3 s without it`,
    );

    // Redis again (empty: the queue's jobs are gone): the finished image shards come from the store.
    const again = await redis(portOf(first.url));
    const second = await startDissectionWorker({
      url: again.url,
      environment: createNodeDissectionEnvironment({ runtime }),
    });
    const workerLines: string[] = [];
    try {
      const results = await runDistributedDissection({
        url: again.url,
        spec,
        environment: createNodeDissectionEnvironment({ runtime }),
        cache,
        shards: 3,
        pollMs: 50,
        log: (line) => workerLines.push(line),
      });
      expect(labelsOf(results)).toEqual(labelsOf(local));
    } finally {
      await second.close();
    }
  }, 90_000);

  it('a worker gives up after --redis-timeout without Redis, and stops within seconds when told to', async () => {
    const server = await redis();
    const lines: string[] = [];
    let lost: NeurodissectError | undefined;
    const worker = await startDissectionWorker({
      url: server.url,
      environment: createNodeDissectionEnvironment({ runtime }),
      redisTimeout: 2,
      log: (line) => lines.push(line),
      onRedisLost: (error) => {
        lost = error;
      },
    });
    await server.stop();
    const stoppedAt = Date.now();
    while (!lost && Date.now() - stoppedAt < 15_000) await sleep(50);
    expect(lost?.message).toMatch(new RegExp(`^Redis at ${server.url} has not answered for 2 s`));
    expect((Date.now() - stoppedAt) / 1000).toBeLessThan(8);
    expect(lines.filter((l) => l.startsWith('waiting for Redis'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('worker error'))).toHaveLength(0);
    const closing = Date.now();
    await worker.close();
    expect((Date.now() - closing) / 1000).toBeLessThan(5);
  }, 30_000);

  it('a worker told to stop while Redis is away stops within seconds (its default timeout is minutes)', async () => {
    const server = await redis();
    const lines: string[] = [];
    const worker = await startDissectionWorker({
      url: server.url,
      environment: createNodeDissectionEnvironment({ runtime }),
      log: (line) => lines.push(line),
    });
    await server.stop();
    const stoppedAt = Date.now();
    while (!lines.some((l) => l.startsWith('waiting for Redis')) && Date.now() - stoppedAt < 20_000)
      await sleep(50);
    expect(lines.filter((l) => l.startsWith('waiting for Redis'))).toEqual([
      `waiting for Redis at ${server.url} (it does not answer); giving up after 180 s without it`,
    ]);
    const closing = Date.now();
    await worker.close();
    expect((Date.now() - closing) / 1000).toBeLessThan(5);
  }, 30_000);

  it('Redis back within the timeout: the run goes on and gives what a local run gives', async () => {
    const server = await redis();
    const port = portOf(server.url);
    const logs: string[] = [];
    let total = 0;
    // No worker yet: the run is surely under way (its shards queued) when Redis goes away.
    const outcome = runDistributedDissection({
      url: server.url,
      spec,
      environment: createNodeDissectionEnvironment({ runtime }),
      cache: join(work, 'cache-recovers'),
      shards: 3,
      pollMs: 50,
      redisTimeout: 60,
      log: (line) => logs.push(line),
      onShards: (_, all) => {
        total = all;
      },
    });
    outcome.catch(() => {});
    while (total === 0) await sleep(20);
    await server.stop();
    const stoppedAt = Date.now();
    while (!logs.some((l) => l.startsWith('waiting for Redis')) && Date.now() - stoppedAt < 20_000)
      await sleep(50);
    // Back, empty (no persistence): the coordinator queues its shards again, a worker takes them.
    running.push(await startRedis(port));
    const worker = await startDissectionWorker({
      url: server.url,
      environment: createNodeDissectionEnvironment({ runtime }),
      redisTimeout: 60,
    });
    try {
      const results = await outcome;
      expect(labelsOf(results)).toEqual(labelsOf(local));
      expect(logs).toContain(
        `waiting for Redis at ${server.url} (it does not answer); giving up after 60 s without it`,
      );
      expect(logs).toContain(`Redis at ${server.url} answers again`);
    } finally {
      await worker.close();
    }
  }, 90_000);
});
