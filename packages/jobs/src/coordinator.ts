import { resolve } from 'node:path';
import {
  type DissectionEnvironment,
  type DissectionSpec,
  dissectionSpecId,
  ErrorCode,
  type IndexRange,
  isNeurodissectError,
  type LabelShardRange,
  type LayerLabels,
  NeurodissectError,
  type OpenDissectionOptions,
  type OpenedDissection,
  openDissection,
  type Results,
  throwIfAborted,
} from '@neurodissect/core';
import { createFileFeatureStore } from '@neurodissect/runtime-node';
import { type Job, Queue } from 'bullmq';
import {
  checkRedis,
  describeShard,
  QUEUE_PREFIX,
  redisConnection,
  SHARD_ATTEMPTS,
  SHARD_QUEUE,
  type Shard,
  type ShardJobData,
  shardJobId,
} from './queue';
import { createRedisWatch, DEFAULT_REDIS_TIMEOUT_SECONDS, type RedisWatch } from './redis-watch';

/** Options of {@link runDistributedDissection}. */
export interface DistributedDissectionOptions
  extends Pick<
    OpenDissectionOptions,
    'resume' | 'onResumeMismatch' | 'onLayer' | 'tool' | 'recordedModelUri' | 'signal'
  > {
  /** Redis, as `redis://HOST:PORT`. */
  url: string;
  spec: DissectionSpec;
  /** Where the coordinator opens the spec (to join the shards and write the Results). */
  environment: DissectionEnvironment;
  /** The feature store folder every worker can read and write (a shared volume). */
  cache: string;
  /** Image shards, and label shards per layer. @defaultValue 8 */
  shards?: number;
  /** Shards finished of all planned so far (the total grows once the layers' sizes are known). */
  onShards?: (done: number, total: number) => void;
  /** A line per notable event (a shard retried elsewhere, a shard found finished). */
  log?: (line: string) => void;
  /** How often the queue is asked about the shards, in milliseconds. @defaultValue 250 */
  pollMs?: number;
  /**
   * Seconds the run waits for Redis once it stops answering, before it gives up (`ND_INVALID_OPTION`
   * naming the URL; what was finished stays in the feature store, so the same run started again
   * goes on from there). @defaultValue 180
   */
  redisTimeout?: number;
  /** Called with `true` when Redis stops answering (the run waits for it), `false` when it is back. */
  onRedisWaiting?: (waiting: boolean) => void;
}

/** The queue's calls the coordinator makes, each under the Redis watch. */
type ShardQueue = Pick<Queue<ShardJobData>, 'getJob' | 'getJobState' | 'add'> & {
  /** Any other call to Redis (a job's own), under the watch. */
  call<T>(operation: () => Promise<T>): Promise<T>;
};

function watched(queue: Queue<ShardJobData>, watch: RedisWatch): ShardQueue {
  return {
    getJob: (id) => watch.call(() => queue.getJob(id)),
    getJobState: (id) => watch.call(() => queue.getJobState(id)),
    add: (name, data, opts) => watch.call(() => queue.add(name, data, opts)),
    call: (operation) => watch.call(operation),
  };
}

/** `[0, size)` in `parts` near-equal consecutive ranges (fewer when `size` is smaller). */
export function splitRange(size: number, parts: number): IndexRange[] {
  const count = Math.max(1, Math.min(size, Math.floor(parts)));
  return Array.from({ length: count }, (_, i) => ({
    start: Math.floor((i * size) / count),
    end: Math.floor(((i + 1) * size) / count),
  }));
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * A dissection spread over the workers listening at `url` (`startDissectionWorker`): the probe set
 * in image shards (forward passes and CLIP image embeddings, written to the shared feature store),
 * the concept embeddings, then label shards (ranges of each layer's units, every labeler), merged
 * exactly into the Results a local run of the same spec writes. A shard that fails
 * {@link SHARD_ATTEMPTS} times fails the run naming the shard; a worker that stops mid-shard has
 * its shard retried elsewhere. Shards already in the store (an earlier, interrupted run) are not
 * computed again.
 * @throws `ND_INVALID_OPTION` when Redis does not answer; `ND_SHARD_FAILED` naming the shard that
 * failed every try.
 */
export async function runDistributedDissection(options: DistributedDissectionOptions): Promise<Results> {
  await checkRedis(options.url);
  const cache = resolve(options.cache);
  const store = createFileFeatureStore({
    directory: cache,
    onWarning: (warning) => options.log?.(`warning: ${warning.message}`),
  });
  const supplied = new Map<string, Map<string, LayerLabels | Error>>();
  const dissection = await openDissection(options.spec, options.environment, {
    store,
    resume: options.resume,
    onResumeMismatch: options.onResumeMismatch,
    onLayer: options.onLayer,
    tool: options.tool,
    recordedModelUri: options.recordedModelUri,
    signal: options.signal,
    labels: async (layer) => supplied.get(layer),
  });
  const queue = new Queue<ShardJobData>(SHARD_QUEUE, {
    connection: redisConnection(options.url),
    prefix: QUEUE_PREFIX,
  });
  const watch = createRedisWatch({
    url: options.url,
    timeoutSeconds: options.redisTimeout ?? DEFAULT_REDIS_TIMEOUT_SECONDS,
    signal: options.signal,
    onWaiting: (waiting) => {
      options.log?.(
        waiting
          ? `waiting for Redis at ${options.url} (it does not answer); giving up after ${options.redisTimeout ?? DEFAULT_REDIS_TIMEOUT_SECONDS} s without it`
          : `Redis at ${options.url} answers again`,
      );
      options.onRedisWaiting?.(waiting);
    },
  });
  queue.on('error', (error: Error) => watch.noteError(error));
  try {
    const plan = await dissection.plan();
    if (plan.layers.length > 0) {
      // The workers' spec: only the layers still to label.
      const spec: DissectionSpec = { ...options.spec, layers: [...plan.layers] };
      await labelWithWorkers(options, watched(queue, watch), dissection, spec, cache, plan.images, supplied);
    }
    return await dissection.run();
  } finally {
    // Without Redis a graceful close would wait for it: the connection is dropped instead.
    if (!watch.waiting) await Promise.race([queue.close().catch(() => {}), sleep(5000)]);
    await Promise.race([queue.disconnect().catch(() => {}), sleep(1000)]);
    await dissection.dispose();
  }
}

async function labelWithWorkers(
  options: DistributedDissectionOptions,
  queue: ShardQueue,
  dissection: OpenedDissection,
  spec: DissectionSpec,
  cache: string,
  images: number,
  supplied: Map<string, Map<string, LayerLabels | Error>>,
): Promise<void> {
  const run = await dissectionSpecId(spec);
  const shards = options.shards ?? 8;
  const progress = { done: 0, total: 0 };
  const needsClip = dissection.labelers.some((l) => l.requires.includes('clip'));
  const imageRanges = splitRange(images, shards);
  const first: Shard[] = imageRanges.map((range) => ({ kind: 'features', ...range }));
  if (needsClip) first.push({ kind: 'texts' });
  await runShards(options, queue, run, spec, cache, first, progress);

  const { units } = await dissection.joinFeatureShards(imageRanges);
  // Labelers of summarised features label ranges of units; a labeler of activation maps streams
  // its layer's maps from the model on each pass, so it takes a whole layer at once (splitting its
  // units would repeat those passes per shard).
  const byMaps = (maps: boolean) =>
    dissection.labelers.filter((l) => l.requires.includes('activation-maps') === maps).map((l) => l.id);
  const labelShards: Shard[] = [];
  for (const layer of spec.layers) {
    for (const [labelers, parts] of [
      [byMaps(false), shards],
      [byMaps(true), 1],
    ] as const) {
      if (labelers.length === 0) continue;
      for (const range of splitRange(units[layer], parts)) {
        labelShards.push({ kind: 'labels', layer, ...range, labelers: [...labelers] });
      }
    }
  }
  await runShards(options, queue, run, spec, cache, labelShards, progress);

  for (const layer of spec.layers) {
    const mine = labelShards.filter((shard) => shard.kind === 'labels' && shard.layer === layer);
    // A shard whose labels were dropped from the store since (corrupt or altered) is run again.
    for (let attempt = 1; ; attempt++) {
      try {
        supplied.set(layer, await dissection.mergeLabelShards(layer, mine as LabelShardRange[]));
        break;
      } catch (error) {
        const range = isNeurodissectError(error, ErrorCode.InvalidFormat) ? error.details.range : undefined;
        const shard =
          range && mine.find((s) => s.kind === 'labels' && s.start === range.start && s.end === range.end);
        if (!shard || attempt > SHARD_ATTEMPTS) throw error;
        options.log?.(
          `shard ${shardJobId(run, shard)} (${describeShard(shard)}) is missing from the store; it is run again`,
        );
        await runShards(options, queue, run, spec, cache, [shard], progress);
      }
    }
  }
}

/** Queues the shards (those not queued already) and waits until every one has finished. */
async function runShards(
  options: DistributedDissectionOptions,
  queue: ShardQueue,
  run: string,
  spec: DissectionSpec,
  cache: string,
  shards: readonly Shard[],
  progress: { done: number; total: number },
): Promise<void> {
  const log = options.log ?? (() => {});
  progress.total += shards.length;
  options.onShards?.(progress.done, progress.total);
  const pending = new Map<string, Shard>();
  const enqueue = async (shard: Shard) => {
    const jobId = shardJobId(run, shard);
    const existing = await queue.getJob(jobId);
    const state = existing ? await queue.call(() => existing.getState()) : undefined;
    // A job left finished or failed by an earlier run is queued afresh: its output, when in the
    // store, makes it return at once.
    if (existing && (state === 'completed' || state === 'failed')) await queue.call(() => existing.remove());
    else if (existing && state !== 'unknown') return jobId;
    await queue.add(
      shard.kind,
      { spec, cache, shard },
      {
        jobId,
        attempts: SHARD_ATTEMPTS,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );
    return jobId;
  };
  for (const shard of shards) pending.set(await enqueue(shard), shard);
  const retried = new Set<string>();
  while (pending.size > 0) {
    throwIfAborted(options.signal);
    await sleep(options.pollMs ?? 250);
    for (const [jobId, shard] of [...pending]) {
      // The state first, then the job: its attempts and reason are then at least as new.
      const state = await queue.getJobState(jobId);
      const job: Job<ShardJobData> | undefined =
        state === 'completed' || state === 'unknown' ? undefined : await queue.getJob(jobId);
      if (state === 'completed') {
        pending.delete(jobId);
        progress.done++;
        options.onShards?.(progress.done, progress.total);
      } else if (state === 'failed') {
        throw new NeurodissectError(
          ErrorCode.ShardFailed,
          `The shard ${jobId} (${describeShard(shard)}) failed ${job?.attemptsMade ?? SHARD_ATTEMPTS} times: ${job?.failedReason ?? 'no reason recorded'}`,
          { details: { jobId, shard } },
        );
      } else if (state === 'unknown') {
        // Removed from Redis meanwhile (e.g. by hand): queue it again.
        await enqueue(shard);
      } else if (job && job.attemptsMade > 0 && !retried.has(jobId)) {
        retried.add(jobId);
        log(`shard ${jobId} is being tried again: ${job.failedReason ?? job.stacktrace?.[0] ?? ''}`);
      }
    }
  }
}
