import { isAbsolute } from 'node:path';
import {
  type DissectionEnvironment,
  dissectionSpecId,
  type NeurodissectError,
  type OpenedDissection,
  openDissection,
  type ShardTraffic,
} from '@neurodissect/core';
import { createFileFeatureStore } from '@neurodissect/runtime-node';
import { type Job, Worker } from 'bullmq';
import {
  checkRedis,
  describeShard,
  QUEUE_PREFIX,
  redisConnection,
  SHARD_QUEUE,
  type ShardJobData,
  type ShardJobResult,
} from './queue';
import { createRedisWatch, DEFAULT_REDIS_TIMEOUT_SECONDS, isConnectionError } from './redis-watch';

/** Options of {@link startDissectionWorker}. */
export interface DissectionWorkerOptions {
  /** Redis, as `redis://HOST:PORT`. */
  url: string;
  /** Where this worker opens specs: `createNodeDissectionEnvironment({ runtime })`. */
  environment: DissectionEnvironment;
  /** Shards worked on at once. @defaultValue 1 */
  concurrency?: number;
  /**
   * Seconds after which the shard of a worker that stopped answering (killed, cut off) is given
   * to another worker: BullMQ's lock duration and stalled-job check interval. @defaultValue 30
   */
  stallSeconds?: number;
  /** One line per shard started and finished, and per failure. */
  log?: (line: string) => void;
  /** Runs opened at once (their models stay loaded between shards). @defaultValue 2 */
  keepOpen?: number;
  /**
   * Seconds the worker waits for Redis once it stops answering; then `onRedisLost` is called (the
   * worker takes no more shards; close it). @defaultValue 180
   */
  redisTimeout?: number;
  /** Called once when Redis has not answered for `redisTimeout` seconds (`ND_INVALID_OPTION` naming the URL). */
  onRedisLost?: (error: NeurodissectError) => void;
}

/** A running worker. */
export interface DissectionWorker {
  /**
   * Stops taking shards, finishes the ones under way, releases the models. Without Redis (it
   * stopped answering) the shards under way are abandoned instead, so it returns within seconds;
   * what they wrote to the store is reused when they are run again.
   */
  close(): Promise<void>;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

/** Resolves after `ms`, or at once when `signal` is aborted. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        done();
      },
      { once: true },
    );
  });
}

/**
 * Starts a worker that takes dissection shards from the queue at `url` until closed: each job
 * names a spec, the shared feature store and a shard; the worker opens the spec (kept open for the
 * next shards of the same run), runs the shard and writes its output, keyed by content, to the
 * store. A shard whose output is already there is not computed again.
 * @throws `ND_INVALID_OPTION` when Redis does not answer at `url`.
 */
export async function startDissectionWorker(options: DissectionWorkerOptions): Promise<DissectionWorker> {
  await checkRedis(options.url);
  const log = options.log ?? (() => {});
  const keepOpen = Math.max(1, options.keepOpen ?? 2);
  const stall = (options.stallSeconds ?? 30) * 1000;
  // Opened runs by spec and store, with how many shards use each now.
  const open = new Map<string, { run: Promise<OpenedDissection>; users: number; used: number }>();

  const acquire = async (data: ShardJobData) => {
    const key = `${await dissectionSpecId(data.spec)}\0${data.cache}`;
    let entry = open.get(key);
    if (!entry) {
      const run = openDissection(data.spec, options.environment, {
        store: createFileFeatureStore({
          directory: data.cache,
          onWarning: (warning) => log(`warning: ${warning.message}`),
        }),
      });
      entry = { run, users: 0, used: 0 };
      open.set(key, entry);
      run.catch(() => open.delete(key));
    }
    entry.users++;
    entry.used = Date.now();
    const held = entry;
    const release = async () => {
      held.users--;
      // Close the least recently used idle runs beyond `keepOpen`.
      const idle = [...open.entries()].filter(([, e]) => e.users === 0).sort((a, b) => a[1].used - b[1].used);
      for (const [k, e] of idle.slice(0, Math.max(0, open.size - keepOpen))) {
        open.delete(k);
        await (await e.run).dispose();
      }
    };
    try {
      return { dissection: await held.run, release };
    } catch (error) {
      held.users--;
      throw error;
    }
  };

  const processor = async (job: Job<ShardJobData, ShardJobResult>): Promise<ShardJobResult> => {
    const { shard, cache } = job.data;
    if (!isAbsolute(cache)) throw new Error(`the feature store ${cache} is not an absolute path`);
    const started = Date.now();
    log(`shard ${job.id} started: ${describeShard(shard)} (try ${job.attemptsMade + 1})`);
    const { dissection, release } = await acquire(job.data);
    try {
      let traffic: ShardTraffic;
      if (shard.kind === 'features') traffic = await dissection.featureShard(shard);
      else if (shard.kind === 'texts') traffic = await dissection.textShard();
      else traffic = await dissection.labelShard(shard.layer, shard);
      const seconds = (Date.now() - started) / 1000;
      log(
        `shard ${job.id} done in ${seconds.toFixed(1)} s: read ${mib(traffic.read)}, wrote ${mib(traffic.written)}${traffic.cached ? ' (already in the store)' : ''}`,
      );
      return { ...traffic, seconds };
    } finally {
      await release();
    }
  };

  const worker = new Worker<ShardJobData, ShardJobResult>(SHARD_QUEUE, processor, {
    connection: redisConnection(options.url),
    prefix: QUEUE_PREFIX,
    concurrency: options.concurrency ?? 1,
    lockDuration: stall,
    stalledInterval: stall,
    maxStalledCount: 2,
  });
  worker.on('failed', (job, error) => {
    if (job) log(`shard ${job.id} failed (try ${job.attemptsMade}): ${error.message}`);
  });
  const timeout = options.redisTimeout ?? DEFAULT_REDIS_TIMEOUT_SECONDS;
  const stopWatch = new AbortController();
  const watch = createRedisWatch({
    url: options.url,
    timeoutSeconds: timeout,
    signal: stopWatch.signal,
    onWaiting: (waiting) =>
      log(
        waiting
          ? `waiting for Redis at ${options.url} (it does not answer); giving up after ${timeout} s without it`
          : `Redis at ${options.url} answers again`,
      ),
  });
  worker.on('error', (error) => {
    watch.noteError(error);
    // While Redis is away the client fails every reconnection: the wait is said once, above.
    if (!watch.waiting && !isConnectionError(error)) log(`worker error: ${error.message}`);
  });
  await worker.waitUntilReady();
  // Redis asked every second, so that its absence is noticed between shards too.
  const watchdog = (async () => {
    const client = await worker.client;
    while (!stopWatch.signal.aborted) {
      try {
        await watch.call(() => (client as unknown as { ping(): Promise<string> }).ping());
      } catch (error) {
        if (!stopWatch.signal.aborted) options.onRedisLost?.(error as NeurodissectError);
        return;
      }
      await sleep(1000, stopWatch.signal);
    }
  })().catch(() => {});
  let closing: Promise<void> | undefined;
  const close = async () => {
    const graceful = worker.close();
    graceful.catch(() => {});
    // Finishing the shards under way needs Redis (to record them): without it, stop now.
    while (
      !(await Promise.race([
        graceful.then(
          () => true,
          () => true,
        ),
        sleep(250).then(() => false),
      ]))
    ) {
      if (watch.waiting) {
        await Promise.race([worker.close(true).catch(() => {}), sleep(2000)]);
        await Promise.race([worker.disconnect().catch(() => {}), sleep(1000)]);
        break;
      }
    }
    stopWatch.abort();
    await watchdog;
    for (const entry of open.values()) await (await entry.run.catch(() => undefined))?.dispose();
    open.clear();
  };
  return {
    close() {
      closing ??= close();
      return closing;
    },
  };
}
