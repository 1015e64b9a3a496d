export { type DistributedDissectionOptions, runDistributedDissection, splitRange } from './coordinator';
export {
  createFileHashes,
  createNodeDissectionEnvironment,
  type DissectionFiles,
  dissectionSpecFromFiles,
  type FileHashes,
  type NodeDissectionEnvironmentOptions,
  type OpenProbeOptions,
  openProbeUri,
} from './node-environment';
export {
  checkRedis,
  describeShard,
  QUEUE_PREFIX,
  redisConnection,
  SHARD_ATTEMPTS,
  SHARD_QUEUE,
  type Shard,
  type ShardJobData,
  type ShardJobResult,
  shardJobId,
} from './queue';
export { DEFAULT_REDIS_TIMEOUT_SECONDS } from './redis-watch';
export { type DissectionWorker, type DissectionWorkerOptions, startDissectionWorker } from './worker';
