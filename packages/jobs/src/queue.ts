import type { DissectionSpec, IndexRange } from '@neurodissect/core';
import { ErrorCode, NeurodissectError } from '@neurodissect/core';
import { Redis, type RedisOptions } from 'ioredis';

/** The BullMQ queue every coordinator and worker of neurodissect uses. */
export const SHARD_QUEUE = 'dissection-shards';
/** The key prefix of that queue in Redis. */
export const QUEUE_PREFIX = 'neurodissect';
/** Tries of a shard before the run fails. */
export const SHARD_ATTEMPTS = 3;

/** One unit of a distributed dissection's work. */
export type Shard =
  | ({ kind: 'features' } & IndexRange)
  | { kind: 'texts' }
  | ({ kind: 'labels'; layer: string; labelers?: string[] } & IndexRange);

/** A job's data: the run's spec, the shared feature store and the shard. */
export interface ShardJobData {
  spec: DissectionSpec;
  /** The feature store folder, shared by the coordinator and every worker. */
  cache: string;
  shard: Shard;
}

/** What a shard job returns. */
export interface ShardJobResult {
  read: number;
  written: number;
  cached: boolean;
  seconds: number;
}

/**
 * A job id that says what the job is: `<run>.features.0-1000`, `<run>.texts`,
 * `<run>.labels.layer4.0-512.clip-dissect.clip-avg`.
 */
export function shardJobId(run: string, shard: Shard): string {
  if (shard.kind === 'texts') return `${run}.texts`;
  const range = `${shard.start}-${shard.end}`;
  if (shard.kind === 'features') return `${run}.features.${range}`;
  const labelers = shard.labelers ? `.${shard.labelers.join('.')}` : '';
  return `${run}.labels.${shard.layer}.${range}${labelers}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** A shard in words, for logs and errors. */
export function describeShard(shard: Shard): string {
  if (shard.kind === 'texts') return 'the concept embeddings';
  if (shard.kind === 'features') return `probe images ${shard.start}–${shard.end - 1}`;
  const labelers = shard.labelers ? ` (${shard.labelers.join(', ')})` : '';
  return `units ${shard.start}–${shard.end - 1} of ${shard.layer}${labelers}`;
}

/**
 * BullMQ connection options for a `redis://[user:password@]host:port[/db]` (or `rediss://`) URL.
 * @throws `ND_INVALID_OPTION` for anything else.
 */
export function redisConnection(url: string): RedisOptions & { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid:');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `${url} is not a Redis URL; give redis://HOST:PORT, e.g. redis://127.0.0.1:6379`,
      { details: { url } },
    );
  }
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    // Workers block on Redis; BullMQ requires unlimited retries per request.
    maxRetriesPerRequest: null,
  };
}

/**
 * Connects once to check that Redis answers at `url`.
 * @throws `ND_INVALID_OPTION` naming the URL and the reason when it does not.
 */
export async function checkRedis(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis({
    ...redisConnection(url),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let cause: NodeJS.ErrnoException | undefined;
  client.on('error', (error: NodeJS.ErrnoException) => {
    cause ??= error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const first = cause ?? (error as NodeJS.ErrnoException);
    const reason = first.code ?? first.message;
    throw new NeurodissectError(
      ErrorCode.InvalidOption,
      `cannot reach Redis at ${url} (${reason}); start redis-server there or give the right --queue`,
      { details: { url } },
    );
  } finally {
    client.disconnect();
  }
}
